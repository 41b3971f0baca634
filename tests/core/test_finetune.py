"""Fine-tuning core without real models: data checks, splitting, mining, evaluation, losses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from embedlab.errors import DataError, OptionError
from embedlab.finetune import loop
from embedlab.finetune.config import (
    ALL_LOSSES,
    LEARNING_RATE,
    LORA_LEARNING_RATE,
    LOSSES,
    FinetuneConfig,
    check_output_name,
)
from embedlab.finetune.evaluate import evaluate, held_out_corpus, random_pair_cosine
from embedlab.finetune.trainset import (
    TrainSet,
    bbc_triplets,
    check,
    from_table,
    mine_negatives,
    split,
)
from tests.fakes import TableEmbedder


def pairs_frame(n=12, **extra):
    df = pd.DataFrame({"query": [f"question number {i}" for i in range(n)],
                       "answer": [f"the answer text {i}" for i in range(n)]})
    for k, v in extra.items():
        df[k] = v
    return df


# ---- reading and checking -----------------------------------------------------------------------
def test_columns_are_found_by_their_usual_names():
    data = from_table(pairs_frame(topic=["a", "b"] * 6))
    assert data.kind == "pairs" and len(data) == 12
    assert data.anchors[3] == "question number 3" and data.positives[3] == "the answer text 3"
    assert data.groups[:2] == ["a", "b"] and data.negatives is None and data.scores is None
    assert data.notes[0] == "Read columns: anchor='query', positive='answer', group='topic'."


def test_triplets_and_explicit_columns():
    df = pairs_frame(other=[f"unrelated {i}" for i in range(12)])
    data = from_table(df, anchor="answer", positive="query", negative="other")
    assert data.kind == "triplets" and data.anchors[0] == "the answer text 0" and data.negatives[0] == "unrelated 0"
    with pytest.raises(DataError, match="Column 'nope' \\(the negative\\) is not in the file"):
        from_table(df, negative="nope")


def test_numeric_label_is_a_score_and_text_label_is_a_group():
    scored = from_table(pairs_frame(label=[str(i % 5) for i in range(12)]))
    assert scored.kind == "scored pairs" and scored.scores[:3] == [0.0, 1.0, 2.0] and scored.groups is None
    grouped = from_table(pairs_frame(label=["sport", "tech"] * 6))
    assert grouped.kind == "pairs" and grouped.groups[:2] == ["sport", "tech"]


def test_one_row_is_rejected():
    with pytest.raises(DataError, match="1 usable row\\(s\\); fine-tuning needs at least 10"):
        from_table(pairs_frame(1))


def test_missing_columns_name_the_columns_there_are():
    with pytest.raises(DataError, match="Could not find the training columns.*columns are: a, b"):
        from_table(pd.DataFrame({"a": ["x"] * 20, "b": ["y"] * 20}))


def test_empty_strings_are_left_out_with_a_note_and_all_empty_is_rejected():
    df = pairs_frame(14)
    df.loc[[2, 5], "answer"] = ["", "   "]
    data = from_table(df)
    assert len(data) == 12 and "question number 2" not in data.anchors
    assert "2 row(s) with an empty cell left out." in data.notes
    with pytest.raises(DataError, match="Every row has an empty cell"):
        from_table(pd.DataFrame({"anchor": [""] * 20, "positive": [" "] * 20}))


def test_identical_anchor_and_positive_everywhere_is_rejected():
    df = pd.DataFrame({"anchor": [f"Same {i}" for i in range(20)], "positive": [f"same {i}" for i in range(20)]})
    with pytest.raises(DataError, match="same text in every row: there is nothing to learn"):
        from_table(df)
    df.loc[:12, "positive"] = [f"different {i}" for i in range(13)]
    data = from_table(df)
    assert len(data) == 13 and "7 row(s) whose anchor equals its positive left out." in data.notes


def test_loss_needs():
    pairs = from_table(pairs_frame())
    with pytest.raises(DataError, match="CoSENT learns from scored pairs"):
        check(pairs, loss="cosent")
    with pytest.raises(DataError, match="Triplet loss needs a negative"):
        check(pairs, loss="triplet")
    scored = from_table(pairs_frame(score=[0.5, 1.0] * 6))
    with pytest.raises(DataError, match="these are scored pairs"):
        check(scored, loss="mnrl")
    with pytest.raises(DataError, match="same score"):
        from_table(pairs_frame(score=["3"] * 12))


def test_config_and_name_checks():
    with pytest.raises(OptionError, match="Unknown loss for the trainer workflow 'infonce'"):
        FinetuneConfig(workflow="trainer", loss="infonce")
    with pytest.raises(OptionError, match="batch size must be between 2"):
        FinetuneConfig(batch_size=1)
    assert FinetuneConfig.from_dict({**FinetuneConfig(loss="triplet").to_dict(), "unknown": 1}).loss == "triplet"
    assert check_output_name(" minilm-bbc ") == "minilm-bbc"
    for bad in ("", "a b", "x@cls", "../up", "-lead"):
        with pytest.raises(OptionError, match="Output name"):
            check_output_name(bad)


def test_defaults_per_workflow_come_from_the_config():
    assert FinetuneConfig().loss == "mnrl" and FinetuneConfig().learning_rate == LEARNING_RATE == 5e-5
    assert FinetuneConfig(workflow="loop").loss == "infonce" and FinetuneConfig(workflow="cross-encoder").loss == "bce"
    assert FinetuneConfig(workflow="loop", lora=True).learning_rate == LORA_LEARNING_RATE == 1e-3
    assert FinetuneConfig(workflow="loop", lora=True, learning_rate=2e-4).learning_rate == 2e-4
    # the other workflow's name for InfoNCE is accepted where the CLI builds the config
    assert FinetuneConfig.for_workflow("trainer", loss="infonce").loss == "mnrl"
    assert FinetuneConfig.for_workflow("loop", loss="mnrl").loss == "infonce"
    assert FinetuneConfig.for_workflow("loop", loss="triplet").loss == "triplet"
    assert FinetuneConfig(workflow="cross-encoder").kind == "reranker" and FinetuneConfig().kind == "embedder"
    assert set(LOSSES["trainer"]) | set(LOSSES["loop"]) | {"bce"} == set(ALL_LOSSES)


def test_options_a_workflow_does_not_have_are_refused_not_ignored():
    with pytest.raises(OptionError, match="lora: only the hand-rolled loop"):
        FinetuneConfig(workflow="trainer", lora=True)
    with pytest.raises(OptionError, match="pooling, projection_dim: only the hand-rolled loop"):
        FinetuneConfig(workflow="cross-encoder", pooling="cls", projection_dim=8)
    with pytest.raises(OptionError, match="distance for the trainer's triplet loss 'dot'"):
        FinetuneConfig(loss="triplet", distance="dot")
    assert FinetuneConfig(workflow="loop", loss="triplet", distance="dot").distance == "dot"


# ---- splitting and mining -----------------------------------------------------------------------
def test_split_keeps_an_anchor_on_one_side_and_is_seeded():
    anchors = [f"a{i // 2}" for i in range(40)]  # every anchor twice
    data = TrainSet(anchors, [f"p{i}" for i in range(40)])
    train, held = split(data, held_out=0.25, seed=1, min_held_out=0)
    assert not set(train.anchors) & set(held.anchors)
    assert len(set(held.anchors)) == 5 and len(held) == 10 and len(train) == 30
    again_train, again_held = split(data, held_out=0.25, seed=1, min_held_out=0)
    assert again_held.anchors == held.anchors
    assert split(data, held_out=0.25, seed=2, min_held_out=0)[1].anchors != held.anchors


def test_small_sets_hold_out_enough_rows_to_measure():
    from embedlab.finetune.trainset import held_out_count

    # the share asked for, raised to 100 anchors but never past half, capped at 500, two on each side
    assert [held_out_count(n, 0.2) for n in (6, 40, 100, 200, 300, 500, 900, 5000)] == \
        [3, 20, 50, 100, 100, 100, 180, 500]
    assert held_out_count(1000, 0.3, min_held_out=0, max_held_out=10_000) == 300
    anchors = [f"a{i}" for i in range(100)]
    train, held = split(TrainSet(anchors, [f"p{i}" for i in range(100)]), held_out=0.2)
    assert len(held) == 50 and len(train) == 50


def test_bm25_mining_never_returns_the_own_positive():
    anchors = ["red apples and pears", "fast cars on the road", "stock market crash", "apples harvest"]
    positives = ["red apples and pears grow on trees", "fast cars race on the road", "the stock market crashed",
                 "the apples harvest was good, red apples and pears"]
    mined = mine_negatives(TrainSet(anchors, positives), method="bm25")
    for a, p, n in zip(mined.anchors, mined.positives, mined.negatives):
        assert n != p
    # the best other match for the apple questions is the other apple text
    assert mined.negatives[0] == positives[3] and mined.negatives[3] == positives[0]
    assert mined.notes[-1] == "Hard negatives mined with bm25 (4 rows)."


def test_model_mining_uses_the_given_model_and_skips_copies_of_the_positive():
    table = {"q1": [1, 0, 0], "q2": [0, 1, 0], "d1": [1, 0, 0], "d1 copy": [0.9, 0.1, 0], "d2": [0, 1, 0],
             "d3": [0.5, 0.5, 0]}
    data = TrainSet(["q1", "q2", "q1"], ["d1", "d2", "D1"], None)
    table["D1"] = table["d1"]
    mined = mine_negatives(TrainSet(["q1", "q2"], ["d1", "d2"]), method="model", model=TableEmbedder(table))
    assert mined.negatives == ["d2", "d1"]  # the other positive is the only choice in a pool of two
    mined = mine_negatives(data, method="model", model=TableEmbedder(table))
    assert mined.negatives[0] not in ("d1", "D1") and mined.negatives[2] not in ("d1", "D1")


def test_bbc_triplets_negatives_share_the_topic():
    data = bbc_triplets(200, seed=3)
    from embedlab.bundled import bbc_news

    topic = dict(zip(bbc_news()["text"], bbc_news()["label"]))
    assert len(data) == 200 and data.kind == "triplets"
    for p, n, g in zip(data.positives, data.negatives, data.groups):
        assert n != p and topic[n] == topic[p] == g
    assert bbc_triplets(200, seed=3).anchors == data.anchors


# ---- evaluation --------------------------------------------------------------------------------
def test_evaluate_known_answer():
    table = {"qa": [1, 0], "qb": [0, 1], "pa": [1, 0.2], "pb": [1, 0.1], "na": [0.3, 1]}
    data = TrainSet(["qa", "qb"], ["pa", "pb"], ["na", "pa"], groups=["x", "y"])
    queries, docs, groups, qrels = held_out_corpus(data)
    assert queries == ["qa", "qb"] and docs == ["pa", "pb", "na"] and groups == ["x", "y", "negative only"]
    assert qrels == {"q0": {"d0": 1}, "q1": {"d1": 1}}
    result = evaluate(TableEmbedder(table), data)
    # qa: pa (cos .98) > na (.29): right. qb: pb (.0995) < pa (.196): wrong.
    assert result.scores["triplet accuracy"] == 0.5
    # qa: pb (.995) before pa (.981), na (.287): its positive is second.
    # qb: na (.958), pa (.196), pb (.0995): its positive is third.
    assert result.scores["MRR@10"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert result.scores["nDCG@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / 2)
    assert result.scores["Recall@1"] == 0.0 and result.scores["Recall@10"] == 1.0
    np.testing.assert_allclose(result.positive_sims, [1 / np.hypot(1, 0.2), 0.1 / np.hypot(1, 0.1)], rtol=1e-5)


def test_evaluate_with_a_reranker_reorders_the_top():
    from tests.fakes import RuleReranker

    table = {"qa": [1, 0], "qb": [0, 1], "pa": [1, 0.2], "pb": [1, 0.1], "na": [0.3, 1]}
    data = TrainSet(["qa", "qb"], ["pa", "pb"], ["na", "pa"])
    oracle = RuleReranker(lambda q, d: 1.0 if (q, d) in {("qa", "pa"), ("qb", "pb")} else 0.0)
    result = evaluate(TableEmbedder(table), data, reranker=oracle)
    assert result.scores["MRR@10"] == 1.0 and result.scores["triplet accuracy"] == 1.0


def test_random_pair_cosine():
    assert random_pair_cosine(np.array([[1, 0], [1, 0], [1, 0.0]])) == pytest.approx(1.0)
    assert random_pair_cosine(np.array([[1, 0], [-1, 0.0]])) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    assert abs(random_pair_cosine(rng.normal(size=(500, 64)))) < 0.02  # random directions: about 0
    shifted = rng.normal(size=(500, 64)) + 5.0  # a shared offset: every pair looks alike
    assert random_pair_cosine(shifted) > 0.9


# ---- the hand-rolled loop's parts --------------------------------------------------------------
def test_similarities():
    a = torch.tensor([[3.0, 4.0]])
    b = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    assert loop.similarity(a, b, "cosine")[0].tolist() == pytest.approx([1.0, 0.8])
    assert loop.similarity(a, b, "dot")[0].tolist() == pytest.approx([25.0, 4.0])
    assert loop.similarity(a, b, "euclidean")[0].tolist() == pytest.approx([0.0, -math.sqrt(9 + 9)], abs=1e-3)


def test_info_nce_known_answer():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    positives = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = loop.info_nce(anchors, positives, None, distance="cosine", temperature=0.5)
    # each row: logits (2, 0) -> -log(e^2 / (e^2 + 1))
    assert float(loss) == pytest.approx(-math.log(math.e ** 2 / (math.e ** 2 + 1)), rel=1e-6)
    negatives = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # a hard negative equal to the first positive
    loss = loop.info_nce(anchors, positives, negatives, distance="cosine", temperature=0.5)
    first = -math.log(math.e ** 2 / (3 * math.e ** 2 + 1))  # row 0: (2, 0, 2, 2)
    second = -math.log(math.e ** 2 / (math.e ** 2 + 3))  # row 1: (0, 2, 0, 0)
    assert float(loss) == pytest.approx((first + second) / 2, rel=1e-6)


def test_triplet_known_answer():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    p = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    n = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    # row 0: d(a,p)=0, d(a,n)=1 -> max(0, -1 + .3) = 0; row 1: 1 - 0 + .3 = 1.3
    assert float(loop.triplet(a, p, n, distance="cosine", margin=0.3)) == pytest.approx(1.3 / 2)


def test_learning_rate_schedules():
    assert [loop.lr_factor(s, 10, 2, "constant") for s in range(4)] == [0.5, 1.0, 1.0, 1.0]
    assert loop.lr_factor(2, 10, 2, "linear") == 1.0 and loop.lr_factor(6, 10, 2, "linear") == 0.5
    assert loop.lr_factor(6, 10, 2, "cosine") == pytest.approx(0.5)
    assert loop.lr_factor(9, 10, 0, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.9)))


def test_per_query_scores_are_indexed_by_the_query_text():
    table = {"qa": [1, 0], "qb": [0, 1], "pa": [1, 0.2], "pb": [1, 0.1], "na": [0.3, 1]}
    result = evaluate(TableEmbedder(table), TrainSet(["qa", "qb"], ["pa", "pb"], ["na", "pa"]))
    assert result.per_query.loc["qa", "MRR@10"] == 0.5 and result.per_query.loc["qb", "MRR@10"] == pytest.approx(1 / 3)


# ---- saved models ------------------------------------------------------------------------------
def test_saved_runs_are_listed_from_their_records_and_deleted_only_inside_the_zoo(tmp_home):
    import json

    from embedlab.finetune.saved import (
        RECORD_FILE,
        check_name_free,
        delete_saved,
        saved_runs,
        target_folder,
    )
    from embedlab.models.registry import SPEC_FILE, finetuned_dir

    folder = target_folder("mine", "reranker")
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / RECORD_FILE).write_text(json.dumps({"base": "minilm", "before": {"nDCG@10": 0.5},
                                                  "after": {"nDCG@10": 0.6}}))
    outside = finetuned_dir().parent / "keep"
    outside.mkdir()
    (finetuned_dir() / "plain").mkdir()
    (finetuned_dir() / "plain" / SPEC_FILE).write_text(json.dumps({"name": "plain", "kind": "encoder",
                                                                  "source": "local", "location": "x",
                                                                  "pooling": "mean"}))
    rows = {r["name"]: r for r in saved_runs()}
    assert rows["mine"]["kind"] == "reranker" and rows["mine"]["nDCG@10 after"] == 0.6
    assert rows["mine"]["workflow"] == "cross-encoder" and rows["plain"]["base"] is None
    with pytest.raises(DataError, match="already exists"):
        check_name_free("mine", "reranker")
    for bad in ("../keep", "..", ".", "missing"):
        with pytest.raises(DataError, match="There is no saved"):
            delete_saved(bad, "embedder")
    assert outside.is_dir()
    delete_saved("mine", "reranker")
    delete_saved("plain", "embedder")
    assert not folder.exists() and saved_runs() == []


def test_a_backend_variant_is_not_trainable():
    from embedlab.finetune.job import why_not_trainable
    from embedlab.models import resolve_spec

    reason = why_not_trainable(resolve_spec("minilm+int8"), "trainer")
    assert reason is not None and "Fine-tune minilm" in reason
    assert why_not_trainable(resolve_spec("minilm"), "trainer") is None
