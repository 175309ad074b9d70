"""One settings object for the whole product: a TOML file plus `RADAGENT_*` environment variables.

Precedence, highest first: constructor arguments, environment (`RADAGENT_LLM__BACKEND=openai`),
the TOML file (`RADAGENT_CONFIG`, else `./radagent.toml`, else `<data_dir>/config.toml`), defaults.
Each embedded engine has a server alternative selected here: an OpenAI-compatible LLM server,
a Chroma server, PostgreSQL.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    """`./.radagent` when the working directory already has one, else `~/.radagent`."""
    local = Path.cwd() / ".radagent"
    return local if local.is_dir() else Path.home() / ".radagent"


class LLMSettings(BaseModel):
    """Which language model answers, and where it runs."""

    backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    # A catalogue name ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m") or a GGUF path.
    model: str = "qwen2.5-coder-1.5b"
    # OpenAI-compatible server (llama.cpp server, vLLM): used when backend == "openai".
    base_url: str = "http://127.0.0.1:8080/v1"
    api_model: str = "default"
    api_key: str = "not-needed"
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1)
    n_ctx: int = 4096
    n_gpu_layers: int = -1  # offloads all layers when llama.cpp was built with GPU support; no-op on CPU
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 0


class KnowledgeSettings(BaseModel):
    """The vector store: embedded Chroma by default, a Chroma server when `chroma_url` is set."""

    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000
    collection: str = "radagent"
    chunk_size: int = 800
    chunk_overlap: int = 120
    max_file_mb: float = 50.0


class StoreSettings(BaseModel):
    """Conversations, reviews and the audit log: SQLite in the data dir, or PostgreSQL by URL."""

    database_url: str | None = None  # e.g. postgresql://user:pass@127.0.0.1:5432/radagent


class ImagingSettings(BaseModel):
    """Limits and device choice for the imaging tools."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_pixels: int = 64_000_000  # refused before decoding above this
    max_upload_mb: float = 512.0
    max_generate_n: int = 64
    allowed_dirs: list[Path] = Field(default_factory=list)  # extra folders images may be opened from


class UIUser(BaseModel):
    """A login for the web page; only the expert role may confirm or reject findings."""

    name: str
    password: str
    role: Literal["viewer", "expert"] = "viewer"


class UISettings(BaseModel):
    """The Gradio server. Binds to loopback unless told otherwise; exposing it requires logins."""

    host: str = "127.0.0.1"
    port: int = 7860
    users: list[UIUser] = Field(default_factory=list)
    concurrency_limit: int = 2
    max_upload_mb: float = 200.0


class Settings(BaseSettings):
    """The effective configuration; `radagent config show` prints it."""

    model_config = SettingsConfigDict(
        env_prefix="RADAGENT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    model_dir: Path | None = None  # assembled GGUF cache; defaults to <data_dir>/models
    llm: LLMSettings = Field(default_factory=LLMSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    imaging: ImagingSettings = Field(default_factory=ImagingSettings)
    ui: UISettings = Field(default_factory=UISettings)
    user: str = Field(default_factory=lambda: os.environ.get("USER", "local"))
    role: Literal["viewer", "expert"] = "viewer"

    @model_validator(mode="after")
    def _fill_derived_paths(self) -> "Settings":
        self.data_dir = self.data_dir.expanduser()
        if self.model_dir is None:
            self.model_dir = self.data_dir / "models"
        self.model_dir = self.model_dir.expanduser()
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = config_file_path()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    # Paths every component agrees on.
    @property
    def database_path(self) -> Path:
        return self.data_dir / "radagent.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def workspace_dir(self) -> Path:
        return self.data_dir / "workspace"

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.model_dir, self.workspace_dir, self.outputs_dir):
            Path(path).mkdir(parents=True, exist_ok=True)


def config_file_path() -> Path | None:
    """The TOML file in force, if any: `RADAGENT_CONFIG`, `./radagent.toml`, `<data_dir>/config.toml`."""
    explicit = os.environ.get("RADAGENT_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    local = Path.cwd() / "radagent.toml"
    if local.is_file():
        return local
    data_dir = Path(os.environ.get("RADAGENT_DATA_DIR", "") or _default_data_dir()).expanduser()
    candidate = data_dir / "config.toml"
    return candidate if candidate.is_file() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the env."""
    return Settings()
