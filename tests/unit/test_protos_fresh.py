"""The committed ``*_pb2.py`` modules match the ``.proto`` files they were generated from.

Compares descriptors, not source text, so any grpcio-tools version can check; the modules
are read as text (not imported) because their symbols clash with tritonclient's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

GRPC_DIR = Path(__file__).resolve().parents[2] / "src" / "modstream" / "grpc"


def _committed(module: Path) -> descriptor_pb2.FileDescriptorProto:
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile":
            arg = node.args[0]
            assert isinstance(arg, ast.Constant)
            return descriptor_pb2.FileDescriptorProto.FromString(arg.value)
    raise AssertionError(f"no serialized descriptor in {module}")


def _without_json_names(file: descriptor_pb2.FileDescriptorProto) -> bytes:
    """protoc fills ``json_name`` in descriptor sets but not in generated modules."""

    def strip(messages: object) -> None:
        for message in messages:  # type: ignore[attr-defined]
            for field in message.field:
                field.ClearField("json_name")
            strip(message.nested_type)

    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    strip(copy.message_type)
    return copy.SerializeToString(deterministic=True)


@pytest.mark.parametrize("name", ["prediction", "grpc_service"])
def test_generated_modules_match_the_protos(name: str, tmp_path: Path) -> None:
    protoc = pytest.importorskip("grpc_tools.protoc")
    import grpc_tools

    out = tmp_path / "set.pb"
    include = Path(grpc_tools.__file__).parent / "_proto"
    src = GRPC_DIR.parents[1]
    code = protoc.main(
        [
            "protoc",
            f"-I{src}",
            f"-I{include}",
            f"--descriptor_set_out={out}",
            f"modstream/grpc/{name}.proto",
        ]
    )
    assert code == 0
    fresh = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    committed = _committed(GRPC_DIR / f"{name}_pb2.py")
    assert _without_json_names(fresh) == _without_json_names(committed), (
        f"regenerate: python -m modstream.grpc.generate ({name}.proto)"
    )
