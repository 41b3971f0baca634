"""Collections with the real parts: MiniLM, a LanceDB folder in tmp_path, a local Ray cluster
(``num_cpus=2``, always shut down). The corpora are BBC News (bundled): articles for the retrieval
checks, titles and first sentences (short texts) where only the mechanics are under test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from embedlab.cli import main
from embedlab.retrieval.corpus import RetrievalData, bbc_title_to_article, write_beir
from embedlab.store.build import CHUNK, index
from embedlab.store.collection import ANN_MIN_ROWS, MODELS, Collection

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHORT_ROWS = 2_400  # more than one 2,048-text chunk, so an interruption can fall between two


# --- data --------------------------------------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def short_records() -> list[dict]:
    """BBC titles, then first sentences of articles: unique short texts with unique ids."""
    from embedlab.bundled import bbc_news

    frame = bbc_news()
    records, seen = [], set()
    for row in frame.itertuples(index=False):
        if row.title not in seen:
            seen.add(row.title)
            records.append({"id": f"t:{row.id}", "text": row.title})
    for row in frame.itertuples(index=False):
        first = row.text.split(". ")[0][:200]
        if len(records) < SHORT_ROWS and first not in seen:
            seen.add(first)
            records.append({"id": f"s:{row.id}", "text": first})
    assert len(records) == SHORT_ROWS
    return records


@pytest.fixture(scope="module")
def short_file(tmp_path_factory, short_records) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("short") / "short.jsonl", short_records)


@pytest.fixture(scope="module")
def local_short(tmp_path_factory, short_file) -> dict[str, np.ndarray]:
    """The local engine's vectors for the short texts, built in one uninterrupted run."""
    uri = tmp_path_factory.mktemp("local-short") / "c"
    report = index(str(uri), str(short_file), ["minilm"])
    assert report.models[0].embedded == SHORT_ROWS
    return vectors(Collection.open(uri))


@pytest.fixture(scope="module")
def bbc300(tmp_path_factory) -> Path:
    """A BEIR folder: the first 300 BBC articles and their title queries."""
    full = bbc_title_to_article()
    keep = set(full.doc_ids[:300])
    qids = [q for q in full.query_ids if next(iter(full.qrels[q])) in keep]
    data = RetrievalData("bbc-300", full.doc_ids[:300], full.titles[:300], full.bodies[:300], qids,
                         [full.queries[full.query_index[q]] for q in qids], {q: full.qrels[q] for q in qids})
    return write_beir(data, tmp_path_factory.mktemp("beir") / "bbc300")


@pytest.fixture(scope="module")
def local300(tmp_path_factory, bbc300) -> Path:
    uri = tmp_path_factory.mktemp("local300") / "c"
    index(str(uri), str(bbc300 / "corpus.jsonl"), ["minilm"])
    return uri


@pytest.fixture
def ray_cluster():
    """A local Ray cluster of 2 CPUs started here, shut down whatever happens."""
    import ray

    assert not ray.is_initialized()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def no_ray_left():
    """For tests whose ``index(engine="ray")`` starts its own cluster: shut it down if it was left up."""
    import ray

    try:
        yield ray
    finally:
        if ray.is_initialized():
            ray.shutdown()


def vectors(c: Collection, model: str = "minilm") -> dict[str, np.ndarray]:
    column = c.model(model).column
    rows = c.docs().to_arrow().select(["id", column]).to_pylist()
    return {r["id"]: None if r[column] is None else np.asarray(r[column], np.float32) for r in rows}


def texts(c: Collection) -> dict[str, str]:
    return {r["id"]: r["text"] for r in c.docs().to_arrow().select(["id", "text"]).to_pylist()}


def assert_same_vectors(got: dict, expected: dict, *, ids=None) -> None:
    ids = sorted(expected) if ids is None else sorted(ids)
    assert all(got[i] is not None for i in ids), "a row has no vector"
    a = np.stack([got[i] for i in ids])
    b = np.stack([expected[i] for i in ids])
    cosines = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cosines.min() >= 0.9999, f"lowest cosine {cosines.min():.6f} (row {ids[int(cosines.argmin())]})"


# --- engines ----------------------------------------------------------------------------------------


def test_local_and_ray_engines_give_the_same_rows_and_vectors(tmp_path, bbc300, local300, no_ray_left):
    ray = no_ray_left
    report = index(str(tmp_path / "ray"), str(bbc300 / "corpus.jsonl"), ["minilm"], engine="ray", num_cpus=2)
    assert not ray.is_initialized()  # the cluster it started is shut down

    assert report.engine == "ray" and report.workers == 2
    assert report.input_rows == 300 and report.added.inserted == 300 and report.models[0].embedded == 300
    local, remote = Collection.open(local300), Collection.open(tmp_path / "ray")
    assert remote.models()["minilm"].fingerprint == local.models()["minilm"].fingerprint
    assert texts(remote) == texts(local)  # equal id sets, every id's text equal
    assert len(texts(local)) == 300
    assert_same_vectors(vectors(remote), vectors(local))


def test_ray_data_reads_what_the_local_reader_reads(tmp_path, ray_cluster):
    """Every format, and rows without ids whose repeated text spans two files (two Ray blocks)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from embedlab.store import ray_engine
    from embedlab.store.reading import (
        input_spec,
        keep_first_text,
        plan_columns,
        read_local,
        shape_rows,
    )

    records = [{"id": f"r{i}", "text": f"row, \"{i}\"", "topic": f"t{i % 2}"} for i in range(6)]
    table = pa.Table.from_pylist(records)
    pq.write_table(table, tmp_path / "a.parquet")
    write_jsonl(tmp_path / "a.jsonl", records)
    pcsv.write_csv(table, tmp_path / "a.csv")
    pcsv.write_csv(table, tmp_path / "a.tsv", pcsv.WriteOptions(delimiter="\t", quoting_style="needed"))
    (tmp_path / "n1.csv").write_text("text,topic\nsame text,a\nfirst only,b\n")
    (tmp_path / "n2.csv").write_text("text,topic\nsecond only,c\nsame text,d\n")
    for pattern in ("a.parquet", "a.jsonl", "a.csv", "a.tsv", "n*.csv"):
        spec = input_spec(str(tmp_path / pattern))
        local = read_local(spec)
        id_col, text_col, beir, _ = plan_columns(spec, local.column_names)
        expected = keep_first_text(shape_rows(local, id_col=id_col, text_col=text_col, beir=beir), id_col)
        got, _ = ray_engine.read_rows(spec)
        assert got.to_pylist() == expected.to_pylist(), pattern  # the same rows in file order
    assert got["text"].to_pylist() == ["same text", "first only", "second only"]
    assert got["topic"].to_pylist() == ["a", "b", "c"]  # the first copy of a repeated text is kept
    assert not ray_cluster.data.DataContext.get_current().execution_options.preserve_order  # only for reading


def test_an_interrupted_local_build_resumes_with_the_rest(tmp_path, short_file, local_short):
    class Stop(KeyboardInterrupt):
        """What Ctrl-C does to a build: an exception out of the middle of the loop."""

    calls = []

    def stop_after_first_chunk(label: str, done: int, total: int) -> None:
        calls.append((done, total))
        raise Stop

    uri = tmp_path / "c"
    with pytest.raises(Stop):
        index(str(uri), str(short_file), ["minilm"], progress=stop_after_first_chunk)

    c = Collection.open(uri)
    entry = c.model("minilm")
    [(done, total)] = calls
    assert total == SHORT_ROWS and 0 < done <= CHUNK
    assert c.count() == SHORT_ROWS  # rows went in first, in one commit
    remaining = c.missing(entry)
    assert remaining == SHORT_ROWS - done and 0 < remaining < SHORT_ROWS
    kept = {i: v for i, v in vectors(c).items() if v is not None}
    assert len(kept) == done

    report = index(str(uri), str(short_file), ["minilm"])

    [run] = report.models
    assert (run.embedded, run.reused) == (remaining, 0)
    assert (report.added.inserted, report.added.changed, report.added.unchanged) == (0, 0, SHORT_ROWS)
    c = Collection.open(uri)
    assert c.missing(entry) == 0 and c.count() == SHORT_ROWS
    got = vectors(c)
    for i, v in kept.items():  # what the first run wrote is kept as it was
        np.testing.assert_array_equal(got[i], v)
    assert_same_vectors(got, local_short)


def ray_encoders() -> list[psutil.Process]:
    """The Ray actor processes running an encoding call right now (Ray sets their titles)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        line = " ".join(proc.info["cmdline"] or [])
        if line.startswith("ray::MapWorker") and "EncodeActor" in line and ".submit" in line:
            found.append(proc)
    return found


def test_a_killed_encoding_actor_loses_and_duplicates_no_row(tmp_path, short_records, local_short, ray_cluster):
    records = short_records[:2_000]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    uri = tmp_path / "c"
    outcome: dict = {}

    def build() -> None:
        try:
            outcome["report"] = index(str(uri), str(src), ["minilm"], engine="ray", workers=2)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=build, daemon=True)
    worker.start()
    killed = None
    while worker.is_alive() and killed is None:
        busy = ray_encoders()
        if busy:
            victim = busy[0]
            try:
                victim.send_signal(signal.SIGKILL)
                victim.wait(30)
                killed = victim.pid
            except psutil.NoSuchProcess:  # it finished its call and was retired in between: try another
                continue
        time.sleep(0.05)
    worker.join(600)

    assert killed is not None, "no encoding actor was caught mid-call: the test killed nothing"
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    assert "error" not in outcome, outcome.get("error")
    report = outcome["report"]
    assert report.input_rows == 2_000 and report.models[0].embedded == 2_000
    assert ray_cluster.is_initialized()  # a cluster it joined is left running

    c = Collection.open(uri)
    table = c.docs().to_arrow()
    ids = table["id"].to_pylist()
    assert len(ids) == len(set(ids)) == c.count() == 2_000
    assert set(ids) == {r["id"] for r in records}
    assert c.missing(c.model("minilm")) == 0
    assert texts(c) == {r["id"]: r["text"] for r in records}
    assert_same_vectors(vectors(c), local_short, ids=ids)


# --- a second process -------------------------------------------------------------------------------


WRITER = """
import sys
from embedlab.cli import main
uri, files = sys.argv[1], sys.argv[2:]
for f in files:
    code = main(["index", "--collection", uri, "--input", f, "--model", "minilm"])
    print("done", f, code, flush=True)
    if code:
        sys.exit(code)
"""


def test_a_second_process_reads_while_rows_are_added(tmp_path, short_records):
    from embedlab.models import load_model
    from embedlab.store.search import search

    # 5 files of 250: the last two pass the size at which the ANN index is built, then extended
    parts = [write_jsonl(tmp_path / f"part{n}.jsonl", short_records[n * 250:(n + 1) * 250]) for n in range(5)]
    expected = {r["id"]: r["text"] for r in short_records[:1_250]}
    uri = tmp_path / "c"
    assert main(["index", "--collection", str(uri), "--input", str(parts[0]), "--model", "minilm"]) == 0
    model = load_model("minilm", cache=False)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(uri), *map(str, parts[1:])], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    counts, reads = [], 0
    try:
        while True:
            finished = writer.poll() is not None
            c = Collection.open(uri)  # a fresh open each time, as another program would
            n = c.count()
            rows = c.docs().search().select(["id", "text"]).limit(None).to_arrow().to_pylist()
            [found] = search(c, model, ["football match"], k=5)
            assert len(found) == 5 and found["text"].map(bool).all()
            assert len(rows) >= n  # the table read after the count: never fewer rows
            assert all(r["text"] == expected[r["id"]] for r in rows)  # every row complete, as written
            counts.append(n)
            reads += 1
            if finished:
                break
            time.sleep(0.2)  # leave the writer the CPU it needs
    finally:
        if writer.poll() is None:
            writer.kill()
        out, err = writer.communicate()
    assert writer.returncode == 0, err[-2000:]
    assert out.count("done") == 4
    assert counts == sorted(counts), "a reader saw the collection shrink"
    assert counts[-1] == 1_250 and counts[0] < 1_250  # the reads overlapped the writes
    assert len(set(counts)) >= 2, f"{reads} reads saw only {sorted(set(counts))}"
    print(f"\n{reads} reads while another process added rows; counts seen: {sorted(set(counts))}")
    final = Collection.open(uri)
    assert texts(final) == expected and final.missing(final.model("minilm")) == 0


# --- bad input through the CLI ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mpnet_folder() -> Path:
    """MPNet (768-d), prepared once in the test data folder (before any test moves the data folder)."""
    from embedlab.models import resolve_spec
    from embedlab.models.loader import model_folder

    return model_folder(resolve_spec("mpnet"))


def snapshot(uri: Path) -> tuple:
    c = Collection.open(uri)
    return (c.docs().version, c.count(), c.models(), c.db.open_table(MODELS).version,
            sorted(texts(c).items()), c.summary()["models"])


def run_cli(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(list(args))
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return code, err


def test_bad_input_gets_one_error_and_leaves_the_collection_as_it_was(tmp_home, tmp_path, capsys, mpnet_folder,
                                                                       short_records):
    from embedlab.models import resolve_spec
    from embedlab.models.loader import model_folder
    from embedlab.models.registry import custom_spec, save_custom_spec

    minilm = model_folder(resolve_spec("minilm"))
    save_custom_spec(custom_spec("mine", str(minilm)))
    good = write_jsonl(tmp_path / "good.jsonl", short_records[:40])
    uri = tmp_path / "c"
    assert main(["index", "--collection", str(uri), "--input", str(good), "--model", "minilm,mine"]) == 0
    capsys.readouterr()
    before = snapshot(uri)
    assert set(before[2]) == {"minilm", "mine"}

    more = write_jsonl(tmp_path / "more.jsonl", short_records[40:60])
    (tmp_path / "no_text.csv").write_text("id,body\n1,hello\n")
    (tmp_path / "empty.jsonl").write_text("")
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("keep me")
    cases = {
        "missing column": (["--input", str(tmp_path / "no_text.csv"), "--model", "minilm"], "No text column 'text'"),
        "empty file": (["--input", str(tmp_path / "empty.jsonl"), "--model", "minilm"], "empty.jsonl is empty"),
        "unknown model": (["--input", str(more), "--model", "minilm,no-such-model"], "Unknown model 'no-such-model'"),
        "other dimension": (["--input", str(more), "--model", "mine"],
                            "holds 384-dimensional vectors from 'mine'; this model gives 768"),
        "other weights": (["--input", str(more), "--model", "mine"], "other weights or settings"),
    }
    for what, (args, message) in cases.items():
        if what == "other dimension":
            save_custom_spec(custom_spec("mine", str(mpnet_folder)))
        if what == "other weights":
            save_custom_spec(custom_spec("mine", str(minilm), pooling="cls"))
        code, err = run_cli(capsys, "index", "--collection", str(uri), *args)
        assert code == 2, what
        assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], (what, err)
        assert snapshot(uri) == before, f"{what} changed the collection"

    code, err = run_cli(capsys, "index", "--collection", str(a_file), "--input", str(more), "--model", "minilm")
    assert code == 2 and len(err) == 1 and "is a file, not a collection" in err[0], err
    assert a_file.read_text() == "keep me"

    fresh = tmp_path / "fresh"  # a first build refused: nothing is left behind, not even an empty folder
    for args, message in ((["--input", str(more), "--model", "no-such-model"], "Unknown model"),
                          (["--input", str(tmp_path / "no_text.csv"), "--model", "minilm"], "No text column")):
        code, err = run_cli(capsys, "index", "--collection", str(fresh), *args)
        assert code == 2 and len(err) == 1 and message in err[0], err
        assert not fresh.exists()

    # and the collection still works: the original model adds the new rows
    save_custom_spec(custom_spec("mine", str(minilm)))
    assert main(["index", "--collection", str(uri), "--input", str(more), "--model", "minilm,mine"]) == 0
    after = Collection.open(uri)
    assert after.count() == 60 and all(after.missing(e) == 0 for e in after.models().values())


# --- evaluation -------------------------------------------------------------------------------------


def test_eval_retrieval_through_the_ann_index_matches_exact_search(tmp_path, bbc300, local300, short_records,
                                                                   capsys):
    """300 articles with their title queries, plus 700 short distractors so the collection reaches the size
    at which an ANN index is built; ANN nDCG@10 within 0.005 of exact search."""
    uri = tmp_path / "c"
    shutil.copytree(local300, uri)
    titles = [r for r in short_records if r["id"].startswith("t:")][-700:]  # sport and tech: not in the 300
    distractors = write_jsonl(tmp_path / "more.jsonl", [{"_id": f"x{i}", "title": "", "text": r["text"]}
                                                        for i, r in enumerate(titles)])
    assert main(["index", "--collection", str(uri), "--input", str(distractors), "--model", "minilm"]) == 0
    c = Collection.open(uri)
    assert c.count() == ANN_MIN_ROWS == 1_000 and c.has_ann(c.model("minilm"))
    capsys.readouterr()

    results = {}
    for mode in ([], ["--exact"]):
        assert main(["eval", "retrieval", "--collection", str(uri), "--model", "minilm", "--data", str(bbc300),
                     "--json", *mode]) == 0
        results[bool(mode)] = json.loads(capsys.readouterr().out)
    ann, exact = results[False], results[True]

    assert ann["ann_index"] and not exact["ann_index"]
    assert ann["documents"] == 1_000 and ann["queries"] == exact["queries"] > 250
    through_index = ann["results"]["minilm (ANN)"]["nDCG@10"]
    exact_ndcg = exact["results"]["minilm (exact)"]["nDCG@10"]
    assert ann["results"]["minilm (exact)"]["nDCG@10"] == pytest.approx(exact_ndcg, abs=1e-9)
    assert abs(through_index - exact_ndcg) <= 0.005
    assert 0.5 < exact_ndcg < 1.0  # a real, imperfect retriever
    assert 0.0 <= ann["recall_at_10_vs_exact"] <= 1.0 and exact["recall_at_10_vs_exact"] is None
    for pipeline in ("minilm (ANN)", "minilm (exact)"):
        latency = ann["latency_ms"][pipeline]
        assert latency["p50"] > 0 and latency["p95"] >= latency["p50"]
    print(f"\nnDCG@10 ANN {through_index:.4f} exact {exact_ndcg:.4f}; recall@10 vs exact "
          f"{ann['recall_at_10_vs_exact']:.4f}; p50 ANN {ann['latency_ms']['minilm (ANN)']['p50']:.2f} ms, "
          f"exact {ann['latency_ms']['minilm (exact)']['p50']:.2f} ms")


# --- the other commands ------------------------------------------------------------------------------


def test_search_and_collection_commands_on_a_built_collection(local300, bbc300, capsys):
    """`embedlab search` finds an article by its own title (the BBC pairing), `--hybrid` too; `embedlab
    collection --json` says what the collection holds."""
    data = json.loads((bbc300 / "queries.jsonl").read_text().splitlines()[0])
    qrels = (bbc300 / "qrels" / "test.tsv").read_text().splitlines()
    relevant = next(line.split("\t")[1] for line in qrels[1:] if line.split("\t")[0] == data["_id"])
    for extra in ([], ["--hybrid"], ["--exact"]):
        assert main(["search", "--collection", str(local300), "--model", "minilm", "--k", "5", "--json",
                     *extra, data["text"]]) == 0
        hits = json.loads(capsys.readouterr().out)
        assert len(hits) == 5 and hits[0]["id"] == relevant, (extra, hits[0])
    assert main(["collection", "--collection", str(local300), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == 300 and summary["models"]["minilm"]["embedded"] == 300
    assert summary["full_text_index"] is True and summary["models"]["minilm"]["ann_index"] is False  # < 1,000 rows
    assert main(["search", "--collection", str(local300), "--model", "wordllama", "x"]) == 2
    assert "has no vectors from model 'wordllama'" in capsys.readouterr().err
