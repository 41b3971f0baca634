"""``load_model(name)``: one entry point for every kind of model, cached encode by default."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from embedlab.cache import CachedEmbedder, EmbeddingCache
from embedlab.embedder import Progress
from embedlab.errors import ModelLoadError
from embedlab.models.assets import (
    folder_fingerprint,
    package_file,
    prepare_gguf,
    prepare_mpnet,
)
from embedlab.models.folder import read_st_folder
from embedlab.models.registry import hub_snapshot, resolve_spec
from embedlab.models.spec import ModelSpec
from embedlab.models.static import load_wordllama
from embedlab.models.transformer import load_dense, load_transformer
from embedlab.paths import cache_dir, models_dir

log = logging.getLogger(__name__)

_default_cache: EmbeddingCache | None = None


def default_cache() -> EmbeddingCache:
    global _default_cache
    root = cache_dir() / "embeddings"
    if _default_cache is None or _default_cache.root != root:
        _default_cache = EmbeddingCache(root)
    return _default_cache


def model_folder(spec: ModelSpec, progress: Progress | None = None) -> Path:
    """The local folder holding ``spec``'s weights, preparing bundled ones on first use."""
    if spec.source == "package":
        return package_file(*spec.location.split(":", 1))
    if spec.source == "mpnet-parts":
        return prepare_mpnet(spec.location, models_dir(), progress)
    if spec.source == "gguf-package":
        return prepare_gguf(spec.location, models_dir(), progress)
    if spec.source == "hub":
        return hub_snapshot(spec.location)
    path = Path(spec.location).expanduser()
    if not path.is_dir():
        raise ModelLoadError(f"Model folder {path} does not exist (model {spec.name!r}).")
    return path


def load_model(
    name: str | ModelSpec,
    *,
    cache: bool | EmbeddingCache = True,
    progress: Progress | None = None,
):
    """Load a model by name (``minilm``, ``smollm2@mean``, a folder, ``org/model``) or spec.

    Returns an Embedder whose ``encode`` reuses the on-disk cache unless ``cache=False``. The
    object also carries ``spec``, ``dim``, ``parameters``, ``max_seq_length`` and ``load_seconds``.
    """
    start = time.perf_counter()
    spec = resolve_spec(name) if isinstance(name, str) else name
    if spec.kind == "static" and spec.source == "wordllama":
        inner = load_wordllama(spec)
    elif spec.kind == "static":  # a model distilled here (models/distilled.py)
        from embedlab.models.distilled import load_distilled

        inner = load_distilled(spec)
    else:
        folder = model_folder(spec, progress)
        st_folder = read_st_folder(folder)
        backbone = st_folder["transformer_dir"]
        try:
            fingerprint = folder_fingerprint(backbone)
            head = None
            if st_folder["dense"]:
                if len(st_folder["dense"]) > 1:
                    raise ModelLoadError(f"{folder} has {len(st_folder['dense'])} Dense modules; embedlab applies one.")
                head = load_dense(st_folder["dense"][0])
                fingerprint += "+" + folder_fingerprint(st_folder["dense"][0])
            if spec.backend == "torch":
                inner = load_transformer(spec, backbone, fingerprint=fingerprint, head=head)
            else:
                from embedlab.models.onnx_backend import load_variant

                inner = load_variant(spec, backbone, fingerprint=fingerprint, head=head, step=_build_step(progress))
        except ModelLoadError:
            raise
        except Exception as exc:  # transformers raises many types for "this is not a model"
            raise ModelLoadError(f"Could not load model {spec.name!r} from {backbone}: {exc}") from None
    inner.load_seconds = time.perf_counter() - start
    if cache is False:
        return inner
    store = cache if isinstance(cache, EmbeddingCache) else default_cache()
    return CachedEmbedder(inner, store)


def _build_step(progress: Progress | None):
    """A variant's one-time build says what it is doing (a log line the CLI shows) and moves the bar."""
    def step(message: str, done: int, total: int) -> None:
        log.warning(message)
        if progress:
            progress(done, total)
    return step
