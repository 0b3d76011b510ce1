"""``modstream serve`` whose every model call fails, for the tests of the error paths.

    python -m tests.integration.failing_server serve --model DIR ... --fail model|bug

``model``: the model raises (the data plane reports a ``ModelError``); ``bug``: the data
plane itself raises something that is not a modstream error, as a bug would.
"""

from __future__ import annotations

import sys
from unittest import mock

from modstream.cli import main
from modstream.dataplane import DataPlane
from modstream.model.textmodel import TextModel


def _failure(kind: str) -> mock._patch[mock.MagicMock]:
    if kind == "model":
        error = RuntimeError("the model exploded")
        return mock.patch.object(TextModel, "predict_proba", autospec=True, side_effect=error)
    return mock.patch.object(
        DataPlane, "score", autospec=True, side_effect=RuntimeError("a bug in the data plane")
    )


if __name__ == "__main__":
    argv = sys.argv[1:]
    kind = argv.pop(argv.index("--fail") + 1)
    argv.remove("--fail")
    with _failure(kind):
        sys.exit(main(argv))
