"""Low-dose CT denoising, undersampled MRI reconstruction and modality translation."""
