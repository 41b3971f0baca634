"""embedlab: explore, compare, evaluate and fine-tune text embedding models."""

from embedlab.embedder import Embedder
from embedlab.errors import DataError, EmbedlabError, ModelLoadError, OptionError
from embedlab.models import (
    CATALOG,
    ModelSpec,
    available_models,
    load_model,
    resolve_spec,
)

__all__ = [
    "CATALOG",
    "DataError",
    "Embedder",
    "EmbedlabError",
    "ModelLoadError",
    "ModelSpec",
    "OptionError",
    "available_models",
    "load_model",
    "resolve_spec",
]
