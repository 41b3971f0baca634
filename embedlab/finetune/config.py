"""Every choice of a fine-tuning run, in one record that is saved with the model."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from embedlab.errors import DataError

WORKFLOWS = ("trainer", "loop", "cross-encoder")
TRAINER_LOSSES = ("mnrl", "triplet", "cosent")
LOOP_LOSSES = ("infonce", "triplet")
DISTANCES = ("cosine", "dot", "euclidean")
SCHEDULES = ("constant", "linear", "cosine")
MINING = ("none", "bm25", "model")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class FinetuneConfig:
    model: str = "minilm"  # the base: any model name the zoo knows
    workflow: str = "trainer"  # sentence-transformers trainer | hand-rolled loop | cross-encoder reranker
    loss: str = ""  # trainer: mnrl|triplet|cosent; loop: infonce|triplet; cross-encoder: bce ("" = the first)
    epochs: float = 1.0
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    schedule: str = "linear"
    max_length: int = 64  # tokens per text while training
    scale: float = 20.0  # MNRL / CoSENT: 1 / temperature
    temperature: float = 0.05  # loop InfoNCE
    margin: float = 0.3  # triplet loss, in the chosen distance
    distance: str = "cosine"  # loop (and trainer triplet): cosine | dot | euclidean
    pooling: str = ""  # loop: override the base model's pooling ("" = keep)
    projection_dim: int = 0  # loop: add a linear projection head of this size (0 = none)
    lora: bool = False  # loop: train LoRA adapters (peft) instead of every weight
    lora_rank: int = 8
    held_out: float = 0.2
    mine: str = "none"  # hard negatives for pairs: none | bm25 | model
    max_rows: int = 0  # use at most this many rows of the data (0 = all)
    seed: int = 0

    def __post_init__(self) -> None:
        _choice("workflow", self.workflow, WORKFLOWS)
        losses = {"trainer": TRAINER_LOSSES, "loop": LOOP_LOSSES, "cross-encoder": ("bce",)}[self.workflow]
        if not self.loss:
            object.__setattr__(self, "loss", losses[0])
        _choice(f"loss for the {self.workflow} workflow", self.loss, losses)
        _choice("distance", self.distance, DISTANCES)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("mining method", self.mine, MINING)
        if self.pooling:
            from embedlab.pooling import check_pooling

            check_pooling(self.pooling)
        if not 0 < self.epochs <= 100:
            raise DataError(f"epochs must be between 0 and 100, got {self.epochs}.")
        if not 2 <= self.batch_size <= 1024:
            raise DataError(f"batch size must be between 2 and 1024, got {self.batch_size} "
                            "(in-batch negatives need at least two rows).")
        if not 0 < self.learning_rate < 1:
            raise DataError(f"learning rate must be between 0 and 1, got {self.learning_rate}.")
        if not 0 <= self.warmup_ratio < 1:
            raise DataError(f"warmup ratio must be in [0, 1), got {self.warmup_ratio}.")
        if not 8 <= self.max_length <= 8192:
            raise DataError(f"max length must be between 8 and 8192 tokens, got {self.max_length}.")
        if self.temperature <= 0 or self.scale <= 0:
            raise DataError("temperature and scale must be positive.")
        if self.margin < 0:
            raise DataError(f"margin must not be negative, got {self.margin}.")
        if self.projection_dim < 0:
            raise DataError(f"projection size must be 0 (none) or positive, got {self.projection_dim}.")
        if not 0 < self.held_out < 1:
            raise DataError(f"held-out fraction must be between 0 and 1, got {self.held_out}.")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FinetuneConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def check_output_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name) or "@" in name:
        raise DataError(f"Output name {name!r}: use letters, digits, '-', '_' or '.', starting with a letter or "
                        "digit (at most 64 characters), e.g. minilm-bbc.")
    return name


def _choice(what: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise DataError(f"Unknown {what} {value!r}. Valid: {', '.join(valid)}.")
