"""Errors a user can act on: one family, ``EmbedlabError``. The CLI prints the message as one
``error:`` line and exits 2; pages show it. Anything else that escapes is a bug in embedlab."""


class EmbedlabError(Exception):
    """Base class: the message says what was wrong and what to do."""


class ModelLoadError(EmbedlabError):
    """A model name, folder or hub ID that cannot be turned into a working embedder."""


class DataError(EmbedlabError):
    """Input data that cannot be used: unreadable file, missing column, no usable rows."""


class OptionError(EmbedlabError, ValueError):
    """An option or parameter value that is not valid (unknown pooling, batch size 0, ...).

    Also a ``ValueError``, so estimator-style classes keep the scikit-learn contract (``fit``
    raises ``ValueError`` on bad parameters) while callers need catch only ``EmbedlabError``.
    """
