"""A bundled model under another name whose documents are cut to fewer tokens, for experiments
that train and evaluate a slow decoder on the first N tokens of each text (SmolLM2 reads BBC
articles at up to 512 tokens; on two CPU cores one held-out evaluation then takes minutes).

The model is added to the user's model list as ``<model>-<N>t`` (the same weights; only
``max_seq_length`` differs), so every part of the product — training, evaluation, the saved
fine-tune's spec — reads the texts at that length.
"""

from __future__ import annotations

import dataclasses

from embedlab.models.registry import resolve_spec, save_custom_spec


def shortened(model: str, tokens: int) -> str:
    """The name of ``model`` reading at most ``tokens`` tokens per text (added to the model list)."""
    spec = resolve_spec(model)
    if tokens >= spec.max_seq_length:
        return model
    name = f"{spec.name}-{tokens}t"
    save_custom_spec(dataclasses.replace(spec, name=name, max_seq_length=tokens,
                                         description=f"{spec.name} reading at most {tokens} tokens per text"))
    return name

