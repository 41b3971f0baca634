"""The ray engine: input read with Ray Data, texts encoded by a pool of actors that each load the model
once (``map_batches`` with a callable class and ``ActorPoolStrategy``), vectors written to the
collection by the driver as they arrive.

``ray.init()`` starts a local cluster on this machine, or joins the one at ``address`` (or
``$RAY_ADDRESS``). A worker that dies mid-batch is restarted and its batch retried by Ray Data; the
driver writes each text's vector by id, so a retried batch neither loses nor duplicates a row.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Callable, Iterator

import pyarrow as pa

from embedlab.errors import DataError
from embedlab.store.collection import vector_column
from embedlab.store.reading import InputSpec, keep_first_text, plan_columns, shape_rows

log = logging.getLogger(__name__)
ENCODE_BATCH = 256  # texts per actor call: big enough to keep an actor busy, small enough to retry cheaply


@contextmanager
def cluster(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[dict]:
    """Ray started (or joined) for the duration; a cluster this call started is shut down after."""
    import ray

    started = not ray.is_initialized()
    if started:
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
        target = address or os.environ.get("RAY_ADDRESS") or None
        try:
            if target:
                ray.init(address=target, **kwargs)
            else:
                ray.init(num_cpus=num_cpus, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DataError(f"Could not start or join a Ray cluster{f' at {target}' if target else ''}: "
                            f"{str(exc).splitlines()[0][:200]}") from None
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    try:
        yield ray.cluster_resources()
    finally:
        if started:
            ray.shutdown()


@contextmanager
def _in_file_order() -> Iterator[None]:
    """Datasets made inside keep the input's row order, as the local reader does (so the same copy of a
    repeated text is kept). Ray Data snapshots its context when a dataset is made: nothing else changes."""
    import ray.data

    options = ray.data.DataContext.get_current().execution_options
    before = options.preserve_order
    options.preserve_order = True
    try:
        yield
    finally:
        options.preserve_order = before


def read_rows(spec: InputSpec) -> tuple[pa.Table, list[str]]:
    """The input read by Ray Data and shaped to (id, text, text_hash, other columns) by Ray tasks."""
    import ray
    import ray.data

    files = list(spec.files)
    if len(ray.nodes()) > 1:  # a local path exists on this machine only: read it here, not on a worker
        files = [f if "://" in f else f"local://{os.path.abspath(f)}" for f in files]
    with _in_file_order():
        try:
            if spec.fmt == "parquet":
                ds = ray.data.read_parquet(files)
            elif spec.fmt == "json":
                ds = ray.data.read_json(files)
            else:
                import pyarrow.csv as pcsv

                opts = pcsv.ParseOptions(delimiter="\t" if spec.fmt == "tsv" else ",", newlines_in_values=True)
                ds = ray.data.read_csv(files, parse_options=opts)
            names = list(ds.schema().names)
        except Exception as exc:  # Ray wraps the reader's error in its own types
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DataError(f"Ray Data could not read {', '.join(files)[:200]} as {spec.fmt.upper()}: "
                            f"{first[:200]}") from None
        id_col, text_col, beir, notes = plan_columns(spec, names)
        shaped = ds.map_batches(shape_rows, batch_format="pyarrow",
                                fn_kwargs={"id_col": id_col, "text_col": text_col, "beir": beir})
    parts = [b for b in shaped.iter_batches(batch_size=None, batch_format="pyarrow") if b.num_rows]
    if not parts:
        raise DataError("The input has no row with text.")
    return keep_first_text(pa.concat_tables(parts, promote_options="permissive"), id_col), notes


class EncodeActor:
    """One Ray actor: loads the model once (from its spec, so every worker loads the same one) and
    checks it is the model the collection records before encoding anything."""

    def __init__(self, spec_json: str, fingerprint: str, batch_size: int) -> None:
        import json

        import ray
        import torch

        from embedlab.models import ModelSpec, load_model

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
        torch.set_num_threads(max(1, int(cpus)))
        data = json.loads(spec_json)
        self.model = load_model(ModelSpec(**data), cache=False)
        if self.model.cache_key("document") != fingerprint:
            raise RuntimeError(f"This worker's {data['name']!r} differs from the driver's (other weights or "
                               "settings): give every node the same environment and models.")
        self.batch_size = batch_size

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch["text"].to_pylist()
        vectors = self.model.encode(texts, batch_size=self.batch_size)  # (batch, dim), unit length
        return pa.table({"text_hash": batch["text_hash"], "vector": vector_column(vectors)})


def encode(texts: pa.Table, *, spec_json: str, fingerprint: str, workers: int, batch_size: int,
           cpus_per_worker: float = 1.0, chunk: int = 2_048) -> Iterator[pa.Table]:
    """(text_hash, vector) tables as the actor pool finishes them; ``texts`` has text_hash and text."""
    import ray.data

    # Blocks cut here, not by a repartition: that would need a task slot while the actors hold every CPU.
    step = max(1, min(ENCODE_BATCH * 4, -(-texts.num_rows // (workers * 2))))
    ds = ray.data.from_arrow([texts.slice(i, step) for i in range(0, texts.num_rows, step)])
    encoded = ds.map_batches(
        EncodeActor, batch_format="pyarrow", batch_size=ENCODE_BATCH,
        fn_constructor_kwargs={"spec_json": spec_json, "fingerprint": fingerprint, "batch_size": batch_size},
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus_per_worker)
    yield from encoded.iter_batches(batch_size=chunk, batch_format="pyarrow")


def default_workers(resources: dict, cpus_per_worker: float = 1.0) -> int:
    return max(1, int(resources.get("CPU", 1) // cpus_per_worker))


Progress = Callable[[int, int], None]
