"""MLServer runtime serving a modstream artifact, for ``bench/bench_mlserver.py`` only.

MLServer imports it as ``mlserver_runtime.ModstreamRuntime`` (the bench puts ``bench/`` on
its ``PYTHONPATH``). The model settings' ``parameters.uri`` is the artifact directory.
Input: one BYTES tensor of texts, shape ``[n, 1]``; output: ``probabilities`` FP64 ``[n, 2]``.
"""

from __future__ import annotations

from mlserver import MLModel
from mlserver.codecs import NumpyCodec, StringCodec
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri

from modstream.model import TextModel, load_model


class ModstreamRuntime(MLModel):  # type: ignore[misc]
    """Loads the artifact once; each predict is one vectorised ``predict_proba`` call."""

    async def load(self) -> bool:
        uri = await get_model_uri(self._settings)
        self._model: TextModel = load_model(uri)
        self._model.predict_proba(["warm-up"])
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        texts = [str(text) for text in StringCodec.decode_input(payload.inputs[0])]
        probabilities = self._model.predict_proba(texts)
        return InferenceResponse(
            id=payload.id,
            model_name=self.name,
            model_version=self.version,
            outputs=[NumpyCodec.encode_output("probabilities", probabilities)],
        )
