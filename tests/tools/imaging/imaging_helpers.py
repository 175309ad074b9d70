"""Small synthetic DICOM objects for the imaging tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def make_ct_slice(position_z: float, instance: int, series_uid: str, study_uid: str, size: int = 16,
                  value: int = 0, frame_of_reference: str | None = None) -> Dataset:
    """A minimal, valid CT slice with HU = stored - 1024."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.FrameOfReferenceUID = frame_of_reference or generate_uid()
    ds.Modality = "CT"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", "PID-12345", "19700101"
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [0.0, 0.0, float(position_z)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 2.0
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = np.full((size, size), 1024 + value, dtype=np.uint16).tobytes()
    return ds


def write_series(folder: Path, n: int = 5, size: int = 16, shuffle: bool = True) -> list[Path]:
    """`n` slices whose HU value equals 10 * slice index along z, written in shuffled file order."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid, study_uid, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
    order = list(range(n))
    if shuffle:
        order = order[::2] + order[1::2]
    paths = []
    for file_index, k in enumerate(order):
        ds = make_ct_slice(position_z=2.5 * k, instance=n - k, series_uid=series_uid, study_uid=study_uid,
                           size=size, value=10 * k, frame_of_reference=frame_of_reference)
        path = folder / f"file{file_index:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
