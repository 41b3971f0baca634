import json

import pytest

from embedlab.errors import ModelLoadError
from embedlab.models import CATALOG, resolve_spec
from embedlab.models.registry import (available_models, custom_spec, load_custom_specs,
                                      remove_custom_spec, save_custom_spec, spec_from_folder)
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


def test_unreadable_registry_does_not_break_listing(tmp_home):
    tmp_home.mkdir(parents=True, exist_ok=True)
    (tmp_home / "custom_models.json").write_text("{not json")
    assert set(CATALOG) <= set(available_models())
