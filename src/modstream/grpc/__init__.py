"""gRPC transport: Seldon's ``seldon.protos.Model`` and V2's ``inference.GRPCInferenceService``.

The ``*_pb2`` modules are generated from the ``.proto`` files next to them
(``python -m modstream.grpc.generate``) and committed, so serving needs only grpcio and
protobuf. They define the same protobuf symbols as ``seldon-core`` and ``tritonclient``, so
a process cannot import both these modules and those clients' generated code.
"""

from __future__ import annotations
