"""embedlab: explore, compare, evaluate and fine-tune text embedding models."""

from embedlab.embedder import Embedder
from embedlab.errors import DataError, EmbedlabError, ModelLoadError
from embedlab.models import CATALOG, ModelSpec, available_models, load_model, resolve_spec

__all__ = [
    "CATALOG",
    "DataError",
    "Embedder",
    "EmbedlabError",
    "ModelLoadError",
    "ModelSpec",
    "available_models",
    "load_model",
    "resolve_spec",
]
