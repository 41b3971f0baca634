"""MTEB-style tasks for "MTEB on your data": pure functions of precomputed embeddings.

Each function takes numpy arrays plus labels and returns a plain dict (a TypedDict) of metrics,
computed as mteb 2.26 computes them; bad input raises ``embedlab.errors.DataError``.

- ``clustering_scores``: V-measure of MiniBatchKMeans over bootstrap runs (mteb's fast
  ``AbsTaskClustering``, the one its v2 clustering tasks use), see ``clustering_task``.
- ``classification_scores``: logistic-regression probe on undersampled training data, averaged over
  experiments (``AbsTaskClassification``), with ``train_test_split_for_probe`` for data that has no
  split, see ``classification_task``.
- ``pair_classification_scores``: AP and best-threshold accuracy/F1 of pair similarities
  (``AbsTaskPairClassification``), see ``pair_classification_task``.
- ``dedup_groups`` / ``dedup_disagreement``: near-duplicate groups and where two models differ on
  them; not an mteb task, see ``dedup``.
"""

from embedlab.evaluation.classification_task import (
                                                     ClassificationScores,
                                                     classification_scores,
                                                     train_test_split_for_probe,
)
from embedlab.evaluation.clustering_task import ClusteringScores, clustering_scores
from embedlab.evaluation.dedup import Disagreement, dedup_disagreement, dedup_groups
from embedlab.evaluation.pair_classification_task import pair_classification_scores

__all__ = [
    "ClassificationScores",
    "ClusteringScores",
    "Disagreement",
    "classification_scores",
    "clustering_scores",
    "dedup_disagreement",
    "dedup_groups",
    "pair_classification_scores",
    "train_test_split_for_probe",
]
