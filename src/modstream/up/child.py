"""Entry point of the children of ``modstream up``: ``python -m modstream.up.child PPID ARGS``.

Before running ``modstream ARGS`` it asks Linux to send it SIGINT when its parent dies
(even by SIGKILL), so a crashed ``modstream up`` leaves no process behind. This runs after
``exec``, where it is safe, unlike a ``preexec_fn`` in a parent that has threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(1)


def main() -> int:
    # A shell starts background jobs with SIGINT ignored, and children inherit that;
    # modstream up stops its children with SIGINT, so it must raise KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _die_with_parent(int(sys.argv[1]))
    from modstream.cli import main as cli_main

    return cli_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
