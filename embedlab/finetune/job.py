"""One fine-tuning run from data to a saved model, with before/after evidence.

    check data -> evaluate the base on the held-out split -> train -> evaluate the result ->
    publish the folder under its name

The model is written to a hidden temporary folder and renamed into place only when everything
has worked, so a failed or stopped run never leaves a half-written model and never touches a
model saved before it. ``FinetuneJob`` runs the same in a background thread for the app.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.errors import DataError, EmbedlabError
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.evaluate import Evaluation, ceiling_warning, comparison, evaluate
from embedlab.finetune.length import LengthChoice, training_length
from embedlab.finetune.saved import (
    RECORD_FILE,
    check_name_free,
    publish,
    sweep_stale_temp,
    target_folder,
    temp_folder,
)
from embedlab.finetune.timing import duration_text, round_seconds
from embedlab.finetune.trainset import (
    MAX_HELD_OUT,
    MIN_HELD_OUT,
    TrainSet,
    check,
    mine_negatives,
    split,
)
from embedlab.jsonio import dumps

__all__ = ["RECORD_FILE", "FinetuneJob", "FinetuneResult", "Monitor", "check_setup", "prepare", "run_finetune",
           "trainable_models", "why_not_trainable"]


class Monitor:
    """Progress shared between the training thread and whoever watches it. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.phase = "waiting"
        self.losses: list[tuple[int, float]] = []
        self.step = 0
        self.total = 0
        self.train_started: float | None = None  # the one training clock: the live view and the result read it
        self.train_finished: float | None = None
        self.log: list[str] = []
        self.notes: list[str] = []  # what the run decided (the training length)
        self.warnings: list[str] = []  # what the user should know before trusting the numbers

    def set_phase(self, text: str) -> None:
        with self._lock:
            self.phase = text
            self.log.append(text)

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)
            self.log.append(text)

    def warn(self, text: str) -> None:
        with self._lock:
            self.warnings.append(text)
            self.log.append(text)

    def start_training(self) -> None:
        with self._lock:
            self.train_started, self.train_finished = time.perf_counter(), None

    def finish_training(self) -> float:
        """Stop the training clock; the seconds it ran."""
        with self._lock:
            self.train_finished = time.perf_counter()
            return self.train_finished - (self.train_started or self.train_finished)

    def new_run(self) -> None:
        """Forget the steps and losses of a finished training (a two-stage run trains several times)."""
        with self._lock:
            self.step, self.total, self.losses = 0, 0, []
            self.train_started = self.train_finished = None

    def on_step(self, step: int, total: int, loss: float) -> None:
        with self._lock:
            if self.train_started is None:  # a caller that never started the clock
                self.train_started = time.perf_counter()
            self.step, self.total = step, total
            self.losses.append((step, loss))

    def stop(self) -> None:
        self._stop.set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> dict:
        with self._lock:
            end = self.train_finished or time.perf_counter()
            elapsed = end - self.train_started if self.train_started else 0.0
            eta = elapsed / self.step * (self.total - self.step) if self.step else None
            return {"phase": self.phase, "step": self.step, "total": self.total, "losses": list(self.losses),
                    "elapsed": elapsed, "eta": eta, "stopping": self._stop.is_set(), "log": list(self.log),
                    "notes": list(self.notes), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class FinetuneResult:
    name: str
    kind: str  # "embedder" or "reranker"
    config: FinetuneConfig
    path: Path | None
    train_rows: int
    held_out_rows: int
    train_seconds: float  # already rounded (timing.round_seconds): every report shows this number
    stopped: bool
    before: Evaluation
    after: Evaluation | None
    data_notes: tuple[str, ...] = ()  # what reading the data said
    run_notes: tuple[str, ...] = ()  # what the run did to it (sampling, mining, stopping)
    losses: tuple[tuple[int, float], ...] = ()
    total_seconds: float = 0.0  # the whole run: loading, both evaluations, training, saving (rounded)
    length: LengthChoice | None = None  # the training length and why
    warnings: tuple[str, ...] = ()  # e.g. the base already at the ceiling on the held-out rows

    @property
    def notes(self) -> tuple[str, ...]:
        return self.data_notes + self.run_notes

    @property
    def duration(self) -> str:
        """The run's time as the CLI, the page and the saved record all say it."""
        return f"{duration_text(self.train_seconds)} of training, {duration_text(self.total_seconds)} in all"

    @property
    def table(self):
        return comparison(self.before, self.after) if self.after else None

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "path": str(self.path) if self.path else None,
                "config": self.config.to_dict(), "train_rows": self.train_rows, "held_out_rows": self.held_out_rows,
                "train_seconds": self.train_seconds, "total_seconds": self.total_seconds, "duration": self.duration,
                "max_length_reason": self.length.reason if self.length else None, "warnings": list(self.warnings),
                "stopped": self.stopped, "notes": list(self.notes),
                "before": self.before.scores, "after": self.after.scores if self.after else None,
                "steps": len(self.losses), "final_loss": self.losses[-1][1] if self.losses else None}


def why_not_trainable(spec, workflow: str) -> str | None:
    """Why the model of ``spec`` cannot be fine-tuned with ``workflow`` (None: it can)."""
    if spec.kind == "static":
        return (f"{spec.name} is a static word-vector model: there is no transformer to fine-tune. "
                "Pick minilm, mpnet or smollm2.")
    if spec.backend != "torch":
        base = spec.with_backend("torch").name
        return (f"{spec.name} runs in ONNX Runtime ({spec.backend}), which cannot be trained. Fine-tune {base} "
                f"and use the result with +{spec.backend} afterwards.")
    if spec.kind == "decoder" and workflow != "loop":
        return ("Decoders (smollm2) are fine-tuned with the hand-rolled loop, which keeps their EOS token "
                "and last-token/weighted-mean pooling; choose workflow 'loop'.")
    return None


def trainable_models(workflow: str) -> list[str]:
    """The names of every model in the zoo that ``workflow`` can fine-tune."""
    from embedlab.models import available_models

    return [name for name, spec in available_models().items() if why_not_trainable(spec, workflow) is None]


def check_setup(config: FinetuneConfig, data: TrainSet):
    """Everything that can be refused before loading a model: the base model's kind for this
    workflow, and the data's shape for this loss. Returns the base model's spec."""
    from embedlab.models.registry import resolve_spec

    spec = resolve_spec(config.model)
    problem = why_not_trainable(spec, config.workflow)
    if problem:
        raise DataError(problem)
    from embedlab.finetune.loop import check_joint

    check_joint(config, spec)  # an LM weight needs a decoder: refused before anything loads
    # the loss's needs that mining cannot meet (scores for CoSENT, no scores for the others)
    check(data, loss=None if config.workflow == "cross-encoder" else ("mnrl" if config.loss == "triplet" else config.loss))
    if config.workflow == "cross-encoder" and data.scores is not None:
        raise DataError("A cross-encoder is trained on (anchor, positive[, negative]) rows, not scored pairs.")
    return spec


def prepare(config: FinetuneConfig, data: TrainSet, base=None) -> tuple[TrainSet, TrainSet, list[str]]:
    """Limit, mine, check and split; the notes say what was done to the data. Held-out rows
    without negatives get BM25-mined ones so triplet accuracy can be measured the same way
    before and after."""
    notes = []
    if config.max_rows and len(data) > config.max_rows:
        rows = np.sort(np.random.default_rng(config.seed).choice(len(data), config.max_rows, replace=False))
        data = data.take(rows.tolist())
        notes.append(f"Using {config.max_rows:,} randomly chosen rows (seed {config.seed}).")
    check_setup(config, data)
    train, held = split(data, held_out=config.held_out, seed=config.seed)
    notes += _held_out_note(data, held, config.held_out)
    needs_negatives = config.workflow == "cross-encoder" or config.loss == "triplet"
    if train.negatives is None and train.scores is None:
        method = config.mine
        if method == "none" and needs_negatives:
            method = "bm25"
            notes.append("This loss needs negatives and the data has none: mining them with BM25.")
        if method != "none":
            train = mine_negatives(train, method=method, model=base, seed=config.seed)
            notes.append(f"Training negatives mined with {method} among the training positives.")
    if held.negatives is None and held.scores is None:
        held = mine_negatives(held, method="bm25", seed=config.seed)
        notes.append("Held-out negatives mined with BM25 among the held-out positives (same for before and after).")
    check(train, loss=config.loss if config.workflow != "cross-encoder" else None)
    if len(train) < config.batch_size:
        notes.append(f"Only {len(train)} training rows: the batch is smaller than {config.batch_size}.")
    return train, held, notes


def _held_out_note(data: TrainSet, held: TrainSet, share: float) -> list[str]:
    """Say so when the held-out part is not the share asked for (raised for small sets, capped for big ones)."""
    anchors, out = len(set(data.anchors)), len(set(held.anchors))
    if out == round(anchors * share):
        return []
    why = (f"fewer than {MIN_HELD_OUT} held-out rows can hardly tell a change from noise" if out > anchors * share
           else f"{MAX_HELD_OUT} are enough to measure; the rest trains")
    return [f"Held out {out} of {anchors} anchors ({out / anchors:.0%}, not {share:.0%}): {why}."]


def run_finetune(config: FinetuneConfig, data: TrainSet, name: str, monitor: Monitor | None = None, *,
                 overwrite: bool = False) -> FinetuneResult:
    """Train, measure and publish; with ``overwrite`` an earlier fine-tune of that name is replaced
    (only once the new one is complete)."""
    from embedlab.models import load_model

    started = time.perf_counter()
    monitor = monitor or Monitor()
    sweep_stale_temp()  # leftovers of runs that were killed
    # 1. refuse what can be refused before loading anything: the name, the base, the data
    name = check_name_free(name, config.kind, overwrite=overwrite)
    spec = check_setup(config, data)
    if config.workflow == "loop" and config.pooling and config.pooling != spec.pooling:
        spec = spec.with_pooling(config.pooling)  # the base is measured with the pooling it is trained with
    if config.mine != "model":
        train, held, notes = prepare(config, data)

    # 2. load the base (mining with it if asked), fix the training length, measure the base
    monitor.set_phase(f"Loading {config.model}")
    base = load_model(spec)
    if config.mine == "model":
        train, held, notes = prepare(config, data, base)
    length = training_length(config, data, base)
    config = dataclasses.replace(config, max_length=length.value)
    monitor.note(length.reason)
    monitor.set_phase(f"Evaluating {spec.name} on {len(held)} held-out rows")
    before = evaluate(base, held, seed=config.seed)
    warnings = tuple(w for w in [ceiling_warning(before.scores, len(held))] if w)
    for warning in warnings:
        monitor.warn(warning)

    # 3. train into a hidden folder, measure the result, publish it under its name
    final = target_folder(name, config.kind)
    tmp = temp_folder(final)
    result = FinetuneResult(name, config.kind, config, final, len(train), len(held), 0.0, False, before, None,
                            tuple(data.notes), tuple(notes), length=length, warnings=warnings)
    try:
        monitor.set_phase(f"Training on {len(train)} rows")
        monitor.start_training()
        train_into(config, spec, train, monitor, tmp)
        result = dataclasses.replace(result, train_seconds=round_seconds(monitor.finish_training()),
                                     losses=tuple(monitor.snapshot()["losses"]))
        if monitor.should_stop():
            monitor.set_phase("Stopped: nothing was saved")
            shutil.rmtree(tmp, ignore_errors=True)
            return dataclasses.replace(result, path=None, stopped=True,
                                       total_seconds=round_seconds(time.perf_counter() - started),
                                       run_notes=(*notes, "Stopped by the user; no model was saved."))
        return _measure_and_publish(result, spec, base, held, data, monitor, tmp, started=started,
                                    overwrite=overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def train_into(config: FinetuneConfig, spec, train: TrainSet, monitor: Monitor, out: Path) -> None:
    """Train with the config's workflow and write the model to ``out`` (nothing when stopped
    inside the loop)."""
    from embedlab.models.loader import model_folder
    from embedlab.models.registry import read_st_folder

    backbone_dir = read_st_folder(model_folder(spec))["transformer_dir"]
    if config.workflow == "trainer":
        from embedlab.finetune.trainer import train_bi_encoder

        train_bi_encoder(backbone_dir, spec.pooling, train, config, monitor, out)
    elif config.workflow == "cross-encoder":
        from embedlab.finetune.trainer import train_cross_encoder

        train_cross_encoder(backbone_dir, train, config, monitor, out)
    else:
        from embedlab.finetune import loop
        from embedlab.models.transformer import load_transformer

        embedder = load_transformer(dataclasses.replace(spec, max_seq_length=config.max_length), backbone_dir,
                                    fingerprint="training")
        model = loop.train(embedder, train, config, monitor)
        if not monitor.should_stop():
            loop.save(model, out)


def _measure_and_publish(result: FinetuneResult, spec, base, held: TrainSet, data: TrainSet, monitor: Monitor,
                         tmp: Path, *, started: float, overwrite: bool = False) -> FinetuneResult:
    """Evaluate the trained model in ``tmp``, write its record (and spec), rename it into place."""
    config, final = result.config, result.path
    # 1. the same held-out rows, through the new model (or the base + the new reranker)
    monitor.set_phase("Evaluating the fine-tuned model on the held-out rows")
    if result.kind == "reranker":
        from embedlab.retrieval.rerank import CrossEncoderReranker

        after = evaluate(base, held, reranker=CrossEncoderReranker(str(tmp)), seed=config.seed)
        new_spec = None
    else:
        new_spec = finetuned_spec(result.name, spec, config, data, final)
        after = evaluate_folder(new_spec, tmp, held, seed=config.seed)
    result = dataclasses.replace(result, after=after, total_seconds=round_seconds(time.perf_counter() - started))
    # 2. the record of the run, and the spec that puts an embedder in the zoo
    write_record(result, data, tmp, new_spec)
    # 3. publish
    monitor.set_phase("Saving")
    publish(tmp, final, overwrite=overwrite)
    monitor.set_phase(f"Saved as {result.name}")
    return result


def evaluate_folder(new_spec, tmp: Path, held: TrainSet, *, seed: int) -> Evaluation:
    """The held-out rows through the embedder trained into ``tmp`` (not yet published), loaded as
    the zoo will load it."""
    from embedlab.models import load_model

    return evaluate(load_model(dataclasses.replace(new_spec, location=str(tmp)), cache=False), held, seed=seed)


def write_record(result: FinetuneResult, data: TrainSet, tmp: Path, new_spec=None, **extra) -> None:
    """The run's record (``training.json``) and, for an embedder, the spec that puts it in the zoo;
    ``extra`` goes into the record as it is."""
    from embedlab.models.registry import SPEC_FILE

    record = {**result.to_dict(), "base": result.config.model, "data": data.name, "losses": list(result.losses),
              "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **extra}
    (tmp / RECORD_FILE).write_text(dumps(record))
    if new_spec is not None:
        new_spec = dataclasses.replace(new_spec, extra={**new_spec.extra, "before": result.before.scores,
                                                        "after": result.after.scores})
        (tmp / SPEC_FILE).write_text(new_spec.to_json())


def finetuned_spec(name: str, base_spec, config: FinetuneConfig, data: TrainSet, folder: Path, *,
                   description: str = ""):
    """The zoo's spec of an embedder fine-tuned from ``base_spec`` (prompts, padding and EOS kept)."""
    from embedlab.models.spec import ModelSpec

    pooling = config.pooling or base_spec.pooling
    what = {"trainer": f"sentence-transformers trainer, {config.loss}", "loop": f"hand-rolled loop, {config.loss}"}
    return ModelSpec(
        name=name, kind=base_spec.kind, source="local", location=str(folder), pooling=pooling,
        description=description or (
            f"{base_spec.name} fine-tuned on {data.name} ({what[config.workflow]}"
            f"{', LoRA' if config.lora else ''}{f', head {config.projection_dim}' if config.projection_dim else ''})"),
        dim=config.projection_dim or base_spec.dim, query_prompt=base_spec.query_prompt,
        document_prompt=base_spec.document_prompt, max_seq_length=base_spec.max_seq_length,
        append_eos=base_spec.append_eos, padding_side=base_spec.padding_side, license=base_spec.license,
        extra={"base": base_spec.name, "data": data.name, "config": config.to_dict()},
    )


class FinetuneJob:
    """``run_finetune`` in a daemon thread; the app polls ``monitor`` and ``status``."""

    def __init__(self, config: FinetuneConfig, data: TrainSet, name: str, *, settings: dict | None = None) -> None:
        self.config, self.data, self.name = config, data, name
        self.settings = settings or {}  # what the app had set when it started (restored after a reload)
        self.monitor = Monitor()
        self.result: FinetuneResult | None = None
        self.error: str | None = None
        self.started = time.time()
        self.finished: float | None = None
        self.thread = threading.Thread(target=self._run, name=f"finetune-{name}", daemon=True)

    def start(self) -> "FinetuneJob":
        self.thread.start()
        return self

    def wait(self, timeout: float | None = None) -> "FinetuneJob":
        self.thread.join(timeout)
        return self

    def _task(self):
        return run_finetune(self.config, self.data, self.name, self.monitor)

    def _run(self) -> None:
        try:
            self.result = self._task()
        except EmbedlabError as exc:
            self.error = str(exc)
        except Exception as exc:  # shown in the app; the traceback goes to the log
            traceback.print_exc()
            self.error = f"{type(exc).__name__}: {exc}"
        if self.error:
            self.monitor.set_phase("Failed")
        self.finished = time.time()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    @property
    def status(self) -> str:
        if self.running:
            return "stopping" if self.monitor.should_stop() else "running"
        if self.error:
            return "failed"
        return "stopped" if self.result and self.result.stopped else "done"
