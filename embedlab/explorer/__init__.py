"""The corpus explorer's pipeline, one module per role: embed → ``projection`` (2-D map) →
``clustering`` (HDBSCAN) → ``topics`` (c-TF-IDF keywords); ``compare`` measures how two models'
maps agree, ``export`` writes the result. ``pipeline.explore`` runs the whole chain."""

from embedlab.explorer.pipeline import ExploreConfig, ModelMap, explore

__all__ = ["ExploreConfig", "ModelMap", "explore"]
