"""The corpus explorer on a collection, in the real app in headless Chromium (issue 15, item 4).

With ``--core`` the same work runs in this process without the app (``embedlab.store.explore``), and the
process's peak memory before and after each step is recorded.

Opens the explorer, types the collection's folder, sets the sample size, presses Run, waits for the
background job, searches, and saves a full-page screenshot. Writes the job's own timings (sample, map,
clusters, assigning every document with keywords), the wall time seen by the browser and the server
process's peak memory (VmHWM) to ``benchmarks/results/explorer_collection.json``.

    python benchmarks/explorer_collection.py --collection /work/data/c100k --sample 20000 \\
        --shot tests/e2e/artifacts/explorer_collection_100k.png
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "explorer_collection.json"
WAIT_MS = 3 * 3600 * 1000


def peak_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now and its high-water mark, in MB (Linux /proc)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[key].split()[0]) / 1024 for name, key in (("rss_mb", "VmRSS"), ("peak_mb", "VmHWM"))}


def idle(page) -> None:
    page.get_by_role("heading", name="Corpus explorer").first.wait_for(timeout=WAIT_MS)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    errors = page.locator("[data-testid='stException']")
    if errors.count():
        raise RuntimeError(errors.first.inner_text())


def pick(page, label: str, option: str) -> None:
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    idle(page)


def fill(page, role: str, name: str, value: str) -> None:
    box = page.get_by_role(role, name=name)
    box.fill(value)
    box.press("Enter")
    idle(page)


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, App

    app = App()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 3600})
            page.goto(f"{app.url}/explorer")
            idle(page)
            page.get_by_text("A collection").click()
            idle(page)
            pick(page, "Collection", "(type a folder or URI)")
            fill(page, "textbox", "Folder or URI", args.collection)
            page.get_by_text(re.compile(r"documents · models:")).first.wait_for(timeout=WAIT_MS)
            if args.model:
                pick(page, "Model", args.model)
            fill(page, "spinbutton", "Documents on the map (a seeded sample)", str(args.sample))
            before = peak_mb(app.proc.pid)
            start = time.perf_counter()
            page.get_by_role("button", name="Run").click()
            page.get_by_text("finished in").or_(page.get_by_text("failed after")).first.wait_for(timeout=WAIT_MS)
            wall = time.perf_counter() - start
            idle(page)
            page.get_by_text("What ran").first.click()
            log = page.locator("[data-testid='stExpander']").filter(has_text="What ran").first.inner_text()
            after_run = peak_mb(app.proc.pid)
            search_start = time.perf_counter()
            fill(page, "textbox", "Search the whole collection (through its ANN index)", args.query)
            page.get_by_text(re.compile(r"hits for .* are on the map")).first.wait_for(timeout=WAIT_MS)
            idle(page)
            search_wall = time.perf_counter() - search_start
            caption = page.get_by_text(re.compile(r"hits for .* are on the map")).first.inner_text()
            shown = page.get_by_text(re.compile(r"Showing a map of")).first.inner_text()
            Path(args.shot).parent.mkdir(parents=True, exist_ok=True)
            # Plotly draws 20,000 points and the tables paint their canvas after the run ends: a screenshot
            # taken at once showed empty boxes.
            page.locator(".js-plotly-plot .plot-container").first.wait_for(timeout=WAIT_MS)
            page.locator("[data-testid='stDataFrame'] canvas").first.wait_for(timeout=WAIT_MS)
            page.wait_for_timeout(5_000)
            page.screenshot(path=args.shot, full_page=True)
            browser.close()
        return {"collection": args.collection, "sample": args.sample, "query": args.query, "shown": shown,
                "search_caption": caption, "job_log": log, "run_wall_seconds": round(wall, 1),
                "search_wall_seconds": round(search_wall, 2), "server_before_run": before,
                "server_after_run": after_run, "server_after_search": peak_mb(app.proc.pid), "screenshot": args.shot}
    finally:
        app.stop()


def core(args) -> dict:
    """The explorer's work on the collection in this process, step by step, with this process's memory."""
    from embedlab.explorer.pipeline import explore_config, map_vectors
    from embedlab.store.collection import Collection
    from embedlab.store.explore import assign_all, draw_sample

    collection = Collection.open(args.collection)
    model = args.model or next(iter(collection.models()))
    entry, table = collection.model(model), collection.docs()
    memory = {"start": peak_mb(os.getpid())}
    start = time.perf_counter()
    sample = draw_sample(collection, entry, size=args.sample, table=table)
    seconds = {"sample": time.perf_counter() - start}
    memory["after_sample"] = peak_mb(os.getpid())
    mapped = map_vectors(sample.texts, sample.vectors, explore_config(len(sample)), name=model)
    seconds.update(map=mapped.seconds["map"], cluster=mapped.seconds["cluster"])
    memory["after_map_and_clusters"] = peak_mb(os.getpid())
    start = time.perf_counter()
    assignment = assign_all(collection, entry, sample, mapped.labels, table=table)
    seconds["assign_and_keywords"] = time.perf_counter() - start
    memory["after_assign"] = peak_mb(os.getpid())
    return {"collection": args.collection, "mode": "core", "model": model, "sample": len(sample),
            "documents": assignment.documents, "clusters": len(assignment.clusters),
            "sample_noise": assignment.counts.get(-1, 0), "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", required=True)
    parser.add_argument("--model", default=None, help="one of the collection's models (default: its first)")
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--query", default="interest rates and the economy")
    parser.add_argument("--shot", default=str(ROOT / "tests" / "e2e" / "artifacts" / "explorer_collection.png"))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--core", action="store_true", help="run the work in this process, without the app")
    args = parser.parse_args()
    os.environ.setdefault("EMBEDLAB_HOME", tempfile.mkdtemp(prefix="embedlab-explorer-bench-"))
    result = core(args) if args.core else run(args)
    print(json.dumps(result, indent=2))
    out = Path(args.out)
    runs = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*runs, {**result, "when": time.strftime("%Y-%m-%d %H:%M")}], indent=2) + "\n")


if __name__ == "__main__":
    main()
