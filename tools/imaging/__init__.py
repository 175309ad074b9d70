"""Images in and out, safely: loading, the session workspace, de-identification and the derived-output writer.

Public entry points (import from the modules, this package stays import-light):
- `load.load_image(ref) -> types.LoadedImage`: workspace id (`img-3`) or path to DICOM, series
  folder/ZIP, NIfTI, PNG/JPEG or NPZ; CT in HU, MONOCHROME1 inverted, spacing in mm.
- `workspace.get_workspace(session=None).add(path) / .resolve(id) / .list()`; the
  `workspace.current_session` context variable selects the session for ids.
- `windowing.apply_window(pixels, "lung" | centre, width)`, `windowing.to_display(loaded)`.
- `deid.deidentified_metadata(ds)` (safe for prompts), `deid.deidentify_dataset(ds)`.
- `derived.write_derived(pixels, tool=, model=, source=, ...)`,
  `derived.write_derived_mask(mask, source=, tool=, model=, label=, ...)`: the only way a
  generated or changed image leaves the product (SYNTHETIC in pixels, tags and PNG).
- `access.sample_file("RG1_UNCR.dcm")`: the bundled real DICOM samples (CR, CT, MR, ...).
"""
