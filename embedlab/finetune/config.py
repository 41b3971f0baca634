"""Every choice of a fine-tuning run, in one record that is saved with the model.

The option lists and defaults here are the only ones: the CLI's arguments, the page's widgets
and the app's session-state defaults read them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from embedlab.errors import OptionError

WORKFLOWS = ("trainer", "loop", "cross-encoder")
LOSSES = {"trainer": ("mnrl", "triplet", "cosent"), "loop": ("infonce", "triplet"), "cross-encoder": ("bce",)}
ALL_LOSSES = tuple(dict.fromkeys(loss for losses in LOSSES.values() for loss in losses))
# MNRL is InfoNCE over in-batch negatives: each workflow names it its own way and accepts the other's name.
SAME_LOSS = {"trainer": {"infonce": "mnrl"}, "loop": {"mnrl": "infonce"}}
DISTANCES = ("cosine", "dot", "euclidean")
TRAINER_DISTANCES = ("cosine", "euclidean")  # sentence-transformers' TripletLoss knows no dot product
SCHEDULES = ("linear", "cosine", "constant")
MINING = ("none", "bm25", "model")
LEARNING_RATE = 5e-5  # full fine-tuning of MiniLM
LORA_LEARNING_RATE = 1e-3  # LoRA adapters start at zero; 1e-3 turned SmolLM2 into a useful embedder on BBC
BBC_ROWS = 500  # the quick default run: 400 training rows (under two minutes of MiniLM on two cores at 64 tokens)
AUTO_LENGTH = "auto"  # max_length chosen from the data's token lengths (embedlab.finetune.length)
LOOP_ONLY = ("pooling", "projection_dim", "lora", "lm_weight")  # options only the hand-rolled loop has
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_learning_rate(*, lora: bool) -> float:
    return LORA_LEARNING_RATE if lora else LEARNING_RATE


@dataclass(frozen=True)
class FinetuneConfig:
    model: str = "minilm"  # the base: any model name the zoo knows
    workflow: str = "trainer"  # sentence-transformers trainer | hand-rolled loop | cross-encoder reranker
    loss: str = ""  # one of LOSSES[workflow] ("" = the first)
    epochs: float = 1.0
    batch_size: int = 16
    learning_rate: float | None = None  # None = LEARNING_RATE, or LORA_LEARNING_RATE with LoRA
    warmup_ratio: float = 0.1
    schedule: str = "linear"
    max_length: int | str = AUTO_LENGTH  # tokens per text while training, or "auto": from the data
    scale: float = 20.0  # MNRL / CoSENT: 1 / temperature
    temperature: float = 0.05  # loop InfoNCE
    margin: float = 0.3  # triplet loss, in the chosen distance
    distance: str = "cosine"  # loop (and trainer triplet): cosine | dot | euclidean
    pooling: str = ""  # loop: override the base model's pooling ("" = keep)
    projection_dim: int = 0  # loop: add a linear projection head of this size (0 = none)
    lora: bool = False  # loop: train LoRA adapters (peft) instead of every weight
    lora_rank: int = 8
    lm_weight: float = 0.0  # loop, decoders: + this x next-token loss on the positives (GRIT's joint objective)
    held_out: float = 0.2
    mine: str = "none"  # hard negatives for pairs: none | bm25 | model
    max_rows: int = 0  # use at most this many rows of the data (0 = all)
    seed: int = 0

    def __post_init__(self) -> None:
        # 1. the defaults that depend on other choices
        _choice("workflow", self.workflow, WORKFLOWS)
        if not self.loss:
            object.__setattr__(self, "loss", LOSSES[self.workflow][0])
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", default_learning_rate(lora=self.lora))
        # 2. the choices
        self._check_choices()
        # 3. the numbers
        self._check_numbers()

    def _check_choices(self) -> None:
        _choice(f"loss for the {self.workflow} workflow", self.loss, LOSSES[self.workflow])
        _choice("distance", self.distance, DISTANCES)
        if self.workflow == "trainer" and self.loss == "triplet":
            _choice("distance for the trainer's triplet loss", self.distance, TRAINER_DISTANCES)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("mining method", self.mine, MINING)
        used = [name for name in LOOP_ONLY if getattr(self, name)]
        if used and self.workflow != "loop":
            raise OptionError(f"{', '.join(used)}: only the hand-rolled loop has these options; choose workflow "
                              f"'loop' or leave them out (workflow is {self.workflow!r}).")
        if self.pooling:
            from embedlab.pooling import check_pooling

            check_pooling(self.pooling)

    def _check_numbers(self) -> None:
        if not 0 < self.epochs <= 100:
            raise OptionError(f"epochs must be between 0 and 100, got {self.epochs}.")
        if not 2 <= self.batch_size <= 1024:
            raise OptionError(f"batch size must be between 2 and 1024, got {self.batch_size} "
                              "(in-batch negatives need at least two rows).")
        if not 0 < self.learning_rate < 1:
            raise OptionError(f"learning rate must be between 0 and 1, got {self.learning_rate}.")
        if not 0 <= self.warmup_ratio < 1:
            raise OptionError(f"warmup ratio must be in [0, 1), got {self.warmup_ratio}.")
        if self.max_length != AUTO_LENGTH and not (isinstance(self.max_length, int) and 8 <= self.max_length <= 8192):
            raise OptionError(f"max length must be {AUTO_LENGTH!r} or between 8 and 8192 tokens, "
                              f"got {self.max_length!r}.")
        if self.temperature <= 0 or self.scale <= 0:
            raise OptionError("temperature and scale must be positive.")
        if self.margin < 0:
            raise OptionError(f"margin must not be negative, got {self.margin}.")
        if self.projection_dim < 0:
            raise OptionError(f"projection size must be 0 (none) or positive, got {self.projection_dim}.")
        if not 0 < self.held_out < 1:
            raise OptionError(f"held-out fraction must be between 0 and 1, got {self.held_out}.")
        if not 0 <= self.lm_weight <= 100:
            raise OptionError(f"LM weight must be between 0 (contrastive only) and 100, got {self.lm_weight}.")
        if self.max_rows < 0:
            raise OptionError(f"max rows must be 0 (all) or positive, got {self.max_rows}.")

    @property
    def kind(self) -> str:
        """What the run makes: a cross-encoder is a reranker, everything else an embedder."""
        return "reranker" if self.workflow == "cross-encoder" else "embedder"

    @classmethod
    def for_workflow(cls, workflow: str, *, loss: str = "", **options) -> "FinetuneConfig":
        """A config for ``workflow`` where the loss may be named as the other workflow names it
        (``infonce`` in the trainer is its ``mnrl``); everything not given is the default."""
        loss = SAME_LOSS.get(workflow, {}).get(loss, loss)
        return cls(workflow=workflow, loss=loss, **options)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FinetuneConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def parse_max_length(text: str) -> int | str:
    """``auto`` or a whole number of tokens, as typed on the command line."""
    text = str(text).strip().lower()
    if text == AUTO_LENGTH:
        return AUTO_LENGTH
    try:
        return int(text)
    except ValueError:
        raise OptionError(f"max length must be {AUTO_LENGTH!r} or a whole number of tokens, got {text!r}.") from None


def check_output_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name) or "@" in name:
        raise OptionError(f"Output name {name!r}: use letters, digits, '-', '_' or '.', starting with a letter or "
                          "digit (at most 64 characters), e.g. minilm-bbc.")
    return name


def _choice(what: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise OptionError(f"Unknown {what} {value!r}. Valid: {', '.join(valid)}.")


DEFAULTS = FinetuneConfig()  # every default, for the CLI's arguments and the app's widgets
