"""Retrieval: first-stage search (dense, BM25, hybrid), reranking, and evaluation with qrels."""
