"""What can stop the branding, as the pipeline's kinds of error (see errors.py)."""

from __future__ import annotations

import errno
from pathlib import Path

from errors import NeedsAttentionError, PipelineError

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class BrandingError(PipelineError):
    """A video the branded copy cannot be made from as it is."""


class DamagedVideoError(BrandingError):
    pass


class UnsupportedVideoError(BrandingError):
    pass


class DiskFullError(NeedsAttentionError):
    """No room left for the branded copy or its pieces; the work goes on once there is."""


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _DISK_FULL


def disk_full(error: OSError, folder: Path) -> DiskFullError:
    code = errno.errorcode.get(error.errno or 0, "ENOSPC")
    return DiskFullError(
        f"{folder}: the disk is full ({code}: {error.strerror or 'No space left on device'}); "
        "free some space there: the branding goes on from its last finished piece"
    )
