"""Regenerate the committed ``*_pb2.py`` modules: ``python -m modstream.grpc.generate``.

Needs ``grpcio-tools`` (a development dependency); the generated code needs only
``grpcio`` and ``protobuf`` at run time. Generate with a ``grpcio-tools`` whose bundled
protobuf is 6.x, so the modules load with protobuf 6 and 7 alike.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROTOS = ("prediction.proto", "grpc_service.proto")
SRC = Path(__file__).resolve().parents[2]


def generate(out: Path = SRC) -> None:
    """Compile the protos under ``out`` (the ``src`` root, or a scratch copy of it)."""
    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).parent / "_proto")
    for name in PROTOS:
        proto = f"modstream/grpc/{name}"
        args = [
            "protoc",
            f"-I{SRC}",
            f"-I{include}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            proto,
        ]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed on {proto}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC)
