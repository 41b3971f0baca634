"""Second-stage rerankers: a cross-encoder, late interaction (ColBERT-style MaxSim) over an
encoder's token vectors, and a decoder LM asked "is this relevant?".

Every reranker has ``name`` and ``score(query, docs) -> np.ndarray`` (higher = more relevant).
Names the app and CLI accept (``reranker_choices``):
  ``maxsim:MODEL``        MaxSim over MODEL's token embeddings (an encoder, e.g. maxsim:minilm)
  ``llm:MODEL``           P("yes") from a decoder LM's next-token distribution (llm:smollm2)
  ``qlm:MODEL``           query likelihood log P(query | document) under a decoder LM (qlm:smollm2);
                          MODEL may be a decoder fine-tuned here: one model, embedder and reranker
  ``cross-encoder:WHERE`` a sentence-transformers CrossEncoder: a folder, a hub ID, or the name of
                          a reranker trained in the app (saved under <data folder>/models/rerankers/)
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch

from embedlab.errors import ModelLoadError
from embedlab.paths import models_dir

log = logging.getLogger(__name__)


class Reranker(Protocol):
    name: str

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray: ...


def rerankers_dir() -> Path:
    path = models_dir() / "rerankers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def trained_rerankers() -> list[str]:
    """Cross-encoders trained in the app, by folder name."""
    return sorted(p.name for p in rerankers_dir().iterdir() if (p / "config.json").is_file())


NO_RERANKER = "none"  # the first stage's order, unchanged
DEFAULT_RERANKER = NO_RERANKER
"""The app's default: every reranker re-reads each candidate for each query (issue 14 saw MaxSim over
MiniLM take about 3 s per query, ~15 minutes for the Retrieval lab's 300 evaluation queries, when it
was the default), so reranking is opt-in, with its cost shown (``rerank_cost``). The CLI's
``--rerank`` has no default either."""
BUNDLED_RERANKERS = ("maxsim:minilm", "maxsim:mpnet", "qlm:smollm2", "llm:smollm2")


def reranker_choices() -> list[str]:
    """The bundled rerankers, every decoder fine-tuned in the app as an LM reranker, then every
    cross-encoder trained in the app."""
    return [*BUNDLED_RERANKERS, *[f"{kind}:{n}" for n in finetuned_decoders() for kind in ("qlm", "llm")],
            *[f"cross-encoder:{n}" for n in trained_rerankers()]]


def finetuned_decoders() -> list[str]:
    """Decoders fine-tuned as embedders here: their merged weights are still a causal LM (GRIT's point)."""
    from embedlab.models.registry import finetuned_specs

    return sorted(name for name, spec in finetuned_specs().items() if spec.kind == "decoder" and spec.backend == "torch")


# ---- late interaction ---------------------------------------------------------------------------
@dataclass
class TokenMatrix:
    tokens: list[str]
    vectors: np.ndarray  # (n_tokens, dim), unit rows


class MaxSimReranker:
    """ColBERT's late interaction (Khattab & Zaharia 2020): score = mean over query tokens of the
    best cosine with any document token. Token vectors are the encoder's last hidden states, L2
    normalised; special and padding tokens are left out. No ColBERT weights ship in a package, so
    this uses a sentence encoder's token outputs as they are (an untrained late-interaction head)."""

    def __init__(self, embedder, *, cache_limit: int = 20_000) -> None:
        inner = getattr(embedder, "inner", embedder)
        if not hasattr(inner, "hidden_states"):
            raise ModelLoadError(f"{embedder.name} has no token-level outputs; MaxSim needs a transformer encoder.")
        self.model = inner
        self.name = f"maxsim:{embedder.name}"
        self._cache: dict[str, TokenMatrix] = {}
        self._cache_limit = cache_limit
        self._special = set(getattr(inner.tokenizer, "all_special_ids", []) or [])

    def tokens(self, texts: Sequence[str], *, role: str = "document", batch_size: int = 16) -> list[TokenMatrix]:
        out: list[TokenMatrix | None] = [None] * len(texts)
        keys = [hashlib.sha1(f"{role}\x1f{t}".encode()).hexdigest() for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        for i in range(len(texts)):
            if keys[i] in self._cache:
                out[i] = self._cache[keys[i]]
        seqs = self.model.tokenize([texts[i] for i in todo], role=role) if todo else []
        order = np.argsort([-len(s) for s in seqs], kind="stable")
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            hidden, mask = self.model.hidden_states([seqs[j] for j in idx])
            for row, j in enumerate(idx):
                seq = seqs[j]
                offset = hidden.shape[1] - len(seq) if self.model.spec.padding_side == "left" else 0
                keep = [p for p, tok in enumerate(seq) if tok not in self._special] or list(range(len(seq)))
                vecs = hidden[row, [offset + p for p in keep]].float()
                vecs = torch.nn.functional.normalize(vecs, dim=-1).numpy().astype(np.float16)
                matrix = TokenMatrix(self.model.tokenizer.convert_ids_to_tokens([seq[p] for p in keep]), vecs)
                out[todo[j]] = matrix
                if len(self._cache) < self._cache_limit:
                    self._cache[keys[todo[j]]] = matrix
        return out  # type: ignore[return-value]

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        q = self.tokens([query], role="query")[0].vectors.astype(np.float32)
        return np.array([float((q @ d.vectors.astype(np.float32).T).max(axis=1).mean())
                         for d in self.tokens(list(docs))], dtype=np.float32)

    def explain(self, query: str, doc: str) -> tuple[list[str], list[str], np.ndarray]:
        """Query tokens, document tokens and their cosine matrix: the row maxima average to the score."""
        q = self.tokens([query], role="query")[0]
        d = self.tokens([doc])[0]
        return q.tokens, d.tokens, q.vectors.astype(np.float32) @ d.vectors.astype(np.float32).T


# ---- decoder LM as a pointwise judge ------------------------------------------------------------
LLM_SYSTEM = "You judge search results. Answer with one word: yes or no."
LLM_PROMPT = "Query: {query}\n\nDocument: {doc}\n\nIs the document relevant to the query? Answer yes or no."


class LLMReranker:
    """Relevance = P(yes) / (P(yes) + P(no)) for the first answer token, from a chat-tuned decoder
    (the pointwise yes/no recipe of e.g. Nogueira et al. 2020 'monoT5', here with a causal LM).
    Documents are cut to ``doc_tokens`` tokens so one pair fits the model comfortably."""

    def __init__(self, model_name: str = "smollm2", *, doc_tokens: int = 192, batch_size: int = 8) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from embedlab.models.loader import model_folder
        from embedlab.models.registry import read_st_folder, resolve_spec

        spec = resolve_spec(model_name)
        if spec.kind != "decoder":
            raise ModelLoadError(f"llm:{model_name}: the LLM reranker needs a decoder model; {model_name} is {spec.kind}.")
        folder = read_st_folder(model_folder(spec))["transformer_dir"]
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # A decoder fine-tuned here is saved as its backbone alone (loop.save): a tied LM head (SmolLM2)
        # is the input embeddings and loads with them; an untied one would be random, so refuse it.
        model, info = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, output_loading_info=True)
        if any(key.startswith("lm_head") for key in info["missing_keys"]):
            raise ModelLoadError(f"{model_name}: the folder {folder} has no LM head (only a decoder whose head is tied "
                                 "to its input embeddings keeps one when fine-tuned as an embedder), so it cannot "
                                 "score text as a language model.")
        self.model = model.eval()
        self.name = f"llm:{spec.name}"
        self.doc_tokens = doc_tokens
        self.batch_size = batch_size
        self.yes_ids = self._first_ids(["yes", "Yes", " yes", " Yes"])
        self.no_ids = self._first_ids(["no", "No", " no", " No"])

    def _first_ids(self, words: list[str]) -> list[int]:
        return sorted({self.tokenizer.encode(w, add_special_tokens=False)[0] for w in words})

    def _prompt(self, query: str, doc: str) -> str:
        ids = self.tokenizer.encode(doc, add_special_tokens=False)[: self.doc_tokens]
        messages = [{"role": "system", "content": LLM_SYSTEM},
                    {"role": "user", "content": LLM_PROMPT.format(query=query, doc=self.tokenizer.decode(ids))}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(docs), dtype=np.float32)
        prompts = [self._prompt(query, d) for d in docs]
        for b in range(0, len(prompts), self.batch_size):
            batch = self.tokenizer(prompts[b : b + self.batch_size], return_tensors="pt", padding=True,
                                   add_special_tokens=False)
            with torch.inference_mode():  # only the last position's logits: the vocabulary is 49k wide
                logits = self.model(**batch, logits_to_keep=1).logits[:, -1, :].float()
            yes = torch.logsumexp(logits[:, self.yes_ids], dim=-1)
            no = torch.logsumexp(logits[:, self.no_ids], dim=-1)
            out[b : b + len(batch["input_ids"])] = torch.sigmoid(yes - no).numpy()
        return out


class QueryLikelihoodReranker(LLMReranker):
    """Relevance = mean log P(query tokens | document) under a decoder LM: 'unsupervised passage
    reranking' (UPR, Sachan et al. 2022). It asks the LM to *generate* the query from the document
    rather than to judge, which small LMs do far better than answering yes/no."""

    PROMPT = "Passage: {doc}\nPlease write a search query for this passage.\nQuery:"

    def __init__(self, model_name: str = "smollm2", **kwargs) -> None:
        super().__init__(model_name, **kwargs)
        self.name = f"qlm:{model_name}"
        self.tokenizer.padding_side = "right"

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        q_ids = self.tokenizer.encode(" " + query.strip(), add_special_tokens=False)[:64] or [self.tokenizer.eos_token_id]
        seqs = []
        for d in docs:
            doc = self.tokenizer.decode(self.tokenizer.encode(d, add_special_tokens=False)[: self.doc_tokens])
            seqs.append(self.tokenizer.encode(self.PROMPT.format(doc=doc), add_special_tokens=False))
        out = np.zeros(len(docs), dtype=np.float32)
        pad = self.tokenizer.pad_token_id
        for b in range(0, len(seqs), self.batch_size):
            chunk = seqs[b : b + self.batch_size]
            width = max(len(s) for s in chunk) + len(q_ids)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, prefix in enumerate(chunk):
                full = prefix + q_ids
                ids[row, : len(full)] = torch.tensor(full)
                mask[row, : len(full)] = 1
            with torch.inference_mode():
                hidden = self.model.model(input_ids=ids, attention_mask=mask).last_hidden_state
                # The LM head only where the query's tokens are predicted, not over the whole sequence.
                rows = torch.arange(len(chunk)).repeat_interleave(len(q_ids))
                cols = torch.cat([torch.arange(len(p) - 1, len(p) - 1 + len(q_ids)) for p in chunk])
                logp = self.model.lm_head(hidden[rows, cols]).float().log_softmax(-1)
                picked = logp[torch.arange(len(rows)), torch.tensor(q_ids).repeat(len(chunk))]
            out[b : b + len(chunk)] = picked.view(len(chunk), len(q_ids)).mean(dim=1).numpy()
        return out


# ---- cross-encoder --------------------------------------------------------------------------------
class CrossEncoderReranker:
    def __init__(self, where: str, *, batch_size: int = 16) -> None:
        from sentence_transformers import CrossEncoder

        from embedlab.models.registry import is_hub_id

        path = rerankers_dir() / where
        if path.is_dir():
            location = str(path)
        elif Path(where).expanduser().is_dir():
            location = str(Path(where).expanduser())
        elif is_hub_id(where):
            location = where
        else:
            raise ModelLoadError(f"No cross-encoder {where!r}: not a trained reranker "
                                 f"({', '.join(trained_rerankers()) or 'none yet'}), a folder, or a hub ID.")
        try:
            self.model = CrossEncoder(location, device="cpu")
        except Exception as exc:  # offline hub IDs, folders that are not cross-encoders
            raise ModelLoadError(f"Could not load cross-encoder {where!r}: {exc}") from None
        self.name = f"cross-encoder:{where}"
        self.batch_size = batch_size

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        scores = self.model.predict([(query, d) for d in docs], batch_size=self.batch_size, show_progress_bar=False)
        return np.asarray(scores, dtype=np.float32).reshape(len(docs), -1)[:, -1]


RERANKER_KINDS = ("maxsim", "llm", "qlm", "cross-encoder", "ce")  # "ce" is short for cross-encoder


def parse_reranker_name(name: str) -> tuple[str, str]:
    """``KIND:TARGET`` split and checked, without loading anything."""
    kind, sep, target = name.partition(":")
    if not sep or not target:
        raise ModelLoadError(f"Reranker {name!r}: use maxsim:MODEL, llm:MODEL, qlm:MODEL or "
                             "cross-encoder:FOLDER|HUB_ID|NAME.")
    if kind not in RERANKER_KINDS:
        raise ModelLoadError(f"Unknown reranker kind {kind!r} in {name!r}; use maxsim:, llm:, qlm: or cross-encoder:.")
    return kind, target


def load_reranker(name: str) -> Reranker:
    kind, target = parse_reranker_name(name)
    if kind == "maxsim":
        from embedlab.models import load_model

        return MaxSimReranker(load_model(target, cache=False))
    if kind == "llm":
        return LLMReranker(target)
    if kind == "qlm":
        return QueryLikelihoodReranker(target)
    return CrossEncoderReranker(target)  # cross-encoder: or ce:
