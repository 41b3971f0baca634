"""Fine-tuning with the bundled models, offline, on small data: every workflow saves a model that
the zoo loads and that embeds exactly as training saw it; the CLI; stop and failure keep earlier
models intact."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from embedlab.cli import main
from embedlab.errors import DataError
from embedlab.finetune import FinetuneConfig, Monitor, bbc_triplets, run_finetune
from embedlab.finetune.job import RECORD_FILE

pytestmark = pytest.mark.slow
SMALL = dict(batch_size=8, max_length=32)


@pytest.fixture(scope="module")
def data():
    return bbc_triplets(60, seed=1)


def test_trainer_mnrl_saves_a_model_the_zoo_loads_like_sentence_transformers(tmp_home, data):
    from sentence_transformers import SentenceTransformer

    from embedlab.models import available_models, load_model

    result = run_finetune(FinetuneConfig(model="minilm", **SMALL), data, "mini-ft")
    assert not result.stopped and result.path.name == "mini-ft" and result.train_rows + result.held_out_rows == 60
    assert len(result.losses) == result.train_rows // 8 + (result.train_rows % 8 > 0)  # one log per step
    record = json.loads((result.path / RECORD_FILE).read_text())
    assert record["base"] == "minilm" and record["after"] == result.after.scores and record["losses"]
    # one duration, rounded once: the record says what the CLI and the page say
    assert record["duration"] == result.duration and record["train_seconds"] == result.train_seconds
    assert 0 < result.train_seconds <= result.total_seconds == record["total_seconds"]
    assert record["max_length_reason"] == "max length 32 tokens (set by the user)."
    spec = available_models()["mini-ft"]
    assert spec.source == "local" and spec.extra["base"] == "minilm" and spec.extra["after"]["nDCG@10"] >= 0
    ours = load_model("mini-ft", cache=False).encode(["Ink helps drive democracy in Asia", "a second text"])
    theirs = SentenceTransformer(str(result.path), device="cpu").encode(
        ["Ink helps drive democracy in Asia", "a second text"], normalize_embeddings=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    base = load_model("minilm", cache=False).encode(["Ink helps drive democracy in Asia"])
    assert not np.allclose(ours[0], base[0], atol=1e-4)  # training changed the weights
    # the after numbers are the saved model's: re-evaluating it gives the same
    from embedlab.finetune.evaluate import evaluate
    from embedlab.finetune.trainset import split

    held = split(data, held_out=0.2, seed=0)[1]
    again = evaluate(load_model("mini-ft", cache=False), held)
    assert again.scores["nDCG@10"] == pytest.approx(result.after.scores["nDCG@10"], abs=1e-6)


def test_loop_with_cls_pooling_and_a_projection_head(tmp_home, data):
    from sentence_transformers import SentenceTransformer

    from embedlab.models import load_model

    config = FinetuneConfig(model="minilm", workflow="loop", loss="triplet", pooling="cls", projection_dim=64,
                            distance="euclidean", margin=0.5, schedule="cosine", **SMALL)
    result = run_finetune(config, data, "loop-head")
    model = load_model("loop-head", cache=False)
    assert model.dim == 64 and model.spec.pooling == "cls" and model.spec.dim == 64
    texts = ["Ink helps drive democracy in Asia", "Rugby team wins"]
    theirs = SentenceTransformer(str(result.path), device="cpu").encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(model.encode(texts), theirs, atol=1e-5)  # head saved in the standard layout
    assert result.before.doc_vectors.shape[1] == 384 and result.after.doc_vectors.shape[1] == 64


def test_decoder_lora_loop_with_the_joint_objective_is_both_embedder_and_reranker(tmp_home, data):
    from embedlab.finetune.perplexity import perplexity
    from embedlab.models import load_model
    from embedlab.retrieval.rerank import load_reranker, reranker_choices

    config = FinetuneConfig(model="smollm2", workflow="loop", loss="infonce", lora=True, learning_rate=2e-4,
                            pooling="weighted-mean", batch_size=4, max_length=24, max_rows=24, lm_weight=0.5)
    monitor = Monitor()
    result = run_finetune(config, data, "smol-lora", monitor)
    model = load_model("smol-lora", cache=False)
    assert model.spec.kind == "decoder" and model.spec.append_eos and model.spec.pooling == "weighted-mean"
    assert set(result.after.scores) == set(result.before.scores) >= {"perplexity", "nDCG@10"}
    assert result.before.notes[0].startswith("perplexity: next-token perplexity over the first 256 tokens of 12 texts")
    assert any(n.startswith("Joint loss = contrastive + 0.5 x next-token") for n in monitor.snapshot()["notes"])
    record = json.loads((result.path / RECORD_FILE).read_text())
    assert record["config"]["lm_weight"] == 0.5 and "perplexity" in record["after"]
    # merged LoRA: a plain transformers folder, no adapter files
    assert not (result.path / "adapter_config.json").exists() and (result.path / "config.json").exists()
    assert model.encode(["hello"]).shape == (1, 576)
    # the same weights as a query-likelihood reranker: its LM is the fine-tuned backbone + the tied head
    assert {"qlm:smol-lora", "llm:smol-lora"} <= set(reranker_choices())
    qlm = load_reranker("qlm:smol-lora")
    assert qlm.name == "qlm:smol-lora" and qlm.model.lm_head.weight is qlm.model.model.embed_tokens.weight
    assert torch.equal(qlm.model.model.layers[3].self_attn.q_proj.weight, model.model.layers[3].self_attn.q_proj.weight)
    assert not torch.equal(model.model.layers[3].self_attn.q_proj.weight,
                           load_model("smollm2", cache=False).model.layers[3].self_attn.q_proj.weight)
    scores = qlm.score("football cup final goals", ["The striker scored twice in the cup final.", "Rates rose."])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    # perplexity from the embedder equals the reranker's causal LM's own loss on the same text
    text = result.before.doc_texts[0]
    ids = qlm.tokenizer(text, truncation=True, max_length=48, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        lm_loss = float(qlm.model(input_ids=ids, labels=ids).loss)
    assert np.log(perplexity(model, [text], max_tokens=48).value) == pytest.approx(lm_loss, rel=1e-4)


def test_cross_encoder_becomes_a_reranker(tmp_home, data):
    from embedlab.retrieval.rerank import load_reranker, reranker_choices

    result = run_finetune(FinetuneConfig(model="minilm", workflow="cross-encoder", loss="bce", **SMALL), data, "ce-ft")
    assert result.kind == "reranker" and result.path.parent.name == "rerankers"
    assert "cross-encoder:ce-ft" in reranker_choices()
    scores = load_reranker("cross-encoder:ce-ft").score("a query", ["one document", "another"])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert "triplet accuracy" in result.after.scores


def test_stop_and_failure_keep_earlier_models(tmp_home, data):
    from embedlab.models.registry import finetuned_dir

    keep = run_finetune(FinetuneConfig(model="minilm", max_rows=20, **SMALL), data, "keep-me")
    before_files = {p.name: p.read_bytes() for p in keep.path.iterdir() if p.is_file()}

    class StopAtOnce(Monitor):
        def on_step(self, *args, **kwargs):
            super().on_step(*args, **kwargs)
            self.stop()

    stopped = run_finetune(FinetuneConfig(model="minilm", epochs=3, **SMALL), data, "stopped", StopAtOnce())
    # the trainer asks at the end of a step, before that step's loss is logged: one more step runs
    assert stopped.stopped and stopped.path is None and len(stopped.losses) <= 2
    assert not (finetuned_dir() / "stopped").exists()

    class Boom(Monitor):
        def on_step(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        run_finetune(FinetuneConfig(model="minilm", workflow="loop", **SMALL), data, "broken", Boom())
    assert not (finetuned_dir() / "broken").exists()
    assert [p.name for p in finetuned_dir().iterdir()] == ["keep-me"]  # no half-written folders
    assert {p.name: p.read_bytes() for p in keep.path.iterdir() if p.is_file()} == before_files
    with pytest.raises(DataError, match="already exists"):
        run_finetune(FinetuneConfig(model="minilm", **SMALL), data, "keep-me")


def test_cli_finetune_on_a_triplet_file(tmp_home, tmp_path, capsys):
    rows = bbc_triplets(40, seed=5)
    path = tmp_path / "triplets.jsonl"
    pd.DataFrame({"query": rows.anchors, "pos": rows.positives, "neg": rows.negatives}).to_json(
        path, orient="records", lines=True)
    code = main(["finetune", "--data", str(path), "--output", "cli-ft", "--loss", "triplet", "--batch-size", "8",
                 "--max-length", "32", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    record = json.loads(out)
    # 40 anchors: 20 held out (at least 100 or half), not 8
    assert record["name"] == "cli-ft" and record["config"]["loss"] == "triplet" and record["train_rows"] == 20
    assert set(record["before"]) == set(record["after"]) >= {"triplet accuracy", "nDCG@10", "MRR@10"}
    assert "Read columns: anchor='query', positive='pos', negative='neg'." in err
    assert main(["models", "--json"]) == 0 and "cli-ft" in capsys.readouterr()[0]
    code = main(["eval", "sts", "--data", "lee", "--model", "cli-ft", "--json"])  # usable by name in every command
    assert code == 0 and json.loads(capsys.readouterr()[0])["model"] == "cli-ft"

    # the same --output again: refused before anything loads, unless --overwrite
    code = main(["finetune", "--data", str(path), "--output", "cli-ft", "--batch-size", "8"])
    out, err = capsys.readouterr()
    assert code == 2 and "already exists. Pass --overwrite" in err and "(cli-ft-2 is free)" in err
    assert "Loading" not in err
    code = main(["finetune", "--data", str(path), "--output", "cli-ft", "--batch-size", "8", "--overwrite", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    record = json.loads(out)
    # the default length is chosen from the data: BBC articles are longer than MiniLM's 256 tokens
    assert record["config"]["max_length"] == 256 and record["config"]["loss"] == "mnrl"
    assert record["max_length_reason"].startswith("max length 256 tokens (auto): 95% of the anchors fit in ")
    assert f"note: {record['max_length_reason']}" in err
    saved = json.loads((tmp_home / "models" / "finetuned" / "cli-ft" / RECORD_FILE).read_text())
    assert saved["config"]["loss"] == "mnrl" and saved["duration"] == record["duration"]


@pytest.mark.parametrize("rows, message", [
    ({"anchor": ["q"], "positive": ["p"]}, "needs at least 10"),
    ({"a": ["x"] * 12, "b": ["y"] * 12}, "Could not find the training columns"),
    ({"anchor": [f"t{i}" for i in range(12)], "positive": [f"T{i}" for i in range(12)]}, "same text in every row"),
    ({"anchor": [""] * 12, "positive": [""] * 12}, "Every row has an empty cell"),
])
def test_cli_bad_data_exits_2_before_loading_a_model(tmp_home, tmp_path, capsys, rows, message):
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    code = main(["finetune", "--data", str(path), "--output", "x"])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: ") and message in err and "Loading" not in err
