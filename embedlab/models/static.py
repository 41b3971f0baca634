"""Static embeddings (WordLlama): a token-vector table averaged over the text; no transformer."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from embedlab.embedder import (
    ENCODE_FORMAT_VERSION,
    Progress,
    check_batch_size,
    check_finite,
    check_texts,
    l2_normalize,
)
from embedlab.errors import ModelLoadError
from embedlab.models.assets import file_fingerprint
from embedlab.models.spec import ModelSpec


class StaticEmbedder:
    def __init__(self, spec: ModelSpec, inference, *, fingerprint: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.inference = inference
        self.fingerprint = fingerprint
        self.dim = int(inference.embedding.shape[1])
        self.max_seq_length = spec.max_seq_length

    @property
    def parameters(self) -> int:
        return int(self.inference.embedding.size)

    def cache_key(self, role: str) -> str:
        parts = {"v": ENCODE_FORMAT_VERSION, "model": self.fingerprint, "prompt": self.spec.prompt(role)}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def token_lengths(self, texts: Sequence[str], *, role: str = "document") -> np.ndarray:
        prompt = self.spec.prompt(role)
        # tokenize() pads a batch to its longest text: count the real tokens, not the padding.
        return np.array([sum(e.attention_mask) for e in self.inference.tokenize([prompt + t for t in texts])])

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: str = "document",
        batch_size: int = 512,
        progress: Progress | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        texts = check_texts(texts)
        prompt = self.spec.prompt(role)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        check_batch_size(batch_size)
        step = max(batch_size, 256)  # progress in chunks: a table lookup per text is quick
        for start in range(0, len(texts), step):
            chunk = [prompt + t for t in texts[start : start + step]]
            out[start : start + len(chunk)] = self.inference.embed(chunk, norm=False, batch_size=batch_size)
            if progress:
                progress(start + len(chunk), len(texts))
        check_finite(out, model=self.name, texts=texts)
        return l2_normalize(out) if normalize else out


def load_wordllama(spec: ModelSpec) -> StaticEmbedder:
    found = importlib.util.find_spec("wordllama")
    if found is None or not found.submodule_search_locations:
        raise ModelLoadError("The wordllama package is not installed: pip install -r requirements.txt")
    package_dir = Path(list(found.submodule_search_locations)[0])
    config, dim = spec.location.split(":")
    weights = package_dir / "weights" / f"{config}_{dim}.safetensors"
    if not weights.exists():
        raise ModelLoadError(f"WordLlama weights {weights.name} are not inside the installed package.")
    from wordllama import WordLlama

    # Its plain load() would try the hub; point it at the package's own files and forbid downloads.
    inference = WordLlama.load(config=config, dim=int(dim), cache_dir=package_dir, disable_download=True)
    return StaticEmbedder(spec, inference, fingerprint=file_fingerprint([weights]))
