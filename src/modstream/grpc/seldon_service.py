"""``seldon.protos.Model`` over the data plane: Predict, SendFeedback, Metadata.

Messages are converted field by field between protobuf and the plain values
``modstream.protocol.seldon`` decodes and encodes (no JSON round trip), so gRPC and REST
decide requests and responses with the same code and give the same numbers.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput
from modstream.grpc import prediction_pb2 as _pb
from modstream.grpc import prediction_pb2_grpc as pb_grpc
from modstream.grpc.calls import CallContext, GrpcServer
from modstream.grpc.errors import rpc
from modstream.protocol import response_id
from modstream.protocol import seldon as codec

pb: Any = _pb  # generated at run time by the protobuf builder: untyped for mypy


def _plain(value: Any) -> object:
    """A ``google.protobuf.Value`` as the JSON value it stands for."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "list_value":
        return _plain_list(value.list_value)
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {key: _plain(item) for key, item in value.struct_value.fields.items()}
    return None


def _plain_list(values: Any) -> list[object]:
    return [_plain(item) for item in values.values]


def _payload(message: Any) -> dict[str, object]:
    """A ``SeldonMessage`` as the JSON document it stands for (its data and ``meta.puid``)."""
    payload: dict[str, object] = {}
    if message.meta.puid:
        payload["meta"] = {"puid": message.meta.puid}
    which = message.WhichOneof("data_oneof")
    if which == "data":
        kind = message.data.WhichOneof("data_oneof")
        if kind == "ndarray":
            payload["data"] = {"ndarray": _plain_list(message.data.ndarray)}
        else:  # a tensor, or nothing: the codec says what it needs
            payload["data"] = {kind: None} if kind else {}
    elif which == "strData":
        payload["strData"] = message.strData
    elif which == "jsonData":
        payload["jsonData"] = _plain(message.jsonData)
    elif which is not None:
        raise InvalidInput(f"{which} is not accepted: send texts in data.ndarray or strData")
    return payload


def _set(target: Any, value: object) -> None:
    """Fill a ``google.protobuf.Value`` from a JSON value (the encoders' tag values)."""
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int | float):
        target.number_value = value
    elif isinstance(value, list):
        target.list_value.extend(value)
    elif isinstance(value, dict):
        target.struct_value.update(value)
    else:
        target.null_value = 0


def _message(body: dict[str, Any]) -> Any:
    """The encoder's response document as a ``SeldonMessage``."""
    reply = pb.SeldonMessage()
    data, meta = body["data"], body["meta"]
    reply.data.names.extend(data["names"])
    rows = reply.data.ndarray
    rows.SetInParent()  # an empty answer still says "ndarray"
    for row in data["ndarray"]:
        numbers = rows.values.add().list_value.values
        for p in row:
            numbers.add().number_value = p
    if meta.get("puid"):
        reply.meta.puid = meta["puid"]
    for key, value in meta.get("tags", {}).items():
        _set(reply.meta.tags[key], value)
    return reply


def _feedback(request: Any) -> dict[str, object]:
    payload: dict[str, object] = {"reward": float(request.reward)}
    if request.HasField("request"):
        payload["request"] = _payload(request.request)
    if request.HasField("response"):
        payload["response"] = _payload(request.response)
    if request.HasField("truth"):
        payload["truth"] = _payload(request.truth)
    return payload


class SeldonModelService(pb_grpc.ModelServicer):  # type: ignore[misc]
    """Seldon's ``Model`` service; ``meta.puid`` follows the same rule as REST's."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane

    @rpc("seldon", "Predict")
    async def Predict(self, request: Any, context: CallContext) -> Any:
        message = codec.decode_request(_payload(request))
        puid = response_id(message.puid)  # also what picks champion or canary
        scores = await self.plane.score_batched(message.texts, comment_id=puid)
        return _message(codec.encode_response(message, scores, request_id=puid))

    @rpc("seldon", "SendFeedback")
    async def SendFeedback(self, request: Any, context: CallContext) -> Any:
        feedback = codec.decode_feedback(_feedback(request))
        self.plane.record_feedback("grpc", feedback.reward, len(feedback.truth or []))
        return _message(codec.encode_feedback_response(puid=feedback.puid, model=self.plane.facts))

    def _metadata(self) -> Any:
        facts = codec.encode_metadata(self.plane.metadata())
        return json_format.ParseDict(facts, pb.SeldonModelMetadata())

    @rpc("seldon", "Metadata")
    async def Metadata(self, request: Any, context: CallContext) -> Any:
        return self._metadata()

    @rpc("seldon", "ModelMetadata")
    async def ModelMetadata(self, request: Any, context: CallContext) -> Any:
        return self._metadata()


def add_to_server(plane: DataPlane, server: GrpcServer) -> None:
    """``Model``, plus ``Generic`` (SeldonClient's feedback) and ``Seldon`` (gateway API)."""
    service = SeldonModelService(plane)
    pb_grpc.add_ModelServicer_to_server(service, server)
    pb_grpc.add_GenericServicer_to_server(service, server)
    pb_grpc.add_SeldonServicer_to_server(service, server)
