"""The glossary: one definition per term, each one sentence, every term shown on some page, and no
pooling mode, fine-tune loss or reranker kind the core offers left undefined. Read from the page
sources (no Streamlit run): a page uses a term by passing its name as a literal to
``glossary.define``/``glossary.helps`` or as a value of ``glossary.column_help``; a call of
``glossary.pooling_help`` uses every pooling term."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from embedlab.finetune.config import ALL_LOSSES
from embedlab.pooling import POOLING_MODES
from embedlab.retrieval.rerank import RERANKER_KINDS
from ui import glossary

ROOT = Path(__file__).resolve().parents[2]
# Page scripts and the view modules their sections live in.
PAGES = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*_tabs.py"), ROOT / "ui" / "finetune_results.py"])


def used_terms(source: str) -> set[str]:
    used = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "glossary"):
            continue
        if node.func.attr in ("define", "helps"):
            used |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
        elif node.func.attr == "column_help" and node.args and isinstance(node.args[0], ast.Dict):
            used |= {v.value for v in node.args[0].values if isinstance(v, ast.Constant)}
        elif node.func.attr == "pooling_help":
            used |= {f"pooling: {mode}" for mode in glossary.POOLING}
    return used


def test_every_term_is_used_on_a_page_and_every_used_term_exists():
    used = set().union(*(used_terms(p.read_text(encoding="utf-8")) for p in PAGES))
    assert sorted(set(glossary.TERMS) - used) == []  # defined but shown nowhere
    assert sorted(used - set(glossary.TERMS)) == []  # looked up but undefined (KeyError at run time)


def test_used_terms_reads_literals_and_the_pooling_helper():
    source = ('glossary.helps("BM25", "RRF", before="x")\nglossary.column_help({"col": "ARI"})\n'
              'glossary.define("MRR")\nglossary.pooling_help()\nother.helps("NMI")\n')
    assert used_terms(source) == {"BM25", "RRF", "ARI", "MRR", *(f"pooling: {m}" for m in POOLING_MODES)}


def test_the_cores_option_lists_are_all_defined():
    assert set(glossary.POOLING) == set(POOLING_MODES)
    assert set(glossary.LOSSES) == set(ALL_LOSSES)
    assert set(glossary.RERANKERS) == set(RERANKER_KINDS) - {"ce"}  # "ce" is short for cross-encoder


@pytest.mark.parametrize("term", sorted(glossary.TERMS))
def test_each_definition_is_one_sentence(term):
    text = glossary.define(term)
    assert text.endswith(".") and 40 <= len(text) <= 300, text
    assert not re.search(r"[.!?] [A-Z]", text[:-1]), f"more than one sentence: {text}"


def test_helps_joins_definitions_and_page_text_and_an_unknown_term_says_where_to_add_it():
    tip = glossary.helps("ARI", "NMI", before="Intro.", after="Outro.")
    assert tip.split("\n\n") == ["Intro.", glossary.TERMS["ARI"], glossary.TERMS["NMI"], "Outro."]
    with pytest.raises(KeyError, match="add its definition"):
        glossary.define("ColBERTv9")
