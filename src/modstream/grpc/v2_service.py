"""``inference.GRPCInferenceService`` over the data plane (what ``tritonclient.grpc`` calls)."""

from __future__ import annotations

from typing import Any

from modstream import __version__
from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput
from modstream.grpc import grpc_service_pb2 as _pb
from modstream.grpc import grpc_service_pb2_grpc as pb_grpc
from modstream.grpc.calls import CallContext, GrpcServer
from modstream.grpc.errors import rpc
from modstream.protocol import response_id
from modstream.protocol import v2 as codec

pb: Any = _pb  # generated at run time by the protobuf builder: untyped for mypy


def _request(request: Any) -> codec.V2Request:
    """The texts of the one BYTES input; raw contents are answered in kind."""
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
    return codec.V2Request(
        texts=codec.check_count(texts, list(tensor.shape) if tensor.shape else None),
        id=request.id or None,
        input_name=tensor.name or codec.INPUT_NAME,
        binary_output=raw,  # tritonclient reads raw_output_contents when it sent raw inputs
    )


def _reply(body: dict[str, Any], tensor: bytes | None) -> Any:
    """The encoder's response document (and binary tensor) as a ``ModelInferResponse``."""
    reply = pb.ModelInferResponse(
        model_name=body["model_name"], model_version=body["model_version"], id=body["id"]
    )
    for key, value in body.get("parameters", {}).items():
        reply.parameters[key].string_param = value
    for output in body["outputs"]:
        added = reply.outputs.add(
            name=output["name"], datatype=output["datatype"], shape=output["shape"]
        )
        if "data" in output:
            added.contents.fp64_contents.extend(output["data"])
    if tensor is not None:
        reply.raw_output_contents.append(tensor)
    return reply


class InferenceService(pb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    """Health, metadata and inference; FP64 ``[n, 2]`` probabilities named ``probabilities``."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane

    @rpc("v2", "ServerLive")
    async def ServerLive(self, request: Any, context: CallContext) -> Any:
        return pb.ServerLiveResponse(live=True)

    @rpc("v2", "ServerReady")
    async def ServerReady(self, request: Any, context: CallContext) -> Any:
        return pb.ServerReadyResponse(ready=self.plane.ready)

    @rpc("v2", "ModelReady")
    async def ModelReady(self, request: Any, context: CallContext) -> Any:
        codec.check_model(self.plane.facts, request.name, request.version)
        return pb.ModelReadyResponse(ready=self.plane.ready)

    @rpc("v2", "ServerMetadata")
    async def ServerMetadata(self, request: Any, context: CallContext) -> Any:
        return pb.ServerMetadataResponse(**codec.server_metadata(__version__))

    @rpc("v2", "ModelMetadata")
    async def ModelMetadata(self, request: Any, context: CallContext) -> Any:
        model = self.plane.facts
        codec.check_model(model, request.name, request.version)
        facts = codec.model_metadata(model)
        return pb.ModelMetadataResponse(
            name=facts["name"],
            versions=facts["versions"],
            platform=facts["platform"],
            inputs=[pb.ModelMetadataResponse.TensorMetadata(**t) for t in facts["inputs"]],
            outputs=[pb.ModelMetadataResponse.TensorMetadata(**t) for t in facts["outputs"]],
        )

    @rpc("v2", "ModelInfer")
    async def ModelInfer(self, request: Any, context: CallContext) -> Any:
        version = request.model_version or None
        codec.check_model(self.plane.facts_for(version), request.model_name, version)
        message = _request(request)
        request_id = response_id(message.id)  # also what picks champion or canary
        scores = await self.plane.score_batched(
            message.texts, comment_id=request_id, version=version
        )
        return _reply(*codec.encode_infer_response(message, scores, request_id=request_id))


def add_to_server(plane: DataPlane, server: GrpcServer) -> None:
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceService(plane), server)
