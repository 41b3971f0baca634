"""Static distillation with model2vec: an encoder's vector for every token of its vocabulary, computed
once (no data, no network), reduced with PCA and weighted by token frequency (SIF); a text's vector
is then the mean of its tokens' vectors, a table lookup instead of a transformer pass.

``distill_model`` writes the result into the fine-tuned zoo (``<data>/models/finetuned/NAME``) with an
``embedlab_model.json`` spec of kind ``static`` and source ``local``, so it is listed, picked by name
and deleted like any fine-tuned model; ``load_distilled`` is what ``load_model`` calls for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from embedlab.embedder import (
    ENCODE_FORMAT_VERSION,
    Progress,
    check_batch_size,
    check_finite,
    check_texts,
    l2_normalize,
)
from embedlab.errors import DataError, ModelLoadError, OptionError
from embedlab.models.spec import ModelSpec

DEFAULT_DIMS = 256
MIN_DIMS = 2
TOOL = "model2vec"
# Our pooling name -> model2vec's: the token vector is pooled the way the parent pools a text.
POOLINGS: dict[str, str] = {"mean": "mean", "cls": "first", "last": "last"}

_MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")  # what save_pretrained writes

DistillProgress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase is a sentence ("Encoding 30,522 tokens with minilm", ...)."""


@dataclass(frozen=True)
class DistillResult:
    name: str
    parent: str
    path: Path
    dim: int
    vocabulary: int  # tokens in the static table
    seconds: float


# --- distilling -------------------------------------------------------------------------------------


def check_distillable(spec: ModelSpec) -> None:
    """Only an encoder distils: a decoder's token states are not sentence vectors, a static model already is one."""
    if spec.kind != "encoder":
        why = ("it is already a static model" if spec.kind == "static"
               else "it is a decoder; model2vec distils encoders (e.g. minilm, mpnet or one fine-tuned from them)")
        raise OptionError(f"Cannot distil {spec.name!r}: {why}.")
    backend = getattr(spec, "backend", "torch")
    if backend != "torch":
        raise OptionError(f"Cannot distil {spec.name!r}: distillation reads the PyTorch model, not its "
                          f"'+{backend}' variant; distil {spec.name.removesuffix('+' + backend)!r} instead.")
    if spec.pooling not in POOLINGS:
        raise OptionError(f"Cannot distil {spec.name!r} with {spec.pooling!r} pooling; distillation supports "
                          f"{', '.join(POOLINGS)} pooling (append @mean to the name to distil it with mean pooling).")


def check_dims(dims: int, hidden: int | None = None) -> int:
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < MIN_DIMS:
        raise OptionError(f"dims must be a whole number of at least {MIN_DIMS}, got {dims!r}.")
    if hidden is not None and dims > hidden:
        raise OptionError(f"dims {dims} is more than the parent's {hidden} dimensions; give at most {hidden}.")
    return dims


def distill_model(parent: str, name: str, *, dims: int = DEFAULT_DIMS,
                  progress: DistillProgress | None = None) -> DistillResult:
    """Distil the encoder ``parent`` into a static model saved in the zoo as ``name``."""
    from embedlab.finetune.saved import check_name_free, target_folder, temp_folder
    from embedlab.models.loader import model_folder
    from embedlab.models.registry import read_st_folder, resolve_spec

    # 1. refuse what can be refused before any model loads: the name, the parent's kind, dims
    name = check_name_free(name, "embedder")
    spec = resolve_spec(parent)
    check_distillable(spec)
    check_dims(dims)
    report = progress or (lambda phase, done, total: None)

    # 2. the parent's backbone (a projection head would not be in the static table: refuse it)
    report(f"Loading {spec.name}", 0, 1)
    folder = model_folder(spec, lambda done, total: report(f"Preparing {spec.name}'s files", done, total))
    st_folder = read_st_folder(folder)
    if st_folder["dense"]:
        raise OptionError(f"Cannot distil {spec.name!r}: it has a projection (Dense) head, and model2vec "
                          "distils the transformer only. Distil the model it was fine-tuned from instead.")

    # 3. distil into a hidden folder, then publish it under its name
    final = target_folder(name, "embedder")
    tmp = temp_folder(final)
    start = time.perf_counter()
    try:
        static = _distill(st_folder["transformer_dir"], spec, dims, report)
        report("Saving", 0, 1)
        static.save_pretrained(tmp)
        result = DistillResult(name, spec.name, final, int(static.dim), int(static.embedding.shape[0]),
                               time.perf_counter() - start)
        _write_records(tmp, result, spec, static)
        if final.exists():  # taken while we distilled: keep theirs, never overwrite
            raise DataError(f"{final} appeared while distilling; the new model was not saved.")
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report(f"Saved as {name}", 1, 1)
    return result


def _distill(backbone: Path, spec: ModelSpec, dims: int, report: DistillProgress):
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # as load_transformer: progress goes through our callback
    try:
        model = AutoModel.from_pretrained(str(backbone))
        tokenizer = AutoTokenizer.from_pretrained(str(backbone), use_fast=True)
    except Exception as exc:  # transformers raises many types for "this is not a model"
        raise ModelLoadError(f"Could not load {spec.name!r} from {backbone}: {exc}") from None
    check_dims(dims, int(model.config.hidden_size))
    label = f"Encoding each vocabulary token with {spec.name}"
    with _routed_progress(lambda done, total: report(label, done, total)):
        try:
            # float32 table: numpy averages float16 rows slowly and less exactly, for 2x less disk
            static = distill_from_model(model=model, tokenizer=tokenizer, pca_dims=dims,
                                        pooling=POOLINGS[spec.pooling], quantize_to="float32")
        except ValueError as exc:  # model2vec's word for "this tokenizer/vocabulary cannot be distilled"
            raise ModelLoadError(f"model2vec could not distil {spec.name!r}: {exc}") from None
    # Written into its config (not through the setters, which log a warning for every change):
    # our encode normalises itself and reads the parent's window of each text.
    static.config.update(normalize=False, max_length=spec.max_seq_length)
    return static


_TQDM_LOCK = threading.Lock()  # model2vec's bar is a module global: one distillation swaps it at a time


@contextmanager
def _routed_progress(progress: Progress):
    """model2vec draws a tqdm bar over the vocabulary; send it to ``progress`` instead of stderr."""
    from model2vec.distill import inference

    class Bar:
        def __init__(self, total: int = 0, **_ignored) -> None:
            self.total, self.done = int(total), 0
            progress(0, self.total)

        def update(self, n: int = 1) -> None:
            self.done += n
            progress(self.done, self.total)

        def close(self) -> None:
            pass

    with _TQDM_LOCK:
        original = inference.tqdm
        inference.tqdm = Bar
        try:
            yield
        finally:
            inference.tqdm = original


def _write_records(folder: Path, result: DistillResult, parent: ModelSpec, static) -> None:
    """The spec that puts the model in the zoo, and a run record the saved-models table reads."""
    from model2vec.version import __version__ as m2v_version

    from embedlab.finetune.saved import RECORD_FILE
    from embedlab.jsonio import dumps
    from embedlab.models.folder import SPEC_FILE

    made = {"distilled_from": parent.name, "tool": f"{TOOL} {m2v_version}", "pca_dims": result.dim,
            "vocabulary": result.vocabulary, "distill_seconds": round(result.seconds, 2)}
    spec = ModelSpec(
        name=result.name, kind="static", source="local", location=str(result.path), pooling="mean",
        description=f"{parent.name} distilled to {result.dim}-d static token vectors ({TOOL}).",
        dim=result.dim, query_prompt=parent.query_prompt, document_prompt=parent.document_prompt,
        # The same window of each text as the parent reads, so the two are compared on the same words.
        max_seq_length=parent.max_seq_length, license=parent.license, extra=made)
    (folder / SPEC_FILE).write_text(spec.to_json())
    record = {"name": result.name, "kind": "embedder", "base": parent.name, "data": "none (distillation)",
              "config": {"workflow": "distill", "loss": None, "dims": result.dim}, **made,
              "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    (folder / RECORD_FILE).write_text(dumps(record))


def is_distilled(spec: ModelSpec) -> bool:
    return spec.kind == "static" and spec.source == "local"


# --- the static embedder ----------------------------------------------------------------------------


class DistilledEmbedder:
    """A model2vec table behind the Embedder protocol (as ``static.StaticEmbedder`` for WordLlama)."""

    def __init__(self, spec: ModelSpec, model, *, fingerprint: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.model = model
        self.fingerprint = fingerprint
        self.dim = int(model.dim)
        self.max_seq_length = spec.max_seq_length
        self._counter = _untruncated(model.tokenizer)

    @property
    def parameters(self) -> int:
        return int(self.model.embedding.size)

    @property
    def weight_bytes(self) -> int:
        """The table's bytes in memory (what the benchmark's "weights MB" column reports)."""
        return int(self.model.embedding.nbytes)

    def cache_key(self, role: str) -> str:
        parts = {"v": ENCODE_FORMAT_VERSION, "model": self.fingerprint, "prompt": self.spec.prompt(role),
                 "max_len": self.max_seq_length}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def token_lengths(self, texts: Sequence[str], *, role: str = "document") -> np.ndarray:
        prompt = self.spec.prompt(role)
        encoded = self._counter.encode_batch_fast([prompt + t for t in texts], add_special_tokens=False)
        return np.array([len(e.ids) for e in encoded])

    def encode(self, texts: Sequence[str], *, role: str = "document", batch_size: int = 1024,
               progress: Progress | None = None, normalize: bool = True) -> np.ndarray:
        texts = check_texts(texts)
        prompt = self.spec.prompt(role)
        check_batch_size(batch_size)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)  # (n, dim)
        step = max(batch_size, 512)  # progress in chunks: a table lookup per text is quick
        for start in range(0, len(texts), step):
            chunk = [prompt + t for t in texts[start : start + step]]
            out[start : start + len(chunk)] = self.model.encode(
                chunk, normalize=False, batch_size=batch_size, max_length=self.max_seq_length,
                show_progress_bar=False, use_multiprocessing=False)
            if progress:
                progress(start + len(chunk), len(texts))
        check_finite(out, model=self.name, texts=texts)
        return l2_normalize(out) if normalize else out


def _untruncated(tokenizer):
    """A copy of the tokenizer that never truncates (model2vec's own truncates to max_length)."""
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


def load_distilled(spec: ModelSpec) -> DistilledEmbedder:
    from embedlab.models.assets import file_fingerprint

    folder = Path(spec.location).expanduser()
    if not folder.is_dir():
        raise ModelLoadError(f"The distilled model folder {folder} does not exist (model {spec.name!r}).")
    try:
        from model2vec import StaticModel

        model = StaticModel.from_pretrained(str(folder), max_length=spec.max_seq_length, normalize=False,
                                            force_download=False)
    except Exception as exc:  # missing or damaged files: safetensors, tokenizers and json all raise their own
        raise ModelLoadError(f"Could not load the distilled model {spec.name!r} from {folder}: {exc}. "
                             "Delete it and distil it again.") from None
    # The table and tokenizer decide the vectors; the spec and run record beside them do not.
    weights = [folder / f for f in _MODEL_FILES if (folder / f).exists()]
    return DistilledEmbedder(spec, model, fingerprint=file_fingerprint(weights))


# --- speed and quality next to the parent ------------------------------------------------------------


@dataclass(frozen=True)
class DistillReport:
    """A distilled model and its parent measured in the same run: texts/s on BBC titles and article
    bodies (``speed[name]``), the bundled tasks' main scores (``scores``: one row per model, as
    ``run_bench``'s table) and the Lee STS Spearman difference (distilled minus parent).
    The quality gate's cosine checks do not apply: the two models' vectors differ in size."""

    name: str
    parent: str
    speed: dict  # model name -> Throughput
    scores: object  # pandas DataFrame, Leaderboard.table
    spearman_delta: float | None
    errors: dict  # model name -> {where: message}, from the benchmark

    def speed_ratio(self, kind: str) -> float:
        """Distilled texts/s over the parent's, for ``kind`` "short" or "long"."""
        rate = {"short": "short_per_s", "long": "long_per_s"}[kind]
        return getattr(self.speed[self.name], rate) / getattr(self.speed[self.parent], rate)


ReportProgress = Callable[[str, int, int], None]


def parent_of(name: str) -> str:
    """The model ``name`` was distilled from; OptionError if it is not a distilled model."""
    from embedlab.models.registry import resolve_spec

    spec = resolve_spec(name)
    parent = spec.extra.get("distilled_from") if is_distilled(spec) else None
    if not isinstance(parent, str) or not parent:
        raise OptionError(f"{name!r} is not a model distilled here; distil one with `embedlab distill`.")
    return parent


def compare_with_parent(name: str, *, sample: int = 200, tasks: Sequence[str] | None = None,
                        progress: ReportProgress | None = None) -> DistillReport:
    """Time ``name`` and its parent on the same ``sample`` BBC titles and bodies, then score both on
    the bundled tasks (results come from the benchmark cache when they are there)."""
    from embedlab.evaluation.bench import bundled_tasks, run_bench
    from embedlab.evaluation.bench.bundled import BUNDLED_TASK_NAMES, LEE_STS
    from embedlab.models.loader import load_model
    from embedlab.models.throughput import measure_throughput, sample_texts

    # 1. refuse early: a distilled model with a parent, known tasks
    parent = parent_of(name)
    chosen = bundled_tasks(list(tasks or BUNDLED_TASK_NAMES))
    report = progress or (lambda label, done, total: None)

    # 2. speed: both models, the same texts, one after the other
    short, long = sample_texts(sample)
    speed = {}
    for model_name in (parent, name):
        model = load_model(model_name)
        speed[model_name] = measure_throughput(model, short, long, progress=lambda kind, done, total, m=model_name:
                                               report(f"Timing {m} on {kind} texts", done, total))

    # 3. quality: the bundled tasks, parent first
    board = run_bench([parent, name], chosen, progress=lambda p: report(p.label, p.done, p.total))
    table = board.table
    delta = None
    if LEE_STS in table.columns and not table[LEE_STS].isna().any():
        delta = float(table.loc[name, LEE_STS] - table.loc[parent, LEE_STS])
    return DistillReport(name, parent, speed, table, delta, board.errors)
