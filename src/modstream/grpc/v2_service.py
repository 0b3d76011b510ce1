"""``inference.GRPCInferenceService`` over the data plane (what ``tritonclient.grpc`` calls)."""

from __future__ import annotations

from typing import Any

import grpc
import numpy as np

from modstream import __version__
from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, NotReady
from modstream.grpc import grpc_service_pb2 as _pb
from modstream.grpc import grpc_service_pb2_grpc as pb_grpc
from modstream.grpc.errors import rpc
from modstream.protocol import v2 as codec
from modstream.rest.v2_routes import EXTENSIONS, PLATFORM, check_model

pb: Any = _pb  # generated at run time by the protobuf builder: untyped for mypy


def _texts(request: Any) -> tuple[list[str], bool]:
    """The texts of the one BYTES input, and whether they came as raw contents."""
    if len(request.inputs) != 1:
        raise InvalidInput("an inference request needs exactly one input (BYTES texts)")
    tensor = request.inputs[0]
    if tensor.datatype != "BYTES":
        raise InvalidInput(f"input datatype must be BYTES, got {tensor.datatype!r}")
    raw = len(request.raw_input_contents) > 0
    if raw:
        elements = codec.split_bytes_tensor(request.raw_input_contents[0])
    else:
        elements = list(tensor.contents.bytes_contents)
    texts = codec.texts_from_bytes(elements)
    return codec.check_count(texts, list(tensor.shape) if tensor.shape else None), raw


class InferenceService(pb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    """Health, metadata and inference; FP64 ``[n, 2]`` probabilities named ``probabilities``."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane

    @rpc("v2", "ServerLive")
    async def ServerLive(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return pb.ServerLiveResponse(live=True)

    @rpc("v2", "ServerReady")
    async def ServerReady(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return pb.ServerReadyResponse(ready=self.plane.ready)

    @rpc("v2", "ModelReady")
    async def ModelReady(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        check_model(self.plane, request.name, request.version)
        return pb.ModelReadyResponse(ready=self.plane.ready)

    @rpc("v2", "ServerMetadata")
    async def ServerMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return pb.ServerMetadataResponse(
            name="modstream", version=__version__, extensions=EXTENSIONS
        )

    @rpc("v2", "ModelMetadata")
    async def ModelMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        check_model(self.plane, request.name, request.version)
        model = self.plane.model
        facts = codec.model_metadata(model.name, model.version, PLATFORM)
        return pb.ModelMetadataResponse(
            name=facts["name"],
            versions=facts["versions"],
            platform=facts["platform"],
            inputs=[pb.ModelMetadataResponse.TensorMetadata(**t) for t in facts["inputs"]],
            outputs=[pb.ModelMetadataResponse.TensorMetadata(**t) for t in facts["outputs"]],
        )

    @rpc("v2", "ModelInfer")
    async def ModelInfer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        check_model(self.plane, request.model_name, request.model_version)
        if not self.plane.ready:
            raise NotReady("the model server is not ready")
        texts, raw = _texts(request)
        proba = np.ascontiguousarray(await self.plane.predict(texts), dtype="<f8")
        model = self.plane.model
        reply = pb.ModelInferResponse(
            model_name=model.name, model_version=model.version, id=request.id
        )
        output = reply.outputs.add(name=codec.OUTPUT_NAME, datatype="FP64", shape=proba.shape)
        if raw:  # answer in kind: tritonclient reads raw_output_contents
            reply.raw_output_contents.append(proba.tobytes())
        else:
            output.contents.fp64_contents.extend(proba.ravel().tolist())
        return reply


def add_to_server(plane: DataPlane, server: grpc.aio.Server) -> None:
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceService(plane), server)
