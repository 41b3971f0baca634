"""Malformed model folders: each is one ModelLoadError naming the file and what is wrong, and a bad
folder in the fine-tuned zoo never hides the other models."""

import json

import pytest

from embedlab.errors import ModelLoadError
from embedlab.models import available_models, resolve_spec
from embedlab.models.registry import (
    SPEC_FILE,
    finetuned_dir,
    registry_problems,
    spec_from_folder,
)

GOOD_SPEC = {"name": "good", "kind": "encoder", "source": "local", "location": "/x", "pooling": "mean"}


def _folder(tmp_path, files: dict[str, str]):
    folder = tmp_path / "model"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("modules, message", [
    ("[1, 2, 3]", r"modules\.json.*entry 1 should be a JSON object"),
    ('["a", "b"]', r"modules\.json.*entry 1 should be a JSON object"),
    ('{"path": ""}', r"modules\.json.*should hold a JSON list"),
    ("[{", r"modules\.json.*not valid JSON"),
    ('[{"path": 3, "type": "sentence_transformers.models.Transformer"}]', r"modules\.json.*entry 1.*path"),
    ('[{"path": "", "type": null}]', r"modules\.json.*entry 1.*type"),
    ('[{"path": "../../elsewhere", "type": "sentence_transformers.models.Transformer"}]',
     r"modules\.json.*entry 1.*inside the model folder"),
])
def test_a_malformed_modules_json_names_the_file(tmp_path, modules, message):
    folder = _folder(tmp_path, {"modules.json": modules, "config.json": "{}"})
    with pytest.raises(ModelLoadError, match=message):
        spec_from_folder(folder, name="m", source="local")


@pytest.mark.parametrize("name, text, message", [
    ("1_Pooling/config.json", "[true]", r"1_Pooling/config\.json.*JSON object"),
    ("sentence_bert_config.json", "{oops", r"sentence_bert_config\.json.*not valid JSON"),
    ("config_sentence_transformers.json", '{"prompts": ["q: "]}', r"config_sentence_transformers\.json.*prompts"),
])
def test_malformed_sentence_transformers_configs_name_the_file(tmp_path, name, text, message):
    modules = [{"path": "", "type": "sentence_transformers.models.Transformer"},
               {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    files = {"modules.json": json.dumps(modules), "config.json": "{}", "1_Pooling/config.json": "{}", name: text}
    with pytest.raises(ModelLoadError, match=message):
        spec_from_folder(_folder(tmp_path, files), name="m", source="local")


@pytest.mark.parametrize("config, message", [("[]", r"config\.json.*JSON object"),
                                             ("{", r"config\.json.*not valid JSON")])
def test_a_malformed_config_json_names_the_file(tmp_path, config, message):
    with pytest.raises(ModelLoadError, match=message):
        spec_from_folder(_folder(tmp_path, {"config.json": config}), name="m", source="local")


@pytest.mark.parametrize("text, message", [
    ("[]", r"embedlab_model\.json.*should hold a JSON object"),
    ("{not json", r"embedlab_model\.json.*not valid JSON"),
    ("{}", r"embedlab_model\.json.*missing.*name"),
    (json.dumps({**GOOD_SPEC, "pooling": ["mean"]}), r"embedlab_model\.json.*pooling"),
    (json.dumps({**GOOD_SPEC, "max_seq_length": "long"}), r"embedlab_model\.json.*max_seq_length"),
    (json.dumps({**GOOD_SPEC, "kind": "bogus"}), r"embedlab_model\.json.*Unknown kind 'bogus'"),
])
def test_a_malformed_embedlab_model_json_names_the_file(tmp_path, text, message):
    with pytest.raises(ModelLoadError, match=message):
        spec_from_folder(_folder(tmp_path, {SPEC_FILE: text}), name="m", source="local")


def test_an_empty_folder_says_it_is_not_a_model_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"empty.*no config\.json"):
        spec_from_folder(tmp_path / "empty", name="m", source="local")


@pytest.mark.parametrize("text", ["[]", "[1, 2]", "{not json", "{}", json.dumps({**GOOD_SPEC, "pooling": {}})])
def test_one_malformed_finetuned_model_never_hides_the_others(tmp_home, text, capsys):
    from embedlab.cli import main

    for name, spec_text in (("good", json.dumps(GOOD_SPEC)), ("bad", text)):
        (finetuned_dir() / name).mkdir()
        (finetuned_dir() / name / SPEC_FILE).write_text(spec_text)
    assert resolve_spec("good").name == "good" and "good" in available_models()
    assert "bad" not in available_models()
    problems = registry_problems()
    assert len(problems) == 1 and "bad" in problems[0] and SPEC_FILE in problems[0]
    assert "Delete the folder" in problems[0]
    with pytest.raises(ModelLoadError, match=r"Unknown model 'bad'.*bad.*embedlab_model\.json"):
        resolve_spec("bad")
    assert main(["models"]) == 0
    out = capsys.readouterr()
    assert "good" in out.out and "warning:" in out.err and SPEC_FILE in out.err


# -- a model whose weights are broken gives NaN: an error, never such a vector --------------------

class _NanBackbone:
    """Stands in for a transformers model whose weights hold NaN."""

    class config:
        hidden_size, max_position_embeddings = 4, 32

    def eval(self):
        return self

    def forward(self, input_ids, attention_mask):
        import torch

        hidden = torch.ones((*input_ids.shape, 4))
        hidden[0] = float("nan")  # the first (longest) text of the batch
        return type("Out", (), {"last_hidden_state": hidden})()

    __call__ = forward


class _Tokenizer:
    pad_token_id, eos_token_id = 0, 1

    def __call__(self, texts, **_):
        return {"input_ids": [[2] * (len(t) + 1) for t in texts]}


def test_a_transformer_giving_nan_raises_a_clear_error():
    from embedlab.models.catalog import CATALOG
    from embedlab.models.transformer import TransformerEmbedder

    model = TransformerEmbedder(CATALOG["minilm"], _NanBackbone(), _Tokenizer(), fingerprint="f")
    with pytest.raises(ModelLoadError, match=r"'minilm' gave NaN or infinite values for 1 of 2 texts.*'longer'"):
        model.encode(["a", "longer"])


def test_a_static_model_giving_inf_raises_a_clear_error():
    import numpy as np

    from embedlab.models.catalog import CATALOG
    from embedlab.models.static import StaticEmbedder

    class Inference:
        embedding = np.zeros((10, 3))

        def embed(self, texts, **_):
            return np.array([[np.inf if t == "x" else 1.0] * 3 for t in texts])

    with pytest.raises(ModelLoadError, match=r"'wordllama' gave NaN or infinite values for 1 of 2.*'x'"):
        StaticEmbedder(CATALOG["wordllama"], Inference(), fingerprint="f").encode(["ok", "x"])
