"""MTEB on your data: tasks, a runner that scores several models on them, and a results cache.

A ``Task`` (``task.py``) is one evaluation (kind, data, parameters) that turns a model into a dict
of metrics with a ``main_score``, each kind computed the way mteb computes it (``kinds.py``):

- ``sts``: ``evaluation.sts.evaluate_sts``; main score = cosine Spearman (mteb's STS main score).
- ``retrieval``: ``retrieval.pipeline.dense_search`` (exact cosine, top 1000 per query) scored by
  ``retrieval.metrics`` (trec_eval definitions, as pytrec_eval computes them for mteb), averaged
  over the judged queries; main score = nDCG@10.
- ``clustering``: ``evaluation.tasks.clustering_scores`` (mteb's fast ``AbsTaskClustering``);
  main score = V-measure, mean over the bootstrap runs.
- ``classification``: ``evaluation.tasks.classification_scores`` (mteb's logistic-regression probe);
  main score = accuracy, mean over the experiments.
- ``pair-classification``: ``evaluation.tasks.pair_classification_scores``; main score = max AP
  over the cosine/manhattan/euclidean/dot rows (mteb's ``max_ap``).
- ``dedup``: ``evaluation.tasks.dedup_groups``; no main score (not an mteb task, and more or
  fewer duplicates is neither better nor worse). The leaderboard shows its ``duplicate_share``
  and leaves it out of the average.

Texts of the symmetric tasks (everything but retrieval) are embedded with the model's
``document`` role, as ``evaluate_sts`` does; mteb gives those tasks no query/document prompt type,
and the bundled models have no prompts. Retrieval embeds queries as ``query`` and documents as
``document``, as mteb does. Each distinct text is encoded once per task; across tasks, embeddings
are shared through the model's on-disk embedding cache (``load_model`` wraps every model in a
``CachedEmbedder`` keyed by text), so the three BBC tasks embed the 2,225 article bodies once.

The bundled tasks are in ``bundled.py``, tasks built from a table in ``from_table.py``.
``run_bench`` (``runner.py``) loads each model once, runs every task, times each, measures the
model's encoding speed on a fixed sample of each task's texts and its size (``speed.py``), and returns
a ``Leaderboard`` whose Pareto front (``pareto.py``) marks the models no other beats on both score
and speed; ``bench_job`` (``job.py``) makes it a background job (``embedlab.jobs``) for the app. Results
are cached on disk (``<cache_dir>/bench/``, ``cache.py``), keyed by the model's fingerprint, the
task's name, kind and data key, and ``BENCH_VERSION``; see ``result_key``.
"""

from embedlab.evaluation.bench.bundled import (
                                             BUNDLED_TASK_NAMES,
                                             bundled_task,
                                             bundled_tasks,
)
from embedlab.evaluation.bench.cache import (
                                             BENCH_VERSION,
                                             ResultCache,
                                             model_fingerprint,
                                             result_key,
)
from embedlab.evaluation.bench.from_table import TABLE_KINDS, TableTask, task_from_table
from embedlab.evaluation.bench.kinds import (
                                             RETRIEVAL_METRICS,
                                             RETRIEVAL_TOP_K,
                                             classification_task,
                                             clustering_task,
                                             dedup_task,
                                             pair_classification_task,
                                             retrieval_task,
                                             sts_task,
)
from embedlab.evaluation.bench.pareto import pareto_front
from embedlab.evaluation.bench.runner import (
                                             COST_COLUMNS,
                                             PARETO_COLUMN,
                                             BenchProgress,
                                             Leaderboard,
                                             TaskResult,
                                             run_bench,
                                             run_task,
)
from embedlab.evaluation.bench.speed import (
                                             SPEED_METHOD,
                                             Speed,
                                             measure_speed,
                                             model_size,
)
from embedlab.evaluation.bench.task import TASK_KINDS, Task

__all__ = [
    "BENCH_VERSION",
    "BUNDLED_TASK_NAMES",
    "COST_COLUMNS",
    "PARETO_COLUMN",
    "RETRIEVAL_METRICS",
    "RETRIEVAL_TOP_K",
    "SPEED_METHOD",
    "TABLE_KINDS",
    "TASK_KINDS",
    "BenchProgress",
    "Leaderboard",
    "ResultCache",
    "Speed",
    "TableTask",
    "Task",
    "TaskResult",
    "bundled_task",
    "bundled_tasks",
    "classification_task",
    "clustering_task",
    "dedup_task",
    "measure_speed",
    "model_fingerprint",
    "model_size",
    "pair_classification_task",
    "pareto_front",
    "result_key",
    "retrieval_task",
    "run_bench",
    "run_task",
    "sts_task",
    "task_from_table",
]
