"""The practitioners' workflow: sentence-transformers' trainer, for bi-encoders and cross-encoders.

Bi-encoder losses (sentence_transformers.sentence_transformer.losses):
  mnrl     MultipleNegativesRankingLoss: InfoNCE over in-batch (+ hard) negatives, similarity x scale
  triplet  TripletLoss: max(0, d(a,p) - d(a,n) + margin), d = 1 - cos (cosine) or euclidean
  cosent   CoSENTLoss: scored pairs, every higher-scored pair must get a higher cosine
Cross-encoder: BinaryCrossEntropyLoss on (anchor, positive) = 1 and (anchor, negative) = 0.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.trainset import TrainSet
from embedlab.pooling import to_st_pooling


def _callback(monitor):
    from transformers import TrainerCallback

    class Report(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                monitor.on_step(state.global_step, state.max_steps, float(logs["loss"]))

        def on_step_end(self, args, state, control, **kwargs):
            if monitor.should_stop():
                control.should_training_stop = True

    return Report()


def _args(cls, config: FinetuneConfig, workdir: str, **extra):
    return cls(
        output_dir=workdir,
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=float(config.warmup_ratio),  # transformers 5: a float below 1 is a ratio
        lr_scheduler_type={"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}[config.schedule],
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=config.seed,
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        **extra,
    )


def _silence(trainer) -> None:
    """With tqdm off, transformers prints every log dict to stdout; the monitor reports instead."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def _no_model_card(model) -> None:
    """Model-card widget examples are computed with a tqdm bar when the trainer is built; our
    folders carry training.json instead of a model card."""
    model.model_card_data.set_widget_examples = lambda dataset: None


def _quiet() -> None:
    for name in ("sentence_transformers", "transformers.trainer", "transformers.training_args"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_sentence_transformer(backbone_dir: Path, pooling: str, max_length: int):
    """Backbone + pooling exactly as embedlab embeds (no Normalize: we L2-normalise at encode)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    transformer = Transformer(str(backbone_dir), max_seq_length=max_length)
    dim = transformer.get_embedding_dimension() if hasattr(transformer, "get_embedding_dimension") else \
        transformer.auto_model.config.hidden_size
    return SentenceTransformer(modules=[transformer, Pooling(dim, pooling_mode=to_st_pooling(pooling))], device="cpu")


def train_bi_encoder(backbone_dir: Path, pooling: str, data: TrainSet, config: FinetuneConfig, monitor, out: Path) -> None:
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer import losses

    _quiet()
    model = build_sentence_transformer(backbone_dir, pooling, config.max_length)
    if config.loss == "cosent":
        dataset = Dataset.from_dict({"sentence1": data.anchors, "sentence2": data.positives, "score": data.scores})
        loss = losses.CoSENTLoss(model, scale=config.scale)
    else:
        columns = {"anchor": data.anchors, "positive": data.positives}
        if data.negatives is not None:
            columns["negative"] = data.negatives
        dataset = Dataset.from_dict(columns)
        if config.loss == "mnrl":
            loss = losses.MultipleNegativesRankingLoss(model, scale=config.scale)
        else:
            metric = losses.TripletDistanceMetric.COSINE if config.distance == "cosine" else \
                losses.TripletDistanceMetric.EUCLIDEAN
            loss = losses.TripletLoss(model, distance_metric=metric, triplet_margin=config.margin)
    sampler = BatchSamplers.NO_DUPLICATES if config.loss == "mnrl" else BatchSamplers.BATCH_SAMPLER
    with tempfile.TemporaryDirectory(prefix="embedlab-train-") as workdir:
        args = _args(SentenceTransformerTrainingArguments, config, workdir, batch_sampler=sampler)
        _no_model_card(model)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss,
                                             callbacks=[_callback(monitor)])
        _silence(trainer)
        trainer.train()
    model.save(str(out), create_model_card=False)


def train_cross_encoder(backbone_dir: Path, data: TrainSet, config: FinetuneConfig, monitor, out: Path) -> None:
    """A reranker: the backbone with a fresh one-logit head, trained on positives vs negatives."""
    from datasets import Dataset
    from sentence_transformers import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    _quiet()
    model = CrossEncoder(str(backbone_dir), num_labels=1, max_length=config.max_length, device="cpu")
    queries, docs, labels = [], [], []
    for a, p, n in zip(data.anchors, data.positives, data.negatives):
        queries += [a, a]
        docs += [p, n]
        labels += [1.0, 0.0]
    dataset = Dataset.from_dict({"query": queries, "document": docs, "label": labels})
    with tempfile.TemporaryDirectory(prefix="embedlab-train-") as workdir:
        args = _args(CrossEncoderTrainingArguments, config, workdir)
        _no_model_card(model)
        trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset,
                                      loss=BinaryCrossEntropyLoss(model), callbacks=[_callback(monitor)])
        _silence(trainer)
        trainer.train()
    model.save(str(out), create_model_card=False)
