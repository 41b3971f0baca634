"""How long the Similarity page's first view takes on a cold cache, for candidate default model sets.

Each candidate runs in a fresh Python process with an empty embedding cache (a new data folder whose
``models/`` links to the prepared models, so SmolLM2's one-time GGUF conversion is not counted; pass
``--prepare`` to time that conversion once as well). A run does what the page's first view does: load
each model, embed the 12 example texts and the geometry sample of BBC titles (raw vectors), and
compute the cosine matrices and the geometry. It also records the geometry numbers, to show how
much a smaller sample moves them, and the process's CPU seconds next to the wall time: on a machine
shared with other work the wall time swings several-fold, the CPU time much less. Candidates run in
interleaved rounds (each round runs every candidate once), so a busy spell hits all of them.

    python benchmarks/similarity_first_view.py [--repeats 3] [--prepare]
        [--candidate "minilm,minilm@cls,smollm2:300" ...]
    python benchmarks/similarity_first_view.py --page LABEL [--repeats 2]

``--page LABEL`` instead times the page itself, as it stands in this checkout, through Streamlit's
AppTest in a fresh process with an empty cache: the app opens on Home, then the Similarity page with
its default models (the wall time of that switch, what a user waits for on a cold cache). The runs
are added to the results file under ``page_first_view.LABEL`` (e.g. ``before`` and ``after`` a change
of the defaults).

Writes benchmarks/results/similarity_first_view.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [
    "minilm,minilm@cls,smollm2:300",  # the default before issue 14
    "minilm,minilm@cls,smollm2:150",
    "minilm,minilm@cls,smollm2:100",
    "minilm,minilm@cls,smollm2:50",
    "minilm,minilm@cls,wordllama:300",
]

CHILD = r"""
import json, os, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
load_before = os.getloadavg()[0]
start = time.perf_counter()
from embedlab import bundled, load_model, similarity
imported = time.perf_counter() - start
names, n_sample = sys.argv[1].split(","), int(sys.argv[2])
texts = bundled.similarity_examples()["text"].tolist()
sample = bundled.bbc_news()["title"].sample(n=n_sample, random_state=0).tolist()
out = {"import_s": imported, "models": {}}
for name in names:
    t0 = time.perf_counter()
    model = load_model(name)
    t1 = time.perf_counter()
    vecs = model.encode(texts, normalize=False)
    t2 = time.perf_counter()
    geo_vecs = model.encode(sample, normalize=False)
    t3 = time.perf_counter()
    similarity.cosine_matrix(vecs)
    g = similarity.geometry(geo_vecs)
    out["models"][name] = {"load_s": t1 - t0, "texts_s": t2 - t1, "sample_s": t3 - t2,
                           "mean_cosine": g.mean_cosine, "top_pc_share": g.top_pc_share}
out["total_s"] = time.perf_counter() - start
out["cpu_s"] = cpu()
out["load_average_before"] = load_before
print(json.dumps(out))
"""


PAGE_CHILD = r"""
import os, resource, sys, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=1800)
at.run()
start = time.perf_counter()
at.switch_page("pages/similarity.py").run()
assert not at.exception, at.exception
r = resource.getrusage(resource.RUSAGE_SELF)
models = at.multiselect(key="sim_models").value
print(json.dumps({"page_s": time.perf_counter() - start, "cpu_s": r.ru_utime + r.ru_stime, "models": models,
                  "load_average_before": float(sys.argv[1])}))
""".replace("import os", "import json, os")


def prepared_models_dir() -> Path:
    from embedlab.paths import models_dir

    return models_dir()


def run_child(names: str, n_sample: int, models: Path | None, *, code: str = CHILD) -> dict:
    """One cold run in a fresh process and a fresh data folder (``models`` linked in when given)."""
    with tempfile.TemporaryDirectory(prefix="embedlab-firstview-") as home:
        if models is not None:
            os.symlink(models, Path(home) / "models")
        env = {**os.environ, "EMBEDLAB_HOME": home, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        argv = [names, str(n_sample)] if code is CHILD else [str(os.getloadavg()[0])]
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def page_runs(label: str, repeats: int, models: Path, out: Path) -> None:
    pages = [run_child("", 0, models, code=PAGE_CHILD) for _ in range(repeats)]
    for p in pages:
        print(f"page first view ({','.join(p['models'])}): {p['page_s']:.1f} s, cpu {p['cpu_s']:.1f} s "
              f"(load {p['load_average_before']:.1f})", flush=True)
    result = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    result.setdefault("page_first_view", {})[label] = {
        "note": "AppTest, fresh process, empty cache: Home, then the Similarity page with its defaults; wall seconds "
                "of that switch (cpu: the whole process)", "runs": pages,
        "median_page_s": statistics.median(p["page_s"] for p in pages)}
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidate", action="append", help="MODELS:SAMPLE, e.g. minilm,minilm@cls,smollm2:100")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prepare", action="store_true", help="also time a run with no prepared models")
    parser.add_argument("--page", metavar="LABEL", help="time the page's first view through AppTest instead")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    models = prepared_models_dir()
    out = ROOT / "benchmarks" / "results" / "similarity_first_view.json"
    if args.page:
        page_runs(args.page, args.repeats, models, out)
        return
    candidates = args.candidate or CANDIDATES
    runs: dict[str, list[dict]] = {c: [] for c in candidates}
    for round_ in range(args.repeats):
        order = candidates if round_ % 2 == 0 else candidates[::-1]
        for candidate in order:
            names, n_sample = candidate.rsplit(":", 1)
            run = run_child(names, int(n_sample), models)
            runs[candidate].append(run)
            print(f"round {round_ + 1} {candidate:36s} wall {run['total_s']:6.1f} s  cpu {run['cpu_s']:6.1f} s  "
                  f"(load {run['load_average_before']:.1f})", flush=True)
    rows = []
    for candidate in candidates:
        names, n_sample = candidate.rsplit(":", 1)
        walls, cpus = [r["total_s"] for r in runs[candidate]], [r["cpu_s"] for r in runs[candidate]]
        rows.append({"models": names, "geometry_sample": int(n_sample), "wall_s": walls, "cpu_s": cpus,
                     "median_wall_s": statistics.median(walls), "median_cpu_s": statistics.median(cpus),
                     "runs": runs[candidate]})
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "python": platform.python_version(),
              "method": "fresh process, empty embedding cache, prepared model files; wall time from the first "
                        "import to the last geometry number; cpu = the process's user + system seconds",
              "candidates": rows}
    if args.prepare:
        names = (args.candidate or CANDIDATES)[0].rsplit(":", 1)[0]
        first = run_child(names, 300, None)
        result["first_ever_use"] = {"models": names, "note": "no prepared models: SmolLM2 converted from GGUF",
                                    "run": first}
        print(f"first ever use ({names}): wall {first['total_s']:.1f} s, cpu {first['cpu_s']:.1f} s", flush=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
