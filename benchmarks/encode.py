"""Encode speed, in ratios measured in the same run on the same texts (the machine is noisy):

1. embedlab vs plain sentence-transformers, and the on-disk cache cold vs warm (``--model``);
2. backends per model (``--backends``): fp32 PyTorch, ONNX Runtime fp32 (``+onnx``) and int8 weights
   (``+int8``), each as a ratio to fp32 PyTorch, with the variant's quality gate; and the static model.

    python benchmarks/encode.py [--model minilm] [--backends minilm,mpnet,smollm2] [--short 1000] [--long 200]
                                [--repeats 2] [--skip-reference]

Writes benchmarks/results/encode.json (``encode-<models>.json`` when --skip-reference).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks._common import best_of  # noqa: E402
from embedlab import load_model  # noqa: E402
from embedlab.bundled import bbc_news  # noqa: E402
from embedlab.cache import CachedEmbedder, EmbeddingCache  # noqa: E402
from embedlab.models.gate import gate_for  # noqa: E402
from embedlab.models.loader import model_folder  # noqa: E402
from embedlab.models.onnx_backend import cpu_isa  # noqa: E402
from embedlab.models.registry import read_st_folder  # noqa: E402

STATIC_MODEL = "wordllama"


def reference_rows(name: str, sets: dict[str, list[str]], args) -> dict:
    """embedlab vs sentence-transformers on the same folder; cache cold vs warm."""
    from sentence_transformers import SentenceTransformer

    ours = load_model(name, cache=False)
    folder = model_folder(ours.spec)
    if read_st_folder(folder)["pooling"] is None:
        raise SystemExit(f"{name} is not a sentence-transformers folder; nothing to compare against.")
    reference = SentenceTransformer(str(folder), device="cpu")
    reference.max_seq_length = ours.max_seq_length
    rows = {}
    for label, texts in sets.items():
        t_ours = best_of(args.repeats, lambda: ours.encode(texts, batch_size=args.batch_size))
        t_st = best_of(args.repeats, lambda: reference.encode(texts, batch_size=args.batch_size))
        with tempfile.TemporaryDirectory() as tmp:
            cached = CachedEmbedder(ours, EmbeddingCache(tmp))
            start = time.perf_counter()
            cached.encode(texts, batch_size=args.batch_size)
            t_cold = time.perf_counter() - start
            # A fresh cache object each time, as a new process would have: reads shards from disk.
            t_warm = best_of(args.repeats, lambda: CachedEmbedder(ours, EmbeddingCache(tmp)).encode(
                texts, batch_size=args.batch_size))
        rows[label] = {
            "texts": len(texts),
            "embedlab_s": round(t_ours, 3), "sentence_transformers_s": round(t_st, 3),
            "speed_ratio_st_over_embedlab": round(t_st / t_ours, 3),
            "texts_per_s": round(len(texts) / t_ours, 1),
            "cache_cold_s": round(t_cold, 3), "cache_warm_s": round(t_warm, 4),
            "cache_speedup_cold_over_warm": round(t_cold / t_warm, 1),
        }
        print(f"{label:16} {len(texts):5} texts | embedlab {t_ours:7.2f}s  sentence-transformers {t_st:7.2f}s  "
              f"ratio {rows[label]['speed_ratio_st_over_embedlab']:.2f}x | cache cold {t_cold:7.2f}s "
              f"warm {t_warm:7.4f}s = {rows[label]['cache_speedup_cold_over_warm']:.0f}x")
    return rows


def backend_rows(base: str, sets: dict[str, list[str]], args) -> list[dict]:
    """``base``, ``base+onnx``, ``base+int8`` (and the static model): texts/s and the ratio to ``base``.

    Variants are built (exported, quantised, gated) when first loaded, before any timing."""
    names = [base, f"{base}+onnx", f"{base}+int8"] + ([STATIC_MODEL] if args.static else [])
    models = {name: load_model(name, cache=False) for name in names}
    seconds = {name: {} for name in names}
    for label, texts in sets.items():
        for name, model in models.items():  # same texts, back to back, the fp32 baseline first
            seconds[name][label] = best_of(args.repeats, lambda m=model: m.encode(texts, batch_size=args.batch_size))
    rows = []
    for name in names:
        gate = gate_for(name)
        row = {"model": name, "parent": base, "backend": models[name].spec.backend, "kind": models[name].spec.kind,
               "gate": gate.to_dict() if gate else None}
        for label, texts in sets.items():
            s = seconds[name][label]
            row[label] = {"texts": len(texts), "seconds": round(s, 3), "texts_per_s": round(len(texts) / s, 1),
                          "ratio_to_torch_fp32": round(seconds[base][label] / s, 3)}
        rows.append(row)
        _print_backend_row(row, list(sets))
    return rows


def _print_backend_row(row: dict, labels: list[str]) -> None:
    speeds = "  ".join(f"{label} {row[label]['texts_per_s']:8.1f}/s ({row[label]['ratio_to_torch_fp32']:.2f}x)"
                       for label in labels)
    gate = row["gate"]
    quality = (f"| cos mean {gate['mean_cosine']:.4f} min {gate['min_cosine']:.4f}  Lee Spearman "
               f"{gate['variant_spearman']:.4f} vs {gate['parent_spearman']:.4f} "
               f"({gate['spearman_difference']:+.4f}){'  DEGRADED' if gate['degraded'] else ''}") if gate else ""
    print(f"{row['model']:18} {speeds} {quality}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="minilm", help="model compared with sentence-transformers")
    parser.add_argument("--backends", default="minilm", help="comma-separated models to time per backend")
    parser.add_argument("--short", type=int, default=1000, help="number of BBC titles")
    parser.add_argument("--long", type=int, default=200, help="number of BBC article bodies")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-reference", action="store_true", help="only the backend rows")
    parser.add_argument("--no-static", dest="static", action="store_false", help="leave out the static model")
    args = parser.parse_args()

    bbc = bbc_news().sample(frac=1.0, random_state=0)
    sets = {"short (titles)": bbc["title"].head(args.short).tolist(),
            "long (articles)": bbc["text"].head(args.long).tolist()}
    results = {"model": args.model, "batch_size": args.batch_size, "cpu_count": os.cpu_count(),
               "machine": platform.machine(), "isa": cpu_isa(), "repeats": args.repeats}
    if not args.skip_reference:
        results["sets"] = reference_rows(args.model, sets, args)
    results["backends"] = [row for base in args.backends.split(",") if base.strip()
                           for row in backend_rows(base.strip(), sets, args)]
    stem = "encode" if not args.skip_reference else "encode-" + args.backends.replace(",", "-")
    out = Path(__file__).parent / "results" / f"{stem}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
