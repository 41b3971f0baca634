"""Two-stage contrastive training, as GTE, E5 and BGE are trained, measured column by column.

    stage 1: many weakly supervised pairs, a large batch, InfoNCE over in-batch negatives only
    stage 2: a small curated set with mined hard negatives, a small batch, InfoNCE with the hard
             negative (or a triplet margin loss)

One held-out set (``stagedata``: disjoint from both stages' training rows) is evaluated with
``embedlab.finetune.evaluate.evaluate`` four times: the base, after stage 1, after stage 1+2, and
after stage 2 alone (trained from the base), so what each stage does is in one table.

Each stage loads its starting model from a folder, trains with the hand-rolled loop
(``loop.train``; MiniLM fully, or a decoder such as SmolLM2 with weighted-mean pooling and LoRA),
and saves into a hidden temporary folder, from which it is loaded again to be measured. LoRA
adapters are merged into the weights when a stage saves, so stage 2 after stage 1 trains *fresh*
adapters on the merged stage-1 weights. Nothing is published until all three trainings and all
four evaluations are done; then the three models join the zoo (each a normal fine-tuned model with
its record): ``NAME-stage1``, ``NAME-stage2-only`` and, last, ``NAME`` (stage 1+2). A failed or
stopped run deletes its temporary folders and publishes nothing.

With the defaults (1,000 stage-1 pairs at batch 64, 200 stage-2 triplets at batch 16, 200 held out,
64 tokens per text) a MiniLM run takes about two minutes on two cores: measured here (with another
job on the cores) a stage-1 step took 2.6 s (x 15), a stage-2 step 1.2 s (x 12, twice), and one
evaluation of the 200 held-out titles and articles 7.8 s (x 4), plus loading and saving each stage.
benchmarks/two_stage.py measures the whole run.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.errors import DataError, OptionError
from embedlab.finetune.config import FinetuneConfig, check_output_name
from embedlab.finetune.evaluate import Evaluation, evaluate
from embedlab.finetune.job import (
    FinetuneJob,
    FinetuneResult,
    Monitor,
    finetuned_spec,
    train_into,
    why_not_trainable,
    write_record,
)
from embedlab.finetune.saved import (
    check_name_free,
    name_problem,
    publish,
    sweep_stale_temp,
    target_folder,
    temp_folder,
)
from embedlab.finetune.stagedata import StageData
from embedlab.finetune.timing import round_seconds
from embedlab.finetune.trainset import TrainSet, mine_negatives

STAGE_LOSSES = ("infonce", "triplet")
STAGE2_MINING = ("bm25", "model")  # bm25: for pairs only (given negatives are kept); model: always re-mined
HELD_OUT_ROWS = 200
STAGE1_ROWS = 1000  # 0 = every row not held out or in stage 2
STAGE2_ROWS = 200
STAGE1_BATCH = 64  # many in-batch negatives
STAGE2_BATCH = 16  # each row brings its own hard negative
MAX_LENGTH = 64  # tokens per text while training: BBC titles fit, articles are cut (evaluation uses the model's)
COLUMNS = ("before", "after stage 1", "after stage 1+2", "stage 2 only")
SUFFIXES = {"after stage 1": "-stage1", "after stage 1+2": "", "stage 2 only": "-stage2-only"}
_LONGEST_SUFFIX = max(len(s) for s in SUFFIXES.values())


@dataclass(frozen=True)
class StageSettings:
    """How one stage trains (everything else is shared by both stages)."""

    epochs: float = 1.0
    batch_size: int = STAGE2_BATCH
    learning_rate: float | None = None  # None: the fine-tuning default (higher with LoRA)
    loss: str = "infonce"  # infonce | triplet (stage 2 only)
    temperature: float = 0.05
    margin: float = 0.3
    warmup_ratio: float = 0.1


@dataclass(frozen=True)
class TwoStageConfig:
    model: str = "minilm"
    pooling: str = ""  # "" = the base model's; decoders: weighted-mean
    lora: bool = False
    lora_rank: int = 8
    max_length: int = MAX_LENGTH
    stage1: StageSettings = field(default_factory=lambda: StageSettings(batch_size=STAGE1_BATCH))
    stage2: StageSettings = field(default_factory=StageSettings)
    stage2_mine: str = "bm25"
    held_out_rows: int = HELD_OUT_ROWS
    stage1_rows: int = STAGE1_ROWS
    stage2_rows: int = STAGE2_ROWS
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stage1.loss != "infonce":
            raise OptionError(f"Stage 1 learns from pairs with in-batch negatives only, so its loss is infonce "
                              f"(got {self.stage1.loss!r}); a triplet loss needs hard negatives: use it in stage 2.")
        if self.stage2.loss not in STAGE_LOSSES:
            raise OptionError(f"Unknown stage-2 loss {self.stage2.loss!r}. Valid: {', '.join(STAGE_LOSSES)}.")
        if self.stage2_mine not in STAGE2_MINING:
            raise OptionError(f"Unknown stage-2 mining method {self.stage2_mine!r}. Valid: {', '.join(STAGE2_MINING)}.")
        if not isinstance(self.max_length, int) or isinstance(self.max_length, bool):
            raise OptionError(f"A two-stage run needs max length as a number of tokens, got {self.max_length!r}.")
        for what, value, least in (("held-out rows", self.held_out_rows, 2), ("stage-1 rows", self.stage1_rows, 0),
                                   ("stage-2 rows", self.stage2_rows, 2)):
            if value < least:
                raise OptionError(f"{what} must be at least {least}, got {value}"
                                  f"{' (0 = every row left)' if least == 0 else ''}.")
        for n in (1, 2):  # every number, checked by the one config that knows the limits
            self.stage_config(n)

    def stage_config(self, n: int) -> FinetuneConfig:
        """Stage ``n``'s settings as the hand-rolled loop's config."""
        s = self.stage1 if n == 1 else self.stage2
        try:
            return FinetuneConfig(model=self.model, workflow="loop", loss=s.loss, epochs=s.epochs,
                                  batch_size=s.batch_size, learning_rate=s.learning_rate, warmup_ratio=s.warmup_ratio,
                                  max_length=self.max_length, temperature=s.temperature, margin=s.margin,
                                  pooling=self.pooling, lora=self.lora, lora_rank=self.lora_rank, seed=self.seed)
        except OptionError as exc:
            raise OptionError(f"Stage {n}: {exc}") from None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


DEFAULTS = TwoStageConfig()


def stage_names(name: str) -> dict[str, str]:
    """The zoo name of each trained column: NAME for stage 1+2, NAME-stage1, NAME-stage2-only."""
    name = check_output_name(name)
    if len(name) + _LONGEST_SUFFIX > 64:
        raise OptionError(f"Output name {name!r} is too long for a two-stage run: its models are also saved as "
                          f"{name}-stage1 and {name}-stage2-only (at most 64 characters); use at most "
                          f"{64 - _LONGEST_SUFFIX} characters.")
    return {column: name + suffix for column, suffix in SUFFIXES.items()}


def check_names_free(name: str, *, overwrite: bool = False) -> dict[str, str]:
    """The three names, refused when one is a bundled or added model's, or (without ``overwrite``)
    an earlier fine-tune's."""
    names = stage_names(name)
    for each in names.values():
        check_name_free(each, "embedder", overwrite=True)  # a bundled or added model's name: never
    taken = [n for n in names.values() if not overwrite and target_folder(n, "embedder").exists()]
    if taken:
        raise DataError(f"A two-stage run saves {', '.join(names.values())}, and {', '.join(taken)} already "
                        f"exist(s): choose another name ({free_stage_name(name)} is free) or replace them "
                        "(--overwrite on the command line).")
    return names


def free_stage_name(stem: str, *, taken=()) -> str:
    """``stem``, or the first ``stem-2``, ``stem-3``, … whose three models are all free."""
    stem = stem[:64 - _LONGEST_SUFFIX - 3]
    n, name = 1, stem
    while name in taken or any(name_problem(each, "embedder") for each in stage_names(name).values()):
        n += 1
        name = f"{stem}-{n}"
    return name


@dataclass(frozen=True)
class TwoStageResult:
    name: str
    config: TwoStageConfig
    before: Evaluation
    runs: dict[str, FinetuneResult]  # column -> its trained model (missing when stopped before it)
    data_notes: tuple[str, ...]
    run_notes: tuple[str, ...]
    held_out_rows: int
    stage_rows: tuple[int, int]  # rows of stage 1, stage 2
    stopped: bool = False
    total_seconds: float = 0.0

    def evaluations(self) -> dict[str, Evaluation]:
        return {"before": self.before, **{c: self.runs[c].after for c in COLUMNS[1:] if c in self.runs}}

    def table(self) -> pd.DataFrame:
        """Every score any evaluation returned (rows) for every column measured."""
        evals = self.evaluations()
        keys = list(dict.fromkeys(k for e in evals.values() for k in e.scores))
        return pd.DataFrame({c: [e.scores.get(k, np.nan) for k in keys] for c, e in evals.items()}, index=keys)

    def sizes(self) -> pd.DataFrame:
        """Training rows per stage and training seconds behind each column (stage 1+2 counts both)."""
        s1, s2 = self.stage_rows
        seconds = {c: r.train_seconds for c, r in self.runs.items()}
        first = seconds.get("after stage 1", 0.0)
        rows = {"before": (0, 0, 0.0), "after stage 1": (s1, 0, first),
                "after stage 1+2": (s1, s2, first + seconds.get("after stage 1+2", 0.0)),
                "stage 2 only": (0, s2, seconds.get("stage 2 only", 0.0))}
        cols = {c: rows[c] for c in self.evaluations()}
        return pd.DataFrame(cols, index=["stage-1 rows", "stage-2 rows", "training seconds"], dtype=object)

    def to_dict(self) -> dict:
        return {"name": self.name, "config": self.config.to_dict(), "stopped": self.stopped,
                "held_out_rows": self.held_out_rows, "stage1_rows": self.stage_rows[0],
                "stage2_rows": self.stage_rows[1], "total_seconds": self.total_seconds,
                "scores": {c: e.scores for c, e in self.evaluations().items()},
                "training_seconds": {c: float(v) for c, v in self.sizes().loc["training seconds"].items()},
                "models": {c: {"name": r.name, "path": str(r.path) if r.path else None, "steps": len(r.losses),
                               "final_loss": r.losses[-1][1] if r.losses else None} for c, r in self.runs.items()},
                "notes": [*self.data_notes, *self.run_notes]}


@dataclass
class _Trained:
    """A stage trained into its hidden folder and measured, not yet published."""

    result: FinetuneResult
    spec: object  # its zoo spec (location: the published folder)
    tmp: Path
    data: TrainSet
    model: object  # loaded from ``tmp``: measured, and the miner of a following stage


def run_two_stage(config: TwoStageConfig, data: StageData, name: str, monitor: Monitor | None = None, *,
                  overwrite: bool = False) -> TwoStageResult:
    """Base -> stage 1 -> stage 1+2, and base -> stage 2 only; measure all four, publish three."""
    from embedlab.models import load_model
    from embedlab.models.registry import resolve_spec

    started = time.perf_counter()
    monitor = monitor or Monitor()
    sweep_stale_temp()
    # 1. refuse what can be refused before loading anything
    names = check_names_free(name, overwrite=overwrite)
    spec = resolve_spec(config.model)
    problem = why_not_trainable(spec, "loop")
    if problem:
        raise DataError(problem)
    if config.pooling and config.pooling != spec.pooling:
        spec = spec.with_pooling(config.pooling)  # the base is measured with the pooling it is trained with

    # 2. the base, measured
    monitor.set_phase(f"Loading {spec.name}")
    base = load_model(spec)
    monitor.set_phase(f"Evaluating {spec.name} on {len(data.held)} held-out rows")
    before = evaluate(base, data.held, seed=config.seed)
    out = TwoStageResult(names["after stage 1+2"], config, before, {}, data.notes, (), len(data.held),
                         (len(data.stage1), len(data.stage2)))
    trained: dict[str, _Trained] = {}
    try:
        # 3. stage 1 from the base; stage 2 from stage 1; stage 2 from the base
        plan = (("after stage 1", 1, None), ("after stage 1+2", 2, "after stage 1"), ("stage 2 only", 2, None))
        notes: list[str] = []
        if config.stage2_mine != "model" and data.stage2.negatives is None:  # the same for both stage-2 trainings
            data = dataclasses.replace(data, stage2=mine_negatives(data.stage2, method="bm25", seed=config.seed))
            notes.append("Stage-2 hard negatives mined with BM25 among the stage-2 positives.")
        for column, stage, after in plan:
            start = trained[after] if after else None
            rows = data.stage1 if stage == 1 else _stage2_rows(config, data.stage2, start.model if start else base,
                                                               notes, column, monitor)
            done = _train_stage(config, stage, column, names[column], spec, start, rows, data.held, before, monitor)
            if done is None:
                return _stopped(out, trained, started, monitor)
            trained[column] = done
        # 4. publish: records first, then the folders, the stage 1+2 model last
        monitor.set_phase("Saving")
        taken = [t.result.name for t in trained.values() if t.result.path.exists()]
        if taken and not overwrite:  # refused before any folder is published
            raise DataError(f"{', '.join(taken)} appeared while training; the new models were not saved.")
        for column in ("after stage 1", "stage 2 only", "after stage 1+2"):
            t = trained[column]
            write_record(t.result, t.data, t.tmp, t.spec, two_stage=_record(out, column, names))
        for column in ("after stage 1", "stage 2 only", "after stage 1+2"):
            publish(trained[column].tmp, trained[column].result.path, overwrite=overwrite)
        monitor.set_phase(f"Saved as {', '.join(names.values())}")
        return dataclasses.replace(out, runs={c: t.result for c, t in trained.items()}, run_notes=tuple(notes),
                                   total_seconds=round_seconds(time.perf_counter() - started))
    except BaseException:
        _discard(trained)
        raise


def _stage2_rows(config: TwoStageConfig, rows: TrainSet, start, notes: list[str], column: str,
                 monitor: Monitor) -> TrainSet:
    """Stage-2 rows with hard negatives: the data's own, BM25-mined (once, in run_two_stage), or mined by the model
    the stage starts from (the stage-1 model for stage 1+2, the base for stage 2 only)."""
    if config.stage2_mine == "model":
        monitor.set_phase(f"{column}: mining hard negatives with the starting model")
        notes.append(f"{column}: stage-2 hard negatives mined by the model it starts from.")
        return mine_negatives(rows, method="model", model=start, seed=config.seed)
    return rows  # their own negatives, or BM25-mined once before the first stage-2 training


def _train_stage(config: TwoStageConfig, stage: int, column: str, name: str, base_spec, start: _Trained | None,
                 rows: TrainSet, held: TrainSet, before: Evaluation, monitor: Monitor) -> _Trained | None:
    """Train one stage from ``start``'s folder (the base when None) into a hidden folder and measure
    it there; None when the user stopped it."""
    from embedlab.models import load_model

    stage_config = config.stage_config(stage)
    final = target_folder(name, "embedder")
    tmp = temp_folder(final)
    start_spec = dataclasses.replace(start.spec, location=str(start.tmp)) if start else base_spec
    monitor.new_run()
    monitor.set_phase(f"{column}: training on {len(rows):,} {rows.kind} (batch {stage_config.batch_size})")
    monitor.start_training()
    try:
        train_into(stage_config, start_spec, rows, monitor, tmp)
        seconds = round_seconds(monitor.finish_training())
        if monitor.should_stop():  # the loop saves nothing once stopped; a stop just after its save leaves a folder
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        what = "pairs, in-batch negatives" if stage == 1 else f"hard negatives, {stage_config.loss}"
        origin = f"{start.result.name} (stage 1)" if start else base_spec.name
        spec = finetuned_spec(name, base_spec, stage_config, rows, final,
                              description=f"{origin} trained on {rows.name} ({what}{', LoRA' if config.lora else ''};"
                                          f" two-stage run, {column})")
        monitor.set_phase(f"{column}: evaluating on {len(held)} held-out rows")
        model = load_model(dataclasses.replace(spec, location=str(tmp)), cache=False)
        after = evaluate(model, held, seed=config.seed)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result = FinetuneResult(name, "embedder", stage_config, final, len(rows), len(held), seconds, False, before,
                            after, tuple(rows.notes), losses=tuple(monitor.snapshot()["losses"]))
    return _Trained(result, spec, tmp, rows, model)


def _record(out: TwoStageResult, column: str, names: dict[str, str]) -> dict:
    return {"column": column, "models": names, "stage1_rows": out.stage_rows[0], "stage2_rows": out.stage_rows[1],
            "config": out.config.to_dict()}


def _stopped(out: TwoStageResult, trained: dict[str, _Trained], started: float, monitor: Monitor) -> TwoStageResult:
    _discard(trained)
    monitor.set_phase("Stopped: nothing was saved")
    return dataclasses.replace(out, runs={c: dataclasses.replace(t.result, path=None) for c, t in trained.items()},
                               stopped=True, run_notes=("Stopped by the user; no model was saved.",),
                               total_seconds=round_seconds(time.perf_counter() - started))


def _discard(trained: dict[str, _Trained]) -> None:
    for t in trained.values():
        shutil.rmtree(t.tmp, ignore_errors=True)


class TwoStageJob(FinetuneJob):
    """``run_two_stage`` in a daemon thread, watched like a single-stage ``FinetuneJob``."""

    config: TwoStageConfig
    data: StageData

    def _task(self) -> TwoStageResult:
        return run_two_stage(self.config, self.data, self.name, self.monitor)
