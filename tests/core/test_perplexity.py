"""Perplexity and the next-token loss against transformers' own causal-LM loss, on a tiny random
Llama built here (the same architecture as SmolLM2, a few thousand weights)."""

from __future__ import annotations

import math

import pytest
import torch

from embedlab.errors import ModelLoadError
from embedlab.finetune.perplexity import lm_head_weight, next_token_nll, perplexity_of_ids


def tiny_llama(*, tied: bool = True):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
                         tie_word_embeddings=tied, pad_token_id=0)
    return LlamaForCausalLM(config).eval()


SEQS = [[5, 9, 3, 17, 22, 8, 31], [4, 11, 2], [7, 7, 30, 1, 12]]


def transformers_loss(lm, seq) -> float:
    ids = torch.tensor([seq])
    with torch.no_grad():
        return float(lm(input_ids=ids, labels=ids).loss)  # mean NLL of tokens 1..n-1


def test_one_text_matches_the_causal_lm_loss_of_transformers():
    lm = tiny_llama()
    result = perplexity_of_ids(lm.model, [SEQS[0]], pad_id=0)
    assert result.tokens == len(SEQS[0]) - 1 and result.texts == 1
    assert math.log(result.value) == pytest.approx(transformers_loss(lm, SEQS[0]), rel=1e-6)


def test_batches_with_padding_give_the_token_weighted_total_of_single_texts():
    lm = tiny_llama()
    # the pooled NLL over all predicted tokens, from transformers one text at a time (no padding at all)
    nll = sum(transformers_loss(lm, s) * (len(s) - 1) for s in SEQS)
    tokens = sum(len(s) - 1 for s in SEQS)
    one_batch = perplexity_of_ids(lm.model, SEQS, pad_id=0, batch_size=3)  # padded to 7 tokens
    one_by_one = perplexity_of_ids(lm.model, SEQS, pad_id=0, batch_size=1)
    assert one_batch.tokens == one_by_one.tokens == tokens
    assert one_batch.nll == pytest.approx(nll, rel=1e-5)
    assert one_batch.value == pytest.approx(one_by_one.value, rel=1e-5)
    # a different pad id changes nothing: padding is masked out, not predicted
    assert perplexity_of_ids(lm.model, SEQS, pad_id=39, batch_size=3).value == pytest.approx(one_batch.value, rel=1e-5)


def test_texts_are_cut_to_the_token_budget():
    lm = tiny_llama()
    cut = perplexity_of_ids(lm.model, [SEQS[0]], pad_id=0, max_tokens=4)
    assert cut.tokens == 3
    assert math.log(cut.value) == pytest.approx(transformers_loss(lm, SEQS[0][:4]), rel=1e-6)


def test_left_padded_rows_predict_only_the_marked_tokens():
    """The loop's case: embedding batches are left-padded; the loss must not depend on the padding."""
    lm = tiny_llama()
    seq = SEQS[1]
    ids = torch.tensor([[0, 0, 0, *seq]])
    mask = torch.tensor([[0, 0, 0, 1, 1, 1]])
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    with torch.no_grad():
        hidden = lm.model(input_ids=ids, attention_mask=mask, position_ids=positions).last_hidden_state
        # the first real token has only padding before it: it is context, not a target
        predict = torch.tensor([[False, False, False, False, True, True]])
        nll, n = next_token_nll(hidden, ids, predict, lm_head_weight(lm.model))
    assert n == 2 and float(nll) / n == pytest.approx(transformers_loss(lm, seq), rel=1e-5)


def test_an_untied_head_is_refused_not_guessed():
    with pytest.raises(ModelLoadError, match="tie_word_embeddings"):
        perplexity_of_ids(tiny_llama(tied=False).model, SEQS, pad_id=0)


# ---- the joint objective in the loop ------------------------------------------------------------
WORDS = "the a cup final goal rates rose bank team won lost match market shares fell".split()


def tiny_decoder(*, document_prompt: str = ""):
    """The tiny Llama as an embedder, as the loop sees SmolLM2: left padding, EOS appended."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from embedlab.models.spec import ModelSpec
    from embedlab.models.transformer import TransformerEmbedder

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, "passage:": 3, **{w: i + 4 for i, w in enumerate(WORDS)}}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    spec = ModelSpec(name="tiny", kind="decoder", source="local", location="-", pooling="weighted-mean",
                     append_eos=True, padding_side="left", max_seq_length=32, document_prompt=document_prompt)
    lm = tiny_llama()
    return TransformerEmbedder(spec, lm.model, tokenizer, fingerprint="tiny"), lm


DOCS = ["the team won the cup final", "rates rose", "bank shares fell the market lost"]


def test_the_loops_lm_loss_is_the_documents_own_next_token_loss():
    """Left-padded, EOS appended, a prompt in front: the loss is still exactly the plain LM loss of
    the document's tokens (prompt tokens as context only, the appended EOS not predicted)."""
    from embedlab.finetune.loop import ContrastiveModel, document_lm_loss

    for prompt in ("", "passage: "):
        embedder, lm = tiny_decoder(document_prompt=prompt)
        model = ContrastiveModel(embedder, pooling="weighted-mean")
        with torch.no_grad():
            got = float(document_lm_loss(model, *model.states(DOCS, "document")))
        nll = tokens = 0.0
        for doc in DOCS:
            ids = embedder.tokenizer(prompt + doc)["input_ids"]
            labels = [-100] * len(embedder.tokenizer(prompt)["input_ids"]) + ids[len(embedder.tokenizer(prompt)["input_ids"]):]
            with torch.no_grad():
                loss = float(lm(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss)
            n = sum(1 for t in labels[1:] if t != -100)
            nll, tokens = nll + loss * n, tokens + n
        assert got == pytest.approx(nll / tokens, rel=1e-5), prompt


def test_the_joint_objective_trains_both_parts_and_reports_them():
    from embedlab.finetune.config import FinetuneConfig
    from embedlab.finetune.job import Monitor
    from embedlab.finetune.loop import train
    from embedlab.finetune.trainset import TrainSet

    anchors = [f"{w} {v}" for w, v in zip(WORDS, WORDS[1:])][:8]
    data = TrainSet(anchors, [f"{a} {a} the match" for a in anchors], None, None, None, name="tiny")
    config = FinetuneConfig(model="tiny", workflow="loop", batch_size=4, epochs=3, lm_weight=0.5,
                            learning_rate=1e-2, warmup_ratio=0.0, schedule="constant")
    monitor = Monitor()
    model = train(tiny_decoder()[0], data, config, monitor)
    parts = model.loss_parts
    assert len(parts) == len(monitor.losses) == 6
    # what the monitor logs is the total: contrastive + weight x next-token
    assert monitor.losses[0][1] == pytest.approx(parts[0][0] + 0.5 * parts[0][1], rel=1e-5)
    assert parts[-1][1] < parts[0][1]  # the next-token loss went down
    assert any(n.startswith("Joint loss = contrastive + 0.5 x next-token") for n in monitor.snapshot()["notes"])


def test_an_lm_weight_is_refused_for_encoders_and_other_workflows():
    from embedlab.errors import OptionError
    from embedlab.finetune.config import FinetuneConfig
    from embedlab.finetune.loop import check_joint
    from embedlab.models.registry import resolve_spec

    with pytest.raises(OptionError, match="only the hand-rolled loop"):
        FinetuneConfig(model="smollm2", workflow="trainer", lm_weight=1.0)
    with pytest.raises(OptionError, match="between 0"):
        FinetuneConfig(workflow="loop", lm_weight=-1)
    with pytest.raises(OptionError, match="for decoders"):
        check_joint(FinetuneConfig(model="minilm", workflow="loop", lm_weight=1.0), resolve_spec("minilm"))
    check_joint(FinetuneConfig(model="smollm2", workflow="loop", lm_weight=1.0), resolve_spec("smollm2"))
