"""Tuning for a process that scores a batch and exits: less time in the allocator and collector."""

from __future__ import annotations

import ctypes
import gc
import os

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Above one chunk's largest feature matrix, so a chunk's arrays reuse the last chunk's memory.
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 128 << 20


def keep_freed_memory() -> bool:
    """Have glibc keep large freed blocks for reuse; True if it took the setting.

    By default glibc gives big blocks back to the kernel when they are freed, so every
    chunk's feature matrices are page-faulted in again: about a tenth of the time spent
    scoring a file. Other C libraries are left as they are (the output is the same).
    """
    try:
        libc_version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return False
    if not libc_version.startswith("glibc"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's reach.

    The libraries and the model live until the process exits: frozen, they are skipped by
    the full collections while scoring and by the costly one at exit (about half a second).
    """
    gc.freeze()
