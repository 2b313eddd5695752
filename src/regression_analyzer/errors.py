"""Typed errors. The edges map them once: the CLI to exit codes, the API to HTTP statuses.

Every message is one line a user can act on; none carries a secret or a traceback.
"""


class RegressionAnalyzerError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(RegressionAnalyzerError):
    """The user's table or options cannot be analysed (CLI exit 2, HTTP 422)."""


class UnsupportedFileError(InputError):
    """Wrong or missing extension, or content that is not the kind it claims (HTTP 415)."""


class CorruptFileError(InputError):
    """A file of a supported kind that cannot be read: binary junk, broken or bomb zip."""


class EmptyTableError(InputError):
    """No data: empty file, header only, or every value missing."""


class ColumnNotFoundError(InputError):
    """A named target, feature or sheet does not exist."""


class TargetNotUsableError(InputError):
    """The target is neither numeric nor binary, or is constant."""


class TooFewRowsError(InputError):
    """Fewer complete rows than the model has parameters."""


class LimitExceededError(InputError):
    """Input of a supported kind that is beyond a stated limit (columns, design size, value
    range): refused before the work it would cost is spent. The message names the limit."""


class ConfigurationError(RegressionAnalyzerError):
    """The service cannot start as configured: an invalid setting, or a folder it cannot
    write (CLI exit 2). The message names the variable or folder and what would fix it."""


class LLMError(RegressionAnalyzerError):
    """A language-model provider failed after its retries. Never reaches the user as a failure:
    the pipeline falls back to heuristics and says so in the report."""
