import pytest
import torch

from embedlab.errors import OptionError
from embedlab.pooling import (
    POOLING_MODES,
    ST_POOLING_MODES,
    check_pooling,
    from_st_pooling,
    pool,
    positions_from_mask,
    to_st_pooling,
)

# Two texts: A has 3 real tokens, B has 1. Hidden state of real token i of a text is known.
A = torch.tensor([[1.0, 0.0], [2.0, 4.0], [3.0, 8.0]])
B = torch.tensor([[5.0, -1.0]])
JUNK = torch.tensor([9e9, float("nan")])  # padding must never leak into a result


def batch(side: str):
    hidden = torch.stack([A, torch.stack([JUNK, JUNK, JUNK])])
    if side == "right":
        hidden[1, 0] = B[0]
        mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    else:
        hidden[1, 2] = B[0]
        mask = torch.tensor([[1, 1, 1], [0, 0, 1]])
    return hidden, mask


EXPECTED = {
    "mean": ([2.0, 4.0], [5.0, -1.0]),
    "cls": ([1.0, 0.0], [5.0, -1.0]),
    "max": ([3.0, 8.0], [5.0, -1.0]),
    "last": ([3.0, 8.0], [5.0, -1.0]),
    # weights 1, 2, 3 over A's tokens: (1*1 + 2*2 + 3*3) / 6, (0 + 8 + 24) / 6
    "weighted-mean": ([14 / 6, 32 / 6], [5.0, -1.0]),
}


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("mode", POOLING_MODES)
def test_known_answers_on_both_padding_sides(mode, side):
    hidden, mask = batch(side)
    out = pool(hidden, mask, mode)
    expected = torch.tensor(EXPECTED[mode])
    assert torch.allclose(out, expected, atol=1e-6), (mode, side, out)


def test_unknown_pooling_lists_valid_modes():
    with pytest.raises(OptionError) as err:
        check_pooling("average")
    for mode in POOLING_MODES:
        assert mode in str(err.value)


def test_positions_start_at_first_real_token():
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]])
    assert positions_from_mask(mask).tolist() == [[0, 0, 0, 1], [0, 1, 2, 2]]


def test_sentence_transformers_names_round_trip():
    assert set(ST_POOLING_MODES) == set(POOLING_MODES)
    assert to_st_pooling("last") == "lasttoken" and to_st_pooling("weighted-mean") == "weightedmean"
    for mode in POOLING_MODES:
        assert from_st_pooling({"pooling_mode": to_st_pooling(mode)}) == mode
    with pytest.raises(OptionError, match="Valid pooling modes"):
        to_st_pooling("median")


@pytest.mark.parametrize("config, expected", [
    ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}, "cls"),
    ({"pooling_mode_weightedmean_tokens": True}, "weighted-mean"),
    ({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}, None),  # several: no single answer
    ({"pooling_mode": "mean_sqrt_len_tokens"}, None),  # a mode embedlab does not have
    ({}, None),
])
def test_pooling_read_from_a_sentence_transformers_config(config, expected):
    assert from_st_pooling(config) == expected
