"""Prompt variants: the name grammar, which variants a choice runs, and the cache keeping them apart."""

import dataclasses

import numpy as np
import pytest

from embedlab.errors import OptionError
from embedlab.models.catalog import CATALOG
from embedlab.models.prompts import (
    PromptChoice,
    Prompts,
    expand,
    parse_suffix,
    prompt_variants,
    split_names,
    split_prompts,
    typed,
)
from embedlab.models.registry import resolve_spec

E5_LIKE = dataclasses.replace(CATALOG["minilm"], name="e5ish", query_prompt="query: ", document_prompt="passage: ")


@pytest.mark.parametrize("suffix, expected", [
    ("none", Prompts()),
    ("own", Prompts(own=True)),
    ('q="query: "', Prompts(query="query: ")),
    ('d="passage: "', Prompts(document="passage: ")),
    ('q="query: ";d="passage: "', Prompts(query="query: ", document="passage: ")),
    ('d="p";q="q"', Prompts(query="q", document="p")),
    ('q="say \\"hi\\"; a~b, c\\\\"', Prompts(query='say "hi"; a~b, c\\')),
    ('q="line\\nbreak"', Prompts(query="line\nbreak")),
])
def test_suffixes_read_as_known_prompts(suffix, expected):
    assert parse_suffix(suffix) == expected


@pytest.mark.parametrize("prompts", [Prompts(), Prompts(own=True), typed("query: ", "passage: "), typed("", "p"),
                                     typed('a "quoted"; odd~one, with commas\\', ""), typed("\t", "\n")])
def test_the_canonical_suffix_reads_back(prompts):
    assert parse_suffix(prompts.suffix) == prompts


def test_canonical_suffixes_leave_empty_roles_out():
    assert typed("", "").suffix == "none"
    assert typed("query: ", "").suffix == 'q="query: "'
    assert typed("query: ", "passage: ").suffix == 'q="query: ";d="passage: "'


@pytest.mark.parametrize("bad, why", [
    ("nothing", "expected q= or d="),
    ("q=query", "quoted JSON string"),
    ("q=1", "quoted JSON string"),
    ('q="a"d="b"', "expected ';'"),
    ('q="a";q="b"', "given twice"),
    ('q="a";', "expected q= or d="),
    ('q="unterminated', "quoted JSON string"),
    ("none;own", "expected q= or d="),
])
def test_bad_suffixes_say_why_and_show_an_example(bad, why):
    with pytest.raises(OptionError) as err:
        parse_suffix(bad)
    assert why in str(err.value) and 'minilm~q="query: ";d="passage: "' in str(err.value)


@pytest.mark.parametrize("name, base, prompts", [
    ("minilm", "minilm", None),
    ("minilm~none", "minilm", Prompts()),
    ("minilm@cls+int8~own", "minilm@cls+int8", Prompts(own=True)),
    ('minilm~q="a~none"', "minilm", Prompts(query="a~none")),
    ("~/models/x~none", "~/models/x", Prompts()),
    ("~/models/x", "~/models/x", None),
])
def test_the_prompt_suffix_is_split_off_the_end(name, base, prompts):
    assert split_prompts(name) == (base, prompts)


def test_a_tilde_with_nothing_readable_after_it_is_an_error_unless_asked_not_to():
    with pytest.raises(OptionError):
        split_prompts("minilm~nope")
    assert split_prompts("some~folder", strict=False) == ("some~folder", None)


def test_names_combine_with_pooling_and_backend_and_resolve_to_the_prompts():
    spec = resolve_spec('minilm@cls+int8~q="query: ";d="passage: "')
    assert (spec.pooling, spec.backend, spec.query_prompt, spec.document_prompt) == ("cls", "int8", "query: ",
                                                                                      "passage: ")
    assert spec.name == 'minilm@cls+int8~q="query: ";d="passage: "'
    assert spec.parent_name == 'minilm@cls~q="query: ";d="passage: "'
    assert spec.with_backend("torch").name == 'minilm@cls~q="query: ";d="passage: "'
    assert resolve_spec("minilm~none").with_pooling("max").name == "minilm@max~none"
    assert resolve_spec("minilm@cls~none").with_backend("onnx").name == "minilm@cls+onnx~none"
    for name in ["minilm~none", "smollm2@mean+onnx~own", 'wordllama~d="x"']:
        assert resolve_spec(resolve_spec(name).name) == resolve_spec(name)  # the name parses back


def test_own_keeps_the_model_prompts_and_none_drops_them():
    from embedlab.models.prompts import with_prompts

    assert with_prompts(E5_LIKE, Prompts(own=True)).query_prompt == "query: "
    none = with_prompts(E5_LIKE, Prompts())
    assert (none.name, none.query_prompt, none.document_prompt) == ("e5ish~none", "", "")


def test_a_bad_prompt_suffix_in_a_model_name_is_an_option_error():
    with pytest.raises(OptionError, match="Cannot read the prompt variant"):
        resolve_spec("minilm~q=query")


def test_a_model_with_no_prompts_runs_own_and_none_once_and_says_why():
    found = prompt_variants("minilm", PromptChoice(own=True, none=True))
    assert found.names == ("minilm",)
    assert len(found.notes) == 1 and "minilm has no prompts of its own" in found.notes[0]


def test_a_model_with_prompts_runs_every_variant():
    choice = PromptChoice(own=True, none=True, typed=True, query_prompt="Find the article: ")
    found = prompt_variants(E5_LIKE, choice)
    assert found.names == ("e5ish", "e5ish~none", 'e5ish~q="Find the article: "') and found.notes == ()


def test_typed_prompts_equal_to_own_or_to_none_are_not_run_twice():
    same_as_own = prompt_variants(E5_LIKE, PromptChoice(own=True, typed=True, query_prompt="query: ",
                                                        document_prompt="passage: "))
    assert same_as_own.names == ("e5ish",) and "the typed prompts are e5ish's own" in same_as_own.notes[0]
    empty = prompt_variants(E5_LIKE, PromptChoice(own=False, none=True, typed=True))
    assert empty.names == ("e5ish~none",) and "no prompt was typed" in empty.notes[0]


def test_only_the_roles_a_page_encodes_decide_what_is_the_same():
    choice = PromptChoice(own=True, typed=True, query_prompt="Find the article: ")
    assert prompt_variants("minilm", choice).names == ("minilm", 'minilm~q="Find the article: "')
    documents_only = prompt_variants("minilm", choice, roles=("document",))
    assert documents_only.names == ("minilm",) and "only the document prompt counts" in documents_only.notes[0]


def test_expand_keeps_names_by_default_and_variants_as_given():
    assert expand(["minilm", "no-such-model"], PromptChoice()).names == ("minilm", "no-such-model")
    found = expand(["minilm", "wordllama~none", "no-such-model"], PromptChoice(own=False, none=True))
    assert found.names == ("minilm~none", "wordllama~none", "no-such-model")


def test_a_choice_needs_a_mode_and_reads_from_words():
    with pytest.raises(OptionError, match="at least one"):
        PromptChoice(own=False)
    assert PromptChoice.from_modes("own, none") == PromptChoice(own=True, none=True)
    with pytest.raises(OptionError, match="Valid: own, none, typed"):
        PromptChoice.from_modes("own,nada")
    with pytest.raises(OptionError, match="'typed' is not among"):
        PromptChoice.from_modes("own", query_prompt="query: ")


def test_name_lists_split_on_commas_outside_quotes():
    text = 'minilm, minilm~q="Given a query, find \\"it\\", please",wordllama~none,'
    assert split_names(text) == ("minilm", 'minilm~q="Given a query, find \\"it\\", please"', "wordllama~none")
    assert split_names(None) == ()


def test_the_cache_keeps_variants_apart_and_reuses_a_variant(tmp_path):
    """Real wordllama (a static model: fast) behind the real cache: each variant's texts are encoded
    once; a variant with other prompts never gets another's vectors."""
    from embedlab.cache import CachedEmbedder, EmbeddingCache
    from embedlab.models import load_model

    class Counting:
        def __init__(self, inner):
            self.inner, self.encoded = inner, []

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

        def encode(self, texts, **options):
            self.encoded.extend(texts)
            return self.inner.encode(texts, **options)

    store = EmbeddingCache(tmp_path / "cache")
    texts = ["oil company tax dispute", "a striker scored twice"]

    def run(name, role):
        inner = Counting(load_model(name, cache=False))
        return CachedEmbedder(inner, store).encode(texts, role=role), inner.encoded

    plain, encoded = run("wordllama", "query")
    assert encoded == texts
    typed_q, encoded = run('wordllama~q="Represent this headline: "', "query")
    assert encoded == texts and not np.allclose(typed_q, plain)  # other prompt: encoded anew, other vectors
    again, encoded = run('wordllama~q="Represent this headline: "', "query")
    assert encoded == [] and np.array_equal(again, typed_q)  # the same variant: from the cache
    none, encoded = run("wordllama~none", "query")
    assert encoded == [] and np.array_equal(none, plain)  # the same prompts (none): the same vectors, reused
    docs, encoded = run('wordllama~q="Represent this headline: "', "document")
    assert encoded == [] and np.array_equal(docs, plain)  # its document prompt is empty: shared with plain
    other, encoded = run('wordllama~d="passage: "', "document")
    assert encoded == texts and not np.allclose(other, plain)
