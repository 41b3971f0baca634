"""Encode speed: embedlab vs plain sentence-transformers on the same texts in the same run, and the
on-disk cache cold vs warm. Ratios, not wall-clock limits: both sides run on the same noisy machine.

    python benchmarks/encode.py [--model minilm] [--short 1000] [--long 200] [--repeats 2]

Writes benchmarks/results/encode.json.
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

from embedlab import load_model  # noqa: E402
from embedlab.cache import CachedEmbedder, EmbeddingCache  # noqa: E402
from embedlab.bundled import bbc_news  # noqa: E402
from embedlab.models.loader import model_folder  # noqa: E402
from embedlab.models.registry import read_st_folder  # noqa: E402
from benchmarks._common import best_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--short", type=int, default=1000, help="number of BBC titles")
    parser.add_argument("--long", type=int, default=200, help="number of BBC article bodies")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    bbc = bbc_news().sample(frac=1.0, random_state=0)
    sets = {"short (titles)": bbc["title"].head(args.short).tolist(),
            "long (articles)": bbc["text"].head(args.long).tolist()}
    ours = load_model(args.model, cache=False)
    folder = model_folder(ours.spec)
    if read_st_folder(folder)["pooling"] is None:
        raise SystemExit(f"{args.model} is not a sentence-transformers folder; nothing to compare against.")
    reference = SentenceTransformer(str(folder), device="cpu")
    reference.max_seq_length = ours.max_seq_length

    results = {"model": args.model, "batch_size": args.batch_size, "cpu_count": os.cpu_count(),
               "machine": platform.machine(), "sets": {}}
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
        row = {
            "texts": len(texts),
            "embedlab_s": round(t_ours, 3), "sentence_transformers_s": round(t_st, 3),
            "speed_ratio_st_over_embedlab": round(t_st / t_ours, 3),
            "texts_per_s": round(len(texts) / t_ours, 1),
            "cache_cold_s": round(t_cold, 3), "cache_warm_s": round(t_warm, 4),
            "cache_speedup_cold_over_warm": round(t_cold / t_warm, 1),
        }
        results["sets"][label] = row
        print(f"{label:16} {len(texts):5} texts | embedlab {t_ours:7.2f}s  sentence-transformers {t_st:7.2f}s  "
              f"ratio {row['speed_ratio_st_over_embedlab']:.2f}x | cache cold {t_cold:7.2f}s warm {t_warm:7.4f}s "
              f"= {row['cache_speedup_cold_over_warm']:.0f}x")
    out = Path(__file__).parent / "results" / "encode.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
