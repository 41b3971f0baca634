"""``embedlab eval ... --prompts``: prompt variants side by side, with real wordllama (a static model: fast)."""

import json
import re

import pytest

from embedlab.cli import main
from tests.core.test_retrieval import topic_files  # noqa: F401  (a fixture)

TYPED = 'wordllama~q="Represent this headline: "'


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow  # Lee STS four times (2-3 s); the retrieval test below covers variants in the fast tier
def test_eval_sts_runs_variants_side_by_side_and_merges_what_is_the_same(capsys):
    from embedlab import load_model
    from embedlab.bundled import lee_sts
    from embedlab.evaluation.sts import evaluate_sts

    code, out, err = run(capsys, "eval", "sts", "--model", "wordllama", "--data", "lee", "--prompts", "own,none,typed",
                         "--document-prompt", "Represent this sentence: ", "--json")
    assert code == 0, err
    assert "note: wordllama has no prompts of its own, so 'own' and 'none' give the same vectors (every text is embedded as a document here" in err
    results = {r["model"]: r for r in json.loads(out)["results"]}
    assert list(results) == ["wordllama", 'wordllama~d="Represent this sentence: "']
    lee = lee_sts()
    for name, record in results.items():
        direct = evaluate_sts(load_model(name, cache=False), lee.sentences1, lee.sentences2, lee.scores)
        assert record["cosine_spearman"] == pytest.approx(direct.cosine_spearman, abs=1e-5)
    assert results["wordllama"]["cosine_spearman"] != results['wordllama~d="Represent this sentence: "'][
        "cosine_spearman"]
    code, out, _ = run(capsys, "eval", "sts", "--model", "wordllama", "--data", "lee", "--prompts", "own,typed",
                       "--document-prompt", "Represent this sentence: ")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "STS  data=lee  pairs=1225"
    assert lines[1].split() == ["cosine_spearman", "cosine_pearson", "seconds"]
    assert lines[2].startswith("wordllama ") and lines[3].startswith('wordllama~d="Represent this sentence: " ')


def test_a_query_prompt_does_not_make_a_document_only_task_run_twice(capsys):
    code, out, err = run(capsys, "eval", "sts", "--model", "wordllama", "--data", "lee", "--query-prompt", "query: ",
                         "--prompts", "own,typed")
    assert code == 0 and "the typed prompts are wordllama's own (every text is embedded as a document here" in err
    assert "model=wordllama" in out  # one model: the one-model report


def test_eval_retrieval_variants_are_pipelines(capsys, topic_files):  # noqa: F811
    code, out, err = run(capsys, "eval", "retrieval", *topic_files, "--model", "wordllama", "--prompts", "own,typed",
                         "--query-prompt", "Represent this headline: ", "--json")
    assert code == 0, err
    rows = {r["pipeline"]: r for r in json.loads(out)["results"]}
    assert list(rows) == ["wordllama", TYPED]
    code, out2, _ = run(capsys, "eval", "retrieval", *topic_files, "--model", f"wordllama,{TYPED}", "--json")
    assert json.loads(out2)["results"] == json.loads(out)["results"]  # variant names in --model: the same run
    code, out, _ = run(capsys, "eval", "retrieval", *topic_files, "--model", 'wordllama~q="a, b",wordllama~none')
    assert code == 0 and re.search(r'^wordllama~q="a, b"\s+\d', out, re.M) and re.search(r"^wordllama~none\s", out, re.M)


@pytest.mark.parametrize("argv, message", [
    (["--prompts", "own,nada"], "Unknown prompt variant(s) 'nada'. Valid: own, none, typed"),
    (["--prompts", "own", "--query-prompt", "q: "], "'typed' is not among the prompt variants"),
    (["--model", "wordllama~q=query"], 'Write it as minilm~none, minilm~own or minilm~q="query: ";d="passage: "'),
    (["--model", "wordllama~nope"], "Cannot read the prompt variant ~nope"),
])
def test_bad_prompt_options_are_one_error_line(capsys, argv, message):
    code, out, err = run(capsys, "eval", "sts", "--data", "lee", *(["--model", "wordllama"] if "--model" not in argv
                                                                   else []), *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
