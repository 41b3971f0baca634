import json

import pytest

from embedlab.errors import ModelLoadError
from embedlab.models import CATALOG, resolve_spec
from embedlab.models.registry import (
    available_models,
    custom_models_file,
    custom_spec,
    load_custom_specs,
    registry_problems,
    remove_custom_spec,
    save_custom_spec,
    spec_from_folder,
)
from embedlab.models.spec import ModelSpec, split_pooling
from embedlab.pooling import POOLING_MODES


def test_catalog_has_the_four_bundled_kinds():
    assert {n: s.kind for n, s in CATALOG.items()} == {
        "minilm": "encoder", "mpnet": "encoder", "smollm2": "decoder", "wordllama": "static"}
    assert CATALOG["smollm2"].pooling == "last" and CATALOG["minilm"].pooling == "mean"


def test_pooling_override():
    spec = resolve_spec("smollm2@weighted-mean")
    assert spec.pooling == "weighted-mean" and spec.name == "smollm2@weighted-mean"
    assert spec.kind == "decoder" and spec.location == CATALOG["smollm2"].location
    assert split_pooling("minilm") == ("minilm", None)


def test_wrong_pooling_lists_valid_ones():
    with pytest.raises(ValueError) as err:
        resolve_spec("minilm@avg")
    assert all(mode in str(err.value) for mode in POOLING_MODES)


def test_static_model_refuses_other_pooling():
    with pytest.raises(ModelLoadError, match="only supports mean"):
        resolve_spec("wordllama@cls")


def test_unknown_model_lists_what_is_available(tmp_home):
    with pytest.raises(ModelLoadError, match="Unknown model 'nope'.*minilm, mpnet, smollm2, wordllama"):
        resolve_spec("nope")


def test_hub_id_offline_is_a_clear_error(tmp_home):
    with pytest.raises(ModelLoadError, match="Could not fetch 'no-such-org/no-such-model'"):
        resolve_spec("no-such-org/no-such-model")


def test_prompts_per_role():
    spec = ModelSpec(name="e5", kind="encoder", source="local", location="/x", pooling="mean",
                     query_prompt="query: ", document_prompt="passage: ")
    assert spec.prompt("query") == "query: " and spec.prompt("document") == "passage: "
    with pytest.raises(ValueError, match="Valid values: document, query"):
        spec.prompt("question")


def test_sentence_transformers_folder_is_read(tmp_path):
    folder = tmp_path / "m"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "q: "}}))
    spec = spec_from_folder(folder, name="mine", source="local")
    assert (spec.kind, spec.pooling, spec.max_seq_length, spec.query_prompt) == ("encoder", "cls", 128, "q: ")


def test_plain_causal_lm_folder_is_a_decoder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 2048}))
    spec = spec_from_folder(tmp_path, name="lm", source="local")
    assert (spec.kind, spec.pooling, spec.append_eos, spec.padding_side) == ("decoder", "last", True, "left")


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        spec_from_folder(tmp_path, name="x", source="local")


def test_custom_models_persist_in_the_data_folder(tmp_home, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    spec = custom_spec("mine", str(tmp_path), pooling="max", query_prompt="query: ")
    save_custom_spec(spec)
    assert load_custom_specs()["mine"].pooling == "max"
    assert resolve_spec("mine@cls").pooling == "cls"
    assert "mine" in available_models()
    remove_custom_spec("mine")
    assert "mine" not in available_models()


@pytest.mark.parametrize("name, where, message", [
    ("minilm", ".", "already taken"),
    ("a@b", ".", "without '@'"),
    ("ok", "", "Give a local model folder"),
    ("ok", "/definitely/not/here", "neither an existing folder"),
])
def test_custom_spec_errors(tmp_home, name, where, message):
    with pytest.raises(ModelLoadError, match=message):
        custom_spec(name, where)


def test_unreadable_registry_is_reported_and_never_overwritten(tmp_home, tmp_path):
    tmp_home.mkdir(parents=True, exist_ok=True)
    custom_models_file().write_text("{not json")
    assert set(CATALOG) <= set(available_models())  # the bundled models still work
    problems = registry_problems()
    assert len(problems) == 1 and "cannot be read" in problems[0] and "Fix the file or delete it" in problems[0]
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(ModelLoadError, match="cannot be read"):
        save_custom_spec(custom_spec("mine", str(tmp_path)))
    with pytest.raises(ModelLoadError, match="cannot be read"):
        remove_custom_spec("mine")
    assert custom_models_file().read_text() == "{not json"


def test_one_bad_entry_is_reported_and_kept_when_the_file_is_rewritten(tmp_home, tmp_path):
    tmp_home.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    good = json.loads(custom_spec("good", str(tmp_path)).to_json())
    bad = {**good, "name": "bad", "pooling": "median"}
    custom_models_file().write_text(json.dumps([good, bad, "junk"]))
    assert list(load_custom_specs()) == ["good"]
    problems = registry_problems()
    assert len(problems) == 2 and "Custom model bad" in problems[0] and "median" in problems[0]
    assert "Custom model #3" in problems[1]
    save_custom_spec(custom_spec("other", str(tmp_path)))
    remove_custom_spec("good")
    assert json.loads(custom_models_file().read_text())[:2] == [bad, "junk"]
    assert list(load_custom_specs()) == ["other"]


def test_a_damaged_list_is_backed_up_once_before_it_is_rewritten(tmp_home, tmp_path):
    tmp_home.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    good = json.loads(custom_spec("good", str(tmp_path)).to_json())
    damaged = json.dumps([good, {**good, "name": "bad", "pooling": "median"}, 7])
    custom_models_file().write_text(damaged)
    backup = save_custom_spec(custom_spec("other", str(tmp_path)))
    assert backup is not None and backup.read_text() == damaged and backup.parent == custom_models_file().parent
    assert remove_custom_spec("good") == backup  # the same damage is not copied twice
    assert sorted(p.name for p in tmp_home.iterdir() if p.name.startswith("custom_models")) == sorted(
        [custom_models_file().name, backup.name])
    custom_models_file().write_text(json.dumps([good]))  # a clean list is rewritten without a copy
    assert save_custom_spec(custom_spec("third", str(tmp_path))) is None


def test_old_spec_files_with_dropped_keys_still_load(tmp_home):
    tmp_home.mkdir(parents=True, exist_ok=True)
    entry = {"name": "old", "kind": "encoder", "source": "local", "location": "/x", "pooling": "mean",
             "normalize": True}
    custom_models_file().write_text(json.dumps([entry]))
    assert load_custom_specs()["old"].pooling == "mean" and registry_problems() == ()


def test_unreadable_finetuned_spec_is_reported(tmp_home):
    from embedlab.models.registry import SPEC_FILE, finetuned_dir

    (finetuned_dir() / "broken").mkdir()
    (finetuned_dir() / "broken" / SPEC_FILE).write_text("{")
    assert "broken" not in available_models()
    assert any("broken" in p and "Delete the folder" in p for p in registry_problems())


class TimedFake:
    """A stand-in model for timing: known size, token counts of one per character."""

    dim, parameters, load_seconds, max_seq_length = 4, 1000, 0.5, 10

    def __init__(self) -> None:
        self.encoded: list[list[str]] = []

    def encode(self, texts, *, progress=None, **_):
        self.encoded.append(list(texts))
        if progress:
            progress(len(texts), len(texts))

    def token_lengths(self, texts):
        import numpy as np

        return np.array([len(t) for t in texts])


def test_throughput_times_the_model_behind_the_cache(tmp_path):
    from embedlab.cache import CachedEmbedder, EmbeddingCache
    from embedlab.models.throughput import measure_throughput

    inner = TimedFake()
    seen = []
    result = measure_throughput(CachedEmbedder(inner, EmbeddingCache(tmp_path)), ["a", "b"],
                                ["short", "a text much longer than ten"],
                                progress=lambda kind, done, total: seen.append((kind, done, total)))
    assert inner.encoded == [["a", "b"], ["short", "a text much longer than ten"]]
    assert seen == [("short", 2, 2), ("long", 2, 2)]
    assert (result.dim, result.parameters, result.load_seconds, result.max_seq_length) == (4, 1000, 0.5, 10)
    assert result.truncated_share == 0.5 and result.short_per_s > 0 and result.long_per_s > 0


def test_throughput_sample_is_bbc_titles_and_bodies():
    from embedlab.models.throughput import sample_texts

    short, long = sample_texts(16)
    assert len(short) == len(long) == 16 and sample_texts(16) == (short, long)
    assert sum(map(len, short)) * 5 < sum(map(len, long))
