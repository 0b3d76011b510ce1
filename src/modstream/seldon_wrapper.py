"""The same artifact under seldon-core's Python wrapper and its s2i images.

Run it with the wrapper (one worker, model directory from ``MODSTREAM_MODEL``)::

    MODSTREAM_MODEL=/models/default seldon-core-microservice \\
        modstream.seldon_wrapper.ModerationModel --service-type MODEL \\
        --http-port 9000 --grpc-port 5000 --workers 1

Scoring goes through the data plane's synchronous ``score``: one vectorised model call
per request, the same truncation and the same error messages as ``modstream serve``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modstream.dataplane import DataPlane
from modstream.errors import ArtifactError, InvalidInput
from modstream.facts import CLASS_NAMES
from modstream.protocol import seldon as codec
from modstream.settings import ServeSettings


def _payload(X: Any) -> dict[str, Any]:
    """What the wrapper hands ``predict`` back into the SeldonMessage it came from."""
    if isinstance(X, str):
        return {"strData": X}
    if isinstance(X, bytes):
        raise InvalidInput("binData is not accepted: send texts in data.ndarray or strData")
    if isinstance(X, dict):
        return {"jsonData": X}
    values = X.tolist() if isinstance(X, np.ndarray) else X
    return {"data": {"ndarray": values}}


def _user_error(exc: InvalidInput) -> Exception:
    """The wrapper's own exception type answers 400; without seldon-core, keep ours."""
    try:
        from seldon_core.flask_utils import SeldonMicroserviceException
    except ImportError:
        return exc
    return SeldonMicroserviceException(exc.message, status_code=400, reason=exc.reason)


class ModerationModel:
    """seldon-core user model: ``predict(X, features_names)`` → ``[n, 2]`` probabilities."""

    def __init__(self, model_dir: str | None = None) -> None:
        settings = ServeSettings()
        self.model_dir = model_dir or settings.model
        self.max_text_chars = settings.max_text_chars
        self._plane: DataPlane | None = None
        self._scored = 0

    def load(self) -> None:
        if not self.model_dir:
            raise ArtifactError("no model directory: set MODSTREAM_MODEL or pass model_dir")
        from modstream.model import load_model

        model = load_model(self.model_dir)
        self._plane = DataPlane(model, max_text_chars=self.max_text_chars)

    @property
    def plane(self) -> DataPlane:
        if self._plane is None:
            self.load()
        assert self._plane is not None
        return self._plane

    def predict(self, X: Any, features_names: list[str] | None = None, **_: Any) -> np.ndarray:
        try:
            texts = codec.decode_request(_payload(X)).texts
        except InvalidInput as exc:
            raise _user_error(exc) from exc
        scores = self.plane.score(texts)
        self._scored = len(texts)
        return scores.probabilities

    def class_names(self) -> list[str]:
        """A method, as current seldon-core asks (an attribute logs a warning per request)."""
        return list(CLASS_NAMES)

    def tags(self) -> dict[str, Any]:
        return dict(self.plane.facts.tags())

    def metrics(self) -> list[dict[str, Any]]:
        return [{"type": "COUNTER", "key": "modstream_texts_scored", "value": self._scored}]

    def init_metadata(self) -> dict[str, Any]:
        return codec.encode_metadata(self.plane.metadata())
