"""One-sentence definitions of the technical terms the pages show, written once.

Pages look terms up for their tooltips (``help=`` on a widget, a caption or a table column):
``helps("HDBSCAN", "min_cluster_size")`` gives a tooltip that defines both, and
``column_help({"ARI": "ARI"})`` gives ``st.dataframe`` column configs. A test checks that every
term here is used on some page, and that the pooling modes, fine-tune losses and reranker kinds
the core offers all have a definition. No streamlit import except in ``column_help``.
"""

from __future__ import annotations

POOLING = {
    "mean": "Mean pooling: the text's vector is the average of all its token vectors, the way sentence "
            "encoders such as MiniLM were trained.",
    "cls": "CLS pooling: the text's vector is the one of the special first token ([CLS]), useful only when the "
           "model was trained to put a summary there.",
    "max": "Max pooling: each dimension takes its largest value over the text's tokens.",
    "last": "Last-token pooling: the vector of the final real token, which in a decoder (read left to right) is "
            "the only one that has seen the whole text.",
    "weighted-mean": "Weighted-mean pooling (SGPT): an average over tokens with weights rising by position, so a "
                     "decoder's later tokens, which have seen more of the text, count more.",
}

LOSSES = {
    "mnrl": "MNRL (multiple negatives ranking loss): for each (anchor, positive) pair every other positive in the "
            "batch is a negative, and the loss rewards picking the right one by scaled cosine: InfoNCE under its "
            "sentence-transformers name.",
    "infonce": "InfoNCE: a softmax over the anchor's similarities to its positive and to the batch's other texts, "
               "divided by a temperature, that pulls the pair together and pushes the rest apart.",
    "triplet": "Triplet loss: the anchor must be closer to its positive than to its negative by at least a margin, "
               "and the loss is zero once it is.",
    "cosent": "CoSENT: for scored pairs, it penalises every two pairs whose cosines are in the opposite order to "
              "their gold scores, so only the ranking of similarities is trained.",
    "bce": "Binary cross-entropy: the cross-encoder reads (anchor, text) together and learns to output 1 for the "
           "positive and 0 for the negative.",
}

RERANKERS = {
    "maxsim": "MaxSim (late interaction, as in ColBERT): each query token takes its best cosine with any document "
              "token and the score is their mean, so texts are matched word by word rather than as two vectors.",
    "qlm": "Query likelihood (UPR): a decoder LM reads the document and scores how probable the query's words "
           "are as a search query for it.",
    "llm": "LLM judge: a decoder LM is asked whether the document is relevant to the query, and the score is its "
           "probability of answering yes.",
    "cross-encoder": "Cross-encoder: one transformer reads the query and the document together and outputs a "
                     "relevance score, accurate but run once for every (query, document) pair.",
}

TERMS = {
    # maps and clusters
    "UMAP": "UMAP: a non-linear projection that keeps each document's nearest neighbours close on the map, so "
            "local groups show while distances between far-apart groups mean little.",
    "PCA": "PCA: a linear projection onto the two directions of largest variance, instant and faithful to the "
           "overall layout but blurring small groups.",
    "n_neighbors": "UMAP n_neighbors: how many nearest neighbours UMAP considers for each document; small values "
                   "show fine local detail, large values the broad layout.",
    "min_dist": "UMAP min_dist: how tightly UMAP may pack points on the map; small values give dense clumps, "
                "large values spread points evenly.",
    "UMAP metric": "UMAP metric: the distance UMAP uses to find each embedding's neighbours; cosine suits text "
                   "embeddings, which are compared by direction.",
    "HDBSCAN": "HDBSCAN: density-based clustering that finds any number of clusters of any shape and leaves "
               "documents in sparse regions out as noise instead of forcing them into a cluster.",
    "min_cluster_size": "HDBSCAN min_cluster_size: the smallest group of documents HDBSCAN will call a cluster; "
                        "larger values give fewer, broader clusters.",
    "min_samples": "HDBSCAN min_samples: how many close neighbours a document needs to count as in a dense "
                   "region; larger values leave more documents out as noise.",
    "cluster space": "Cluster space: HDBSCAN runs on a 5-D UMAP reduction by default (as BERTopic does), because "
                     "in hundreds of raw dimensions all distances look alike and density is hard to find.",
    "c-TF-IDF": "c-TF-IDF (class-based TF-IDF, from BERTopic): each cluster's documents are joined into one text "
                "and its words scored by how often they occur there against how common they are in all "
                "clusters, so the keywords are the words that set the cluster apart.",
    "Procrustes": "Procrustes alignment: rotates (or mirrors), scales and shifts one map to lie as closely as "
                  "possible on another, so two models' maps can be compared point by point without changing either's "
                  "shape.",
    "kNN Jaccard": "kNN Jaccard: for one document, its k nearest neighbours under each model, shared neighbours "
                   "divided by all distinct ones (1 = the same neighbours, 0 = none in common).",
    "ARI": "ARI (adjusted Rand index): agreement of two groupings over every pair of documents (together or "
           "apart), corrected for chance, so 1 = identical and 0 = no better than random.",
    "NMI": "NMI (normalised mutual information): how much knowing one grouping tells about the other, from 0 "
           "(nothing) to 1 (the same up to renaming).",
    "V-measure": "V-measure: the harmonic mean of homogeneity (each cluster holds one label) and completeness "
                 "(each label sits in one cluster), from 0 to 1.",
    # similarity and geometry
    "mean-centering": "Mean-centering: subtracting the mean vector of a sample from every vector, which removes "
                      "the direction all texts share so that cosines spread out again.",
    "anisotropy": "Anisotropy: all vectors point into one narrow cone, so even unrelated texts get a high cosine; "
                  "the mean cosine of random pairs measures it (near 0 is healthy).",
    "top-PC variance": "Top-PC variance: the share of the (unit-length) vectors' variance along their single "
                       "main direction, the top principal component; a high share means one direction dominates.",
    "Spearman": "Spearman correlation: how far two lists of numbers agree in their order (1 = same order, "
                "0 = unrelated, -1 = reversed), ignoring the values themselves.",
    # retrieval
    "bi-encoder": "Bi-encoder: the query and every document are embedded separately, so documents are embedded "
                  "once and search is a fast nearest-vector lookup.",
    "BM25": "BM25: the classic keyword ranking, which scores documents by the query words they contain, weighting "
            "rare words more and damping long documents; no embedding model involved.",
    "RRF": "RRF (reciprocal rank fusion): each document scores the sum of 1 / (60 + its rank) over the lists it "
           "appears in, so results that either BM25 or the model ranks high rise, whatever their score scales.",
    "rerank depth": "Rerank depth: how many of the first stage's top results the reranker re-scores; cost grows "
                    "with it, and a document below it can never be moved up.",
    "qrels": "Qrels (relevance judgements): for each query, which documents are relevant, the answer key that "
             "nDCG, MRR and recall are computed against.",
    "nDCG@10": "nDCG@10: relevant documents in the top 10 count more the higher they rank, divided by the score "
               "of the ideal order, so 1 = perfect ranking.",
    "MRR": "MRR@10 (mean reciprocal rank): 1 / the rank of the first relevant result in the top 10 (0 if none), "
           "averaged over queries; 0.5 means typically second.",
    "recall": "Recall@k: the share of a query's relevant documents found in the top k results.",
    "MAP": "MAP@100 (mean average precision): the precision at each rank where a relevant document appears, "
           "averaged, then averaged over queries.",
    # fine-tuning
    "hard negatives": "Hard negatives: texts that look relevant to the anchor (ranked high by BM25 or the base "
                      "model) but are not its pair; training against them teaches finer distinctions than random "
                      "ones.",
    "temperature": "Temperature: similarities are divided by it before the softmax (scale = 1 / temperature); "
                   "small values make the loss focus on the hardest negatives.",
    "margin": "Margin: how much closer than the negative the positive must be before the triplet loss stops "
              "pushing.",
    "LoRA": "LoRA (low-rank adaptation): instead of every weight, training learns small low-rank updates to the "
            "attention projections, merged into the weights when saved: cheaper and gentler on the model.",
    # benchmark
    "Pareto front": "Pareto front: the models that no other model beats on both average score and speed.",
}
TERMS.update({f"pooling: {mode}": text for mode, text in POOLING.items()})
TERMS.update({f"loss: {loss}": text for loss, text in LOSSES.items()})
TERMS.update({f"reranker: {kind}": text for kind, text in RERANKERS.items()})


def define(term: str) -> str:
    """The one-sentence definition of ``term``; a term the glossary lacks is a programming error."""
    try:
        return TERMS[term]
    except KeyError:
        raise KeyError(f"{term!r} is not in ui.glossary.TERMS; add its definition there.") from None


def helps(*terms: str, before: str = "", after: str = "") -> str:
    """A tooltip: optional page-specific text, then one paragraph per term's definition."""
    return "\n\n".join(p for p in (before, *(define(t) for t in terms), after) if p)


def pooling_help(*, before: str = "") -> str:
    return helps(*(f"pooling: {mode}" for mode in POOLING), before=before)


def column_help(columns: dict[str, str]) -> dict:
    """``st.dataframe`` column configs giving each column (key) the definition of its term (value)."""
    import streamlit as st

    return {column: st.column_config.Column(column, help=define(term)) for column, term in columns.items()}
