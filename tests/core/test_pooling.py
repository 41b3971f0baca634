import pytest
import torch

from embedlab.pooling import POOLING_MODES, check_pooling, pool, positions_from_mask

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
    with pytest.raises(ValueError) as err:
        check_pooling("average")
    for mode in POOLING_MODES:
        assert mode in str(err.value)


def test_positions_start_at_first_real_token():
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0]])
    assert positions_from_mask(mask).tolist() == [[0, 0, 0, 1], [0, 1, 2, 2]]
