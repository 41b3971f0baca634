"""The static model honours --batch-size (it used to ignore it) and refuses a size below 1."""

import numpy as np
import pytest

from embedlab import OptionError, load_model

pytestmark = pytest.mark.slow

TEXTS = [f"sentence number {i} about markets, sport and weather" for i in range(300)]


def test_wordllama_batch_sizes_give_the_same_vectors_and_zero_is_refused():
    model = load_model("wordllama", cache=False)
    reference = model.encode(TEXTS, batch_size=64)
    for size in (1, 7, 512):
        np.testing.assert_allclose(model.encode(TEXTS, batch_size=size), reference, atol=1e-6)
    with pytest.raises(OptionError, match="batch_size"):
        model.encode(TEXTS, batch_size=0)


def test_wordllama_token_lengths_count_real_tokens_not_padding():
    model = load_model("wordllama", cache=False)
    short, long = model.token_lengths(["hello world", "a much longer sentence with many more words in it"])
    assert short < long
    assert model.token_lengths(["hello world"])[0] == short  # alone or beside a longer text: the same count
