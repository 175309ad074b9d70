"""CLI commands for the restoration capability: denoise, reconstruct, translate (all via run_tool)."""

from __future__ import annotations

from typing import Optional

import typer

from agent.commands.output import friendly_errors, run_tool_command


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""

    @app.command("denoise")
    @friendly_errors
    def denoise(
        image: str = typer.Argument(..., help="CT image: workspace id (img-1) or a DICOM/NIfTI/NPZ path (in HU)."),
        strength: float = typer.Option(1.0, help="Blend of the denoised output, 0-1 (1 = fully denoised)."),
        simulate_dose: Optional[float] = typer.Option(
            None, "--simulate-dose", help="Simulate a scan at this dose fraction (0.05-1.0) first; PSNR/SSIM against the noise-free reference."),
        seed: int = typer.Option(0, help="Seed of the simulated noise."),
        out: Optional[str] = typer.Option(None, help="File path for the denoised PNG (DICOM beside it)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Denoise a low-dose CT slice; the output is marked SYNTHETIC and waits for expert review."""
        run_tool_command("denoise_image", {"image": image, "strength": strength, "simulate_dose": simulate_dose,
                                           "seed": seed, "out": out}, as_json)

    @app.command("reconstruct")
    @friendly_errors
    def reconstruct(
        image: str = typer.Argument(..., help="MR image (undersampling is simulated from it) or a .npy/.npz complex k-space."),
        acceleration: int = typer.Option(4, help="Undersampling factor: 4 or 8."),
        mask: str = typer.Option("equispaced", "--mask", help="Column mask: equispaced or random."),
        mask_seed: int = typer.Option(0, "--mask-seed", help="Seed of the sampling mask."),
        out: Optional[str] = typer.Option(None, help="File path for the reconstructed PNG."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Reconstruct an MR image from undersampled k-space (U-Net + exact data consistency)."""
        run_tool_command("reconstruct_mri", {"image": image, "acceleration": acceleration, "mask_type": mask,
                                             "mask_seed": mask_seed, "out": out}, as_json)

    @app.command("translate")
    @friendly_errors
    def translate(
        image: str = typer.Argument(..., help="Source image: workspace id or path (MR to make a CT, CT to make an MR)."),
        to: str = typer.Option("CT", "--to", help="Target modality: CT or MR."),
        reference: Optional[str] = typer.Option(None, help="True target image in the same geometry, to report the error."),
        out: Optional[str] = typer.Option(None, help="File path for the translated PNG."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Synthesise another modality (CycleGAN trained on unpaired slices); output marked SYNTHETIC."""
        run_tool_command("translate_modality", {"image": image, "target_modality": to.upper(),
                                                "reference": reference, "out": out}, as_json)
