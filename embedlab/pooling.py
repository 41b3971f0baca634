"""Pooling: turn per-token hidden states into one vector per text.

Every function takes ``hidden`` (batch, seq, dim) and ``mask`` (batch, seq) with 1 for real tokens
and returns (batch, dim). None of them assumes where the padding is: "first" and "last" real tokens
and SGPT's position weights are all found from the mask, so left- and right-padded batches give the
same vectors.
"""

from __future__ import annotations

from typing import Callable

import torch

from embedlab.errors import OptionError

POOLING_MODES: tuple[str, ...] = ("mean", "cls", "max", "last", "weighted-mean")

# sentence-transformers' name for each mode: ``Pooling(pooling_mode=...)`` and the "pooling_mode" key
# of a saved Pooling config. Older configs set one boolean flag per mode instead (``_ST_FLAGS``).
ST_POOLING_MODES: dict[str, str] = {
    "mean": "mean", "cls": "cls", "max": "max", "last": "lasttoken", "weighted-mean": "weightedmean",
}
_ST_FLAGS: dict[str, str] = {
    "mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens",
    "last": "pooling_mode_lasttoken", "weighted-mean": "pooling_mode_weightedmean_tokens",
}


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)  # (batch, seq, 1)
    summed = (hidden * m).sum(dim=1)  # (batch, dim)
    return summed / m.sum(dim=1).clamp(min=1e-9)


def cls_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # The first *real* token: position 0 under right padding, later under left padding.
    first = mask.long().argmax(dim=1)  # (batch,)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), first]


def max_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    neg = torch.finfo(hidden.dtype).min
    masked = hidden.masked_fill(mask.unsqueeze(-1) == 0, neg)
    return masked.max(dim=1).values


def last_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # Index of the last position whose mask is 1, whatever the padding side.
    seq = mask.shape[1]
    positions = torch.arange(seq, device=mask.device).expand_as(mask)
    last = torch.where(mask.bool(), positions, torch.full_like(positions, -1)).max(dim=1).values
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last.clamp(min=0)]


def weighted_mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """SGPT position-weighted mean (Muennighoff 2022): the i-th real token gets weight i.

    A causal LM's later tokens have seen more of the text, so they count more. Weights count real
    tokens only (cumulative sum of the mask), which keeps them independent of the padding side.
    """
    weights = (mask.cumsum(dim=1) * mask).to(hidden.dtype).unsqueeze(-1)  # (batch, seq, 1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


_POOLERS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mean": mean_pool,
    "cls": cls_pool,
    "max": max_pool,
    "last": last_pool,
    "weighted-mean": weighted_mean_pool,
}


def check_pooling(name: str) -> str:
    if name not in _POOLERS:
        valid = ", ".join(POOLING_MODES)
        raise OptionError(f"Unknown pooling {name!r}. Valid pooling modes: {valid}.")
    return name


def to_st_pooling(name: str) -> str:
    """Our pooling name as sentence-transformers spells it (``last`` -> ``lasttoken``)."""
    return ST_POOLING_MODES[check_pooling(name)]


def from_st_pooling(config: dict) -> str | None:
    """Our pooling name for a sentence-transformers Pooling config; None when it names no single mode
    (several flags set, or a mode embedlab does not have)."""
    ours = {st_name: name for name, st_name in ST_POOLING_MODES.items()}
    if config.get("pooling_mode") in ours:
        return ours[config["pooling_mode"]]
    modes = [name for name, flag in _ST_FLAGS.items() if config.get(flag)]
    return modes[0] if len(modes) == 1 else None


def pool(hidden: torch.Tensor, mask: torch.Tensor, mode: str) -> torch.Tensor:
    pooler = _POOLERS[check_pooling(mode)]
    # Zero the padded positions first: some attention kernels leave NaN in fully masked rows, and
    # NaN * 0 is still NaN, which would poison every sum below.
    hidden = hidden.masked_fill(mask.unsqueeze(-1) == 0, 0.0)
    return pooler(hidden, mask)


def positions_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 on the first real token, whichever side the padding is on.

    Absolute-position encoders (BERT) would otherwise see shifted positions under left padding.
    """
    return (mask.long().cumsum(dim=1) - 1).clamp(min=0)
