"""Contrastive fine-tuning with before/after evidence: data, the two workflows, evaluation, runs."""

from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.job import FinetuneJob, FinetuneResult, Monitor, run_finetune
from embedlab.finetune.saved import delete_saved, saved_runs
from embedlab.finetune.trainset import (
    TrainSet,
    bbc_triplets,
    from_table,
    mine_negatives,
    split,
)

__all__ = ["FinetuneConfig", "FinetuneJob", "FinetuneResult", "Monitor", "TrainSet", "bbc_triplets", "delete_saved",
           "from_table", "mine_negatives", "run_finetune", "saved_runs", "split"]
