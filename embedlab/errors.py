"""Errors a user can act on. The CLI prints their message and exits non-zero; pages show it."""


class EmbedlabError(Exception):
    """Base class: the message says what was wrong and what to do."""


class ModelLoadError(EmbedlabError):
    """A model name, folder or hub ID that cannot be turned into a working embedder."""


class DataError(EmbedlabError):
    """Input data that cannot be used: unreadable file, missing column, no usable rows."""
