"""``seldon.protos.Model`` over the data plane: Predict, SendFeedback, Metadata."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format

from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput
from modstream.grpc import prediction_pb2 as _pb
from modstream.grpc import prediction_pb2_grpc as pb_grpc
from modstream.grpc.errors import rpc
from modstream.protocol import seldon as codec

pb: Any = _pb  # generated at run time by the protobuf builder: untyped for mypy


def _to_dict(message: Any) -> dict[str, Any]:
    if message.WhichOneof("data_oneof") == "binData":
        raise InvalidInput("binData is not accepted: send texts in data.ndarray or strData")
    return json_format.MessageToDict(message)


def _response(body: dict[str, Any], request_kind: str) -> Any:
    reply = pb.SeldonMessage()
    reply.data.names.extend(body["data"]["names"])
    reply.data.ndarray.extend(body["data"]["ndarray"])
    meta = body["meta"]
    if meta.get("puid"):
        reply.meta.puid = meta["puid"]
    for key, value in meta.get("tags", {}).items():
        json_format.ParseDict(value, reply.meta.tags[key])
    return reply


class SeldonModelService(pb_grpc.ModelServicer):  # type: ignore[misc]
    """Seldon's ``Model`` service; the request ids in ``meta.puid`` match REST's."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane

    @rpc("seldon", "Predict")
    async def Predict(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        message = codec.decode_request(_to_dict(request))
        puid = message.puid or self.plane.new_puid()
        proba = await self.plane.predict(message.texts)
        body = codec.encode_response(
            message, proba, puid=puid, tags=self.plane.tags(), notes=self.plane.notes(message.texts)
        )
        return _response(body, message.kind)

    @rpc("seldon", "SendFeedback")
    async def SendFeedback(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        payload = json_format.MessageToDict(request)
        if "reward" not in payload and request.reward == 0:
            payload["reward"] = 0.0
        feedback = codec.decode_feedback(payload)
        self.plane.record_feedback("grpc", feedback.reward, len(feedback.truth or []))
        reply = pb.SeldonMessage()
        if feedback.puid:
            reply.meta.puid = feedback.puid
        return reply

    def _metadata(self) -> Any:
        facts = codec.encode_metadata(self.plane.metadata())
        return json_format.ParseDict(facts, pb.SeldonModelMetadata())

    @rpc("seldon", "Metadata")
    async def Metadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return self._metadata()

    @rpc("seldon", "ModelMetadata")
    async def ModelMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return self._metadata()


def add_to_server(plane: DataPlane, server: grpc.aio.Server) -> None:
    """``Model``, plus ``Generic`` (SeldonClient's feedback) and ``Seldon`` (gateway API)."""
    service = SeldonModelService(plane)
    pb_grpc.add_ModelServicer_to_server(service, server)
    pb_grpc.add_GenericServicer_to_server(service, server)
    pb_grpc.add_SeldonServicer_to_server(service, server)
