"""Contrastive fine-tuning with before/after evidence: data, the two workflows, evaluation, runs."""

from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.trainset import TrainSet, bbc_triplets, from_table, mine_negatives, split
from embedlab.finetune.job import FinetuneJob, FinetuneResult, Monitor, run_finetune

__all__ = ["FinetuneConfig", "FinetuneJob", "FinetuneResult", "Monitor", "TrainSet", "bbc_triplets", "from_table",
           "mine_negatives", "run_finetune", "split"]
