"""The two kinds of expected failure, as the CLIs and the Temporal activities treat them.

`PipelineError`: a problem a person must fix (bad input, set-up, account limits). Retrying
cannot help, so the activities turn every subclass into a non-retryable `ApplicationError` whose
type is the subclass name, and the batch CLI prints the message as one line.

`RetryLaterError`: a passing failure (a network or a disk that failed for now) after the stage's
own retries. Temporal retries the activity; the batch CLI prints the message, which says to run
the command again.
"""


class PipelineError(Exception):
    """A problem with the input or set-up; the message names the file, the problem and the fix."""


class RetryLaterError(Exception):
    """A passing failure; the message says what failed and that a rerun resumes."""
