"""Does the embedder still speak? Next-token perplexity of a decoder, and the next-token loss that
the joint (GRIT) objective adds to contrastive training.

    perplexity = exp(total negative log-likelihood / number of predicted tokens)

over texts cut to a fixed number of tokens, summed over all texts (not a mean of per-text
perplexities), with padding masked out. It is computed from the *embedder's* backbone, so the same
function measures the base model and a fine-tuned one: the LM head of a decoder whose head is tied to
its input embeddings (SmolLM2: ``tie_word_embeddings``) is the embedding matrix itself, so
``logits = last_hidden_state @ embed_tokens.weight.T`` needs nothing the embedder does not already
hold. An untied head is not part of an embedding backbone (``AutoModel`` drops it and a fine-tune saves
the backbone only), so such decoders are refused with an error rather than measured with a wrong head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from embedlab.errors import ModelLoadError, OptionError

PERPLEXITY_TOKENS = 256  # tokens per text: the start of each article


@dataclass(frozen=True)
class Perplexity:
    value: float  # exp(nll / tokens); lower = the model predicts the text better
    nll: float  # summed negative log-likelihood, nats
    tokens: int  # predicted tokens (each text's first token has no context and is not predicted)
    texts: int
    max_tokens: int

    @property
    def description(self) -> str:
        return (f"next-token perplexity over the first {self.max_tokens} tokens of {self.texts} texts "
                f"({self.tokens:,} predicted tokens); lower is better")


def lm_head_weight(backbone) -> torch.Tensor:
    """The (vocab, dim) output matrix of a decoder backbone whose LM head is tied to its input embeddings."""
    if not getattr(backbone.config, "tie_word_embeddings", False):
        raise ModelLoadError(
            f"This {backbone.config.model_type} decoder has an LM head separate from its input embeddings "
            "(tie_word_embeddings is false); an embedding backbone does not carry that head, so its next-token "
            "loss cannot be computed here. Use a decoder with tied embeddings (smollm2).")
    return backbone.get_input_embeddings().weight


def next_token_nll(hidden: torch.Tensor, input_ids: torch.Tensor, predict: torch.Tensor,
                   head: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed NLL of the tokens marked in ``predict`` (batch, seq), each predicted from the hidden
    state one position before it (so a marked token must follow a real one: the caller marks
    targets, not context), and how many there are. Only the marked rows go through the
    (vocab-wide) head: no logits are made for padding, prompts or the first token."""
    targets = predict[:, 1:]  # (batch, seq-1): token t+1 is predicted at position t
    states = hidden[:, :-1][targets]  # (n, dim)
    logits = states @ head.T  # (n, vocab)
    nll = F.cross_entropy(logits.float(), input_ids[:, 1:][targets], reduction="sum")
    return nll, int(targets.sum())


def perplexity_of_ids(backbone, seqs: Sequence[Sequence[int]], *, pad_id: int, max_tokens: int = PERPLEXITY_TOKENS,
                      batch_size: int = 8) -> Perplexity:
    """Perplexity of ``backbone`` (a transformers decoder returning ``last_hidden_state``) on token
    id sequences, each cut to ``max_tokens``, right-padded in batches with the padding masked out."""
    seqs = [list(s)[:max_tokens] for s in seqs if len(s) >= 2]  # one token predicts nothing
    if not seqs:
        raise OptionError("Perplexity needs at least one text of two or more tokens.")
    head = lm_head_weight(backbone)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))  # similar lengths together: less padding
    total_nll, total_tokens = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = [seqs[i] for i in order[start:start + batch_size]]
            width = max(len(s) for s in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, seq in enumerate(batch):  # right padding: positions 0.. are the real tokens
                ids[row, :len(seq)] = torch.tensor(seq)
                mask[row, :len(seq)] = 1
            hidden = backbone(input_ids=ids, attention_mask=mask).last_hidden_state
            nll, n = next_token_nll(hidden, ids, mask.bool(), head)
            total_nll += float(nll)
            total_tokens += n
    return Perplexity(float(torch.exp(torch.tensor(total_nll / total_tokens, dtype=torch.float64))), total_nll,
                      total_tokens, len(seqs), max_tokens)


def perplexity(model, texts: Sequence[str], *, max_tokens: int = PERPLEXITY_TOKENS, batch_size: int = 8) -> Perplexity:
    """Perplexity of a loaded decoder embedder (``load_model(...)``, cached or not) on plain texts:
    no prompt and no appended EOS, only the tokenizer's own special tokens, as the LM reads text."""
    inner = getattr(model, "inner", model)  # CachedEmbedder -> TransformerEmbedder
    spec = getattr(inner, "spec", None)
    if spec is None or spec.kind != "decoder":
        raise OptionError(f"Perplexity is for decoder models; {getattr(model, 'name', model)!r} is "
                          f"{getattr(spec, 'kind', 'not a transformer')}.")
    if spec.backend != "torch":
        raise OptionError(f"Perplexity needs the torch backend; {spec.name} runs in {spec.backend}.")
    ids = inner.tokenizer(list(texts), truncation=True, max_length=max_tokens, add_special_tokens=True)["input_ids"]
    return perplexity_of_ids(inner.model, ids, pad_id=inner.pad_id, max_tokens=max_tokens, batch_size=batch_size)
