"""Evaluation tasks, each computed the way MTEB's evaluators compute it."""
