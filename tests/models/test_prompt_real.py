"""Prompt variants of the real MiniLM: the prompt reaches the tokens, the vectors and the cache key."""

import numpy as np
import pytest

from embedlab.models import load_model

pytestmark = pytest.mark.slow

TYPED = 'minilm~q="Represent this news headline for retrieving its article: "'


def test_a_typed_prompt_changes_the_query_tokens_vectors_and_key_and_nothing_else():
    plain, none, typed = (load_model(n, cache=False) for n in ("minilm", "minilm~none", TYPED))
    title = "Yukos unit buyer faces loan claim"
    assert none.cache_key("query") == plain.cache_key("query")  # no prompts of its own: the same vectors
    assert typed.cache_key("query") != plain.cache_key("query")
    assert typed.cache_key("document") == plain.cache_key("document")  # no document prompt typed
    assert typed.tokenize([title], role="query")[0][:4] == plain.tokenize(["Represent this news"])[0][:4]
    q_plain, q_typed = plain.encode([title], role="query"), typed.encode([title], role="query")
    assert float(q_plain[0] @ q_typed[0]) < 0.99  # the instruction moves the vector
    np.testing.assert_allclose(typed.encode([title], role="document"), plain.encode([title], role="document"),
                               atol=1e-6)
