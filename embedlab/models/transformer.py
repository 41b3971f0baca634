"""Encoders and decoders from transformers: tokenizer + backbone + a pooling function."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from embedlab.embedder import (
    ENCODE_FORMAT_VERSION,
    Progress,
    check_finite,
    check_texts,
    l2_normalize,
    length_sorted_batches,
)
from embedlab.errors import ModelLoadError
from embedlab.models.spec import ModelSpec
from embedlab.pooling import pool, positions_from_mask

log = logging.getLogger(__name__)


class TransformerEmbedder:
    """Any transformers backbone whose last hidden state is pooled into one vector per text."""

    def __init__(self, spec: ModelSpec, model, tokenizer, *, fingerprint: str,
                 head: torch.nn.Module | None = None, inputs: frozenset[str] | None = None,
                 weight_bytes: int | None = None) -> None:
        """``model`` is the backbone: a transformers model, or any callable taking the collated batch as
        keyword arguments and returning ``.last_hidden_state`` (the ONNX Runtime runner), with ``config``
        and ``num_parameters()``. ``inputs``: the backbone's input names; None reads a torch model's
        forward signature. ``weight_bytes``: the backbone's weights in memory when it is not a torch module
        (None: counted from the torch tensors by whoever needs it)."""
        self.spec = spec
        self.name = spec.name
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.fingerprint = fingerprint
        self.weight_bytes = weight_bytes
        # An optional projection after pooling (a sentence-transformers Dense module, e.g. from a
        # fine-tune with a projection head); the embedding size is then the head's output size.
        self.head = head.eval() if head is not None else None
        self.dim = int(head.out_features) if head is not None else int(model.config.hidden_size)
        model_max = getattr(model.config, "max_position_embeddings", None) or spec.max_seq_length
        self.max_seq_length = min(spec.max_seq_length, int(model_max))
        self.pad_id = _pad_id(tokenizer)
        self.eos_id = tokenizer.eos_token_id
        if spec.append_eos and self.eos_id is None:
            raise ModelLoadError(f"Model {spec.name!r} asks to append EOS but its tokenizer has no EOS token.")
        # Only some backbones take position_ids (BERT, Llama, MPNet do; DistilBERT does not).
        self._takes_positions = "position_ids" in (inputs if inputs is not None else _forward_params(model))

    @property
    def parameters(self) -> int:
        return int(self.model.num_parameters())

    def cache_key(self, role: str) -> str:
        """Everything that decides a text's vector except the text itself."""
        parts = {
            "v": ENCODE_FORMAT_VERSION,
            "model": self.fingerprint,
            "pooling": self.spec.pooling,
            "prompt": self.spec.prompt(role),
            "max_len": self.max_seq_length,
            "eos": self.spec.append_eos,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def tokenize(self, texts: Sequence[str], *, role: str = "document") -> list[list[int]]:
        """Token ids per text, prompt included, truncated to the model's maximum length."""
        prompt = self.spec.prompt(role)
        room = self.max_seq_length - (1 if self.spec.append_eos else 0)
        ids = self.tokenizer(
            [prompt + t for t in texts], truncation=True, max_length=room, add_special_tokens=True
        )["input_ids"]
        if self.spec.append_eos:
            ids = [seq + [self.eos_id] for seq in ids]
        # A decoder tokenizer may give nothing for an empty text; pool over something real.
        fallback = self.eos_id if self.eos_id is not None else self.pad_id
        return [seq if seq else [fallback] for seq in ids]

    def token_lengths(self, texts: Sequence[str], *, role: str = "document") -> np.ndarray:
        """Untruncated token counts, so callers can tell the user how many texts will be cut."""
        prompt = self.spec.prompt(role)
        # verbose=False: counting past the limit is the point here, not a mistake to warn about
        ids = self.tokenizer([prompt + t for t in texts], add_special_tokens=True, verbose=False)["input_ids"]
        return np.array([len(x) + (1 if self.spec.append_eos else 0) for x in ids])

    def _collate(self, seqs: list[list[int]]) -> dict[str, torch.Tensor]:
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, seq in enumerate(seqs):
            span = slice(width - len(seq), width) if self.spec.padding_side == "left" else slice(0, len(seq))
            ids[row, span] = torch.tensor(seq)
            mask[row, span] = 1
        batch = {"input_ids": ids, "attention_mask": mask}
        if self._takes_positions:
            batch["position_ids"] = positions_from_mask(mask)
        return batch

    def hidden_states(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Last hidden states (batch, seq, dim) and the mask (batch, seq) for one batch."""
        batch = self._collate(seqs)
        with torch.inference_mode():
            out = self.model(**batch)
        return out.last_hidden_state, batch["attention_mask"]

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: str = "document",
        batch_size: int = 32,
        progress: Progress | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        texts = check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        seqs = self.tokenize(texts, role=role)
        done = 0
        for idx in length_sorted_batches([len(s) for s in seqs], batch_size):
            hidden, mask = self.hidden_states([seqs[i] for i in idx])
            pooled = pool(hidden, mask, self.spec.pooling)
            if self.head is not None:
                with torch.inference_mode():
                    pooled = self.head(pooled)
            out[idx] = pooled.float().numpy()
            done += len(idx)
            if progress:
                progress(done, len(texts))
        check_finite(out, model=self.name, texts=texts)
        return l2_normalize(out) if normalize else out


def _pad_id(tokenizer) -> int:
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    if tokenizer.eos_token_id is not None:
        return int(tokenizer.eos_token_id)
    return 0  # masked out anyway; only needs to be a valid id


def _forward_params(model: torch.nn.Module) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def load_dense(folder: Path) -> torch.nn.Module:
    """A sentence-transformers Dense module folder (config.json + weights) as a Linear layer.
    Only an identity activation is supported: that is what embedlab's projection heads save."""
    config = json.loads((folder / "config.json").read_text())
    activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
    if not activation.endswith("Identity"):
        raise ModelLoadError(f"Dense module {folder} uses activation {activation}; only Identity is supported.")
    layer = torch.nn.Linear(int(config["in_features"]), int(config["out_features"]), bias=bool(config.get("bias", True)))
    weights = folder / "model.safetensors"
    if weights.exists():
        from safetensors.torch import load_file

        state = load_file(str(weights))
    else:
        state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    layer.load_state_dict({k.removeprefix("linear."): v for k, v in state.items()})
    return layer


def load_transformer(spec: ModelSpec, folder: Path | str, *, fingerprint: str, head: torch.nn.Module | None = None,
                     **hub_kwargs) -> TransformerEmbedder:
    """Load tokenizer + backbone from a plain transformers folder (or hub ID) for ``spec``."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # we report progress ourselves; tqdm bars clutter CLI output
    tokenizer = AutoTokenizer.from_pretrained(str(folder), **hub_kwargs)
    model = AutoModel.from_pretrained(str(folder), dtype=torch.float32, **hub_kwargs)
    return TransformerEmbedder(spec, model, tokenizer, fingerprint=fingerprint, head=head)
