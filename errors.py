"""The one base class for problems a person must fix (bad input, set-up, account limits).

Retrying cannot help with these, so the Temporal activities turn every subclass into a
non-retryable `ApplicationError` whose type is the subclass name, and the batch CLI prints the
message as one line instead of a traceback.
"""


class PipelineError(Exception):
    """A problem with the input or set-up; the message names the file, the problem and the fix."""
