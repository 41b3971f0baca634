"""Contrastive fine-tuning in plain PyTorch, every choice visible. Read it top to bottom:

1. the model: a transformers backbone, a pooling function, an optional linear projection head;
   optionally LoRA adapters (peft) so only small low-rank matrices are trained;
2. the similarity: cosine, dot product, or negative euclidean distance;
3. the loss: InfoNCE over in-batch (and hard) negatives with a temperature, or a triplet margin loss;
   for decoders optionally plus a weighted next-token loss on the documents (GRIT's joint objective);
4. the schedule: warm-up, then constant, linear or cosine decay of the learning rate;
5. the loop: batches of (anchor, positive[, negative]) texts, AdamW, gradient clipping;
6. saving: merged weights + tokenizer, plus the head in sentence-transformers' Dense layout.

Works the same for encoders (MiniLM: mean pooling) and decoders (SmolLM2: last-token or SGPT
weighted-mean pooling, EOS appended, left padding), because tokenising and padding come from the
same TransformerEmbedder that embeds at inference time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from embedlab.errors import OptionError
from embedlab.finetune.config import FinetuneConfig
from embedlab.finetune.perplexity import lm_head_weight, next_token_nll
from embedlab.finetune.trainset import TrainSet
from embedlab.pooling import pool

# Which linear layers LoRA adapts, by backbone family (attention projections, as in the LoRA paper).
LORA_TARGETS = {"llama": ["q_proj", "k_proj", "v_proj", "o_proj"], "bert": ["query", "key", "value"],
                "mpnet": ["q", "k", "v", "o"]}


# ---- 1. the model ------------------------------------------------------------------------------
class ContrastiveModel(torch.nn.Module):
    def __init__(self, embedder, *, pooling: str, projection_dim: int = 0) -> None:
        super().__init__()
        self.embedder = embedder  # tokenizer, padding side, EOS handling, max length
        self.backbone = embedder.model
        self.pooling = pooling
        dim = embedder.dim
        self.head = torch.nn.Linear(dim, projection_dim) if projection_dim else None
        self.loss_parts: list[tuple[float, float]] = []  # (contrastive, next-token) per step, joint objective only

    def forward(self, texts: list[str], role: str) -> torch.Tensor:
        return self.pooled(*self.states(texts, role))

    def states(self, texts: list[str], role: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Last hidden states (batch, seq, dim) and the batch they came from (ids, mask, positions)."""
        batch = self.embedder._collate(self.embedder.tokenize(texts, role=role))
        return self.backbone(**batch).last_hidden_state, batch

    def pooled(self, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        vectors = pool(hidden, batch["attention_mask"], self.pooling)  # (batch, dim)
        return self.head(vectors) if self.head is not None else vectors


def add_lora(model: ContrastiveModel, rank: int) -> None:
    from peft import LoraConfig, get_peft_model

    family = model.backbone.config.model_type
    targets = LORA_TARGETS.get(family)
    if targets is None:
        raise OptionError(f"LoRA: no target layers known for {family!r} backbones ({', '.join(LORA_TARGETS)}).")
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, target_modules=targets, bias="none")
    model.backbone = get_peft_model(model.backbone, config)


# ---- 2. the similarity -------------------------------------------------------------------------
def similarity(a: torch.Tensor, b: torch.Tensor, distance: str) -> torch.Tensor:
    """(n, d) x (m, d) -> (n, m); higher = more alike."""
    if distance == "cosine":
        return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    if distance == "dot":
        return a @ b.T
    return -torch.cdist(a, b)  # euclidean


# ---- 3. the loss -------------------------------------------------------------------------------
def info_nce(anchors, positives, negatives, *, distance: str, temperature: float) -> torch.Tensor:
    """Each anchor must pick its own positive among every positive and negative in the batch."""
    candidates = positives if negatives is None else torch.cat([positives, negatives])
    logits = similarity(anchors, candidates, distance) / temperature
    target = torch.arange(len(anchors))
    return F.cross_entropy(logits, target)


def triplet(anchors, positives, negatives, *, distance: str, margin: float) -> torch.Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d = -similarity (1 - cos for cosine)."""
    d_pos = -torch.diagonal(similarity(anchors, positives, distance))
    d_neg = -torch.diagonal(similarity(anchors, negatives, distance))
    return F.relu(d_pos - d_neg + margin).mean()


def lm_targets(mask: torch.Tensor, *, skip_first: int, skip_last: int) -> torch.Tensor:
    """Which tokens of an embedding batch the next-token loss predicts: each row's real tokens after
    its first ``skip_first`` (the prompt; the first token has no context anyway) and before its last
    ``skip_last`` (the EOS appended for pooling), whichever side the padding is on."""
    index = mask.cumsum(1) - 1  # 0, 1, ... along each row's real tokens; padding is masked below
    length = mask.sum(1, keepdim=True)
    return mask.bool() & (index >= max(skip_first, 1)) & (index < length - skip_last)


def document_lm_loss(model: ContrastiveModel, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean next-token loss on the documents, from the hidden states the embedding pass already made
    (no second forward) through the LM head tied to the input embeddings.

    The embedding batch is not laid out like plain LM text: decoders are left-padded, the document
    prompt comes first and an EOS is appended. Padding and the appended EOS are left out of the
    loss (a cut text does not end there, so teaching the LM to stop there would be wrong), and so are
    the prompt's tokens (the same few every time: they would only make the loss look smaller).
    Positions stay right because the embedder passes position ids that start at 0 on the first real
    token, so a left-padded row is read exactly as the same tokens unpadded, as perplexity reads them.
    """
    embedder = model.embedder
    prompt = embedder.spec.prompt("document")
    # the prompt's tokens (with any BOS); a prompt merging with the text's first word is off by one at most
    skip_first = len(embedder.tokenizer(prompt, add_special_tokens=True)["input_ids"])
    predict = lm_targets(batch["attention_mask"], skip_first=skip_first, skip_last=int(embedder.spec.append_eos))
    nll, tokens = next_token_nll(hidden, batch["input_ids"], predict, lm_head_weight(model.backbone))
    return nll / max(tokens, 1)


def check_joint(config: FinetuneConfig, spec) -> None:
    """The joint objective needs a decoder (an encoder has no next-token head)."""
    if config.lm_weight and spec.kind != "decoder":
        raise OptionError(f"LM weight {config.lm_weight:g}: the next-token loss is for decoders (smollm2); "
                          f"{spec.name} is an {spec.kind}. Set the LM weight to 0 or pick a decoder.")


# ---- 4. the schedule ---------------------------------------------------------------------------
def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * progress))  # cosine


# ---- 5. the loop -------------------------------------------------------------------------------
def train(embedder, data: TrainSet, config: FinetuneConfig, monitor) -> ContrastiveModel:
    """Train in place and return the model. ``monitor`` gets ``on_step(step, total, loss)`` with
    the total loss and is asked ``should_stop()`` after every step; with an LM weight the two parts
    of every step are kept in ``model.loss_parts`` and summed up in a ``monitor.note`` at the end."""
    check_joint(config, embedder.spec)
    torch.manual_seed(config.seed)
    model = ContrastiveModel(embedder, pooling=config.pooling or embedder.spec.pooling,
                             projection_dim=config.projection_dim)
    if config.lora:
        add_lora(model, config.lora_rank)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)

    rng = np.random.default_rng(config.seed)
    per_epoch = max(1, len(data) // config.batch_size)  # drop the last partial batch: fewer negatives
    total = max(1, int(round(per_epoch * config.epochs)))
    warmup = int(config.warmup_ratio * total)
    step = 0
    while step < total:
        order = rng.permutation(len(data))
        for start in range(0, per_epoch * config.batch_size, config.batch_size):
            rows = order[start:start + config.batch_size]
            anchors = model([data.anchors[i] for i in rows], "query")
            doc_hidden, doc_batch = model.states([data.positives[i] for i in rows], "document")
            positives = model.pooled(doc_hidden, doc_batch)
            negatives = model([data.negatives[i] for i in rows], "document") if data.negatives else None
            if config.loss == "infonce":
                loss = info_nce(anchors, positives, negatives, distance=config.distance, temperature=config.temperature)
            else:
                loss = triplet(anchors, positives, negatives, distance=config.distance, margin=config.margin)
            if config.lm_weight:  # GRIT: representation loss + weighted generative loss, one backward
                lm_loss = document_lm_loss(model, doc_hidden, doc_batch)
                model.loss_parts.append((float(loss.detach()), float(lm_loss.detach())))
                loss = loss + config.lm_weight * lm_loss

            lr = config.learning_rate * lr_factor(step, total, warmup, config.schedule)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            step += 1
            monitor.on_step(step, total, float(loss.detach()))
            if step >= total or monitor.should_stop():
                break
        if monitor.should_stop():
            break
    if model.loss_parts:
        monitor.note(joint_note(model.loss_parts, config.lm_weight))
    model.eval()
    return model


def joint_note(parts: list[tuple[float, float]], weight: float) -> str:
    """The two parts of the joint loss, first steps vs last steps (a tenth of the run each)."""
    k = max(1, len(parts) // 10)
    first, last = np.mean(parts[:k], axis=0), np.mean(parts[-k:], axis=0)
    return (f"Joint loss = contrastive + {weight:g} x next-token: contrastive {first[0]:.3f} -> {last[0]:.3f}, "
            f"next-token {first[1]:.3f} -> {last[1]:.3f} (mean of the first and last {k} of {len(parts)} steps).")


# ---- 6. saving ---------------------------------------------------------------------------------
def save(model: ContrastiveModel, folder: Path) -> None:
    """Weights and tokenizer in a plain transformers folder; with a head, sentence-transformers'
    modules.json + 2_Dense so other tools load it too (embedlab's loader applies the head)."""
    backbone = model.backbone
    if hasattr(backbone, "merge_and_unload"):  # LoRA: fold the adapters into the weights
        backbone = backbone.merge_and_unload()
        model.backbone = backbone
        model.embedder.model = backbone
    folder.mkdir(parents=True, exist_ok=True)
    backbone.save_pretrained(folder)
    model.embedder.tokenizer.save_pretrained(folder)
    if model.head is None:
        return
    from safetensors.torch import save_file

    from embedlab.pooling import to_st_pooling

    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": model.embedder.dim, "pooling_mode": to_st_pooling(model.pooling)}))
    dense = folder / "2_Dense"
    dense.mkdir(exist_ok=True)
    (dense / "config.json").write_text(json.dumps({
        "in_features": model.head.in_features, "out_features": model.head.out_features, "bias": True,
        "activation_function": "torch.nn.modules.linear.Identity"}))
    save_file({"linear.weight": model.head.weight.detach().contiguous(),
               "linear.bias": model.head.bias.detach().contiguous()}, str(dense / "model.safetensors"))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.sentence_transformer.modules.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.base.modules.Dense"},
    ], indent=2))
