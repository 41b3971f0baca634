"""Collections: corpora too big for memory, in LanceDB (embedded vector store) with embedding on this
process or on Ray Data. ``collection`` (the store), ``reading`` (input files), ``build`` (``index``),
``ray_engine``, ``search`` and ``evaluate``."""
