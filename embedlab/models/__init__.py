"""The model zoo: bundled catalog, user models, loading."""

from embedlab.models.catalog import CATALOG
from embedlab.models.loader import load_model
from embedlab.models.registry import available_models, resolve_spec
from embedlab.models.spec import ModelSpec

__all__ = ["CATALOG", "ModelSpec", "available_models", "load_model", "resolve_spec"]
