#!/usr/bin/env bash
# The comparison systems of bench/bench_compare_stream.py, each in its own virtualenv
# (they pin versions modstream's own environment must not take):
#   MLServer 1.7.1 with uvloop < 0.23 (0.23 stops its inference worker processes), and
#   Quix Streams 3.28.1, which needs confluent-kafka < 2.13.
# The Quix virtualenv sees the system site-packages (modstream's dependencies) and only
# adds Quix Streams and the client it pins. modstream itself comes from PYTHONPATH.
# Usage: bench/venvs.sh [DIR]   (default /tmp; makes DIR/venv-mlserver and DIR/venv-quix)
set -euo pipefail
dir="${1:-/tmp}"
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ ! -x "$dir/venv-mlserver/bin/mlserver" ]; then
  python3 -m venv "$dir/venv-mlserver"
  "$dir/venv-mlserver/bin/pip" install -q mlserver==1.7.1 uvloop==0.21.0 scipy scikit-learn \
    "spacy>=3.7,<3.9" "spacy-lookups-data>=1.0.5,<1.1" ftfy tqdm pyyaml prometheus-client orjson
  "$dir/venv-mlserver/bin/pip" install -q --no-deps -e "$root"
fi
if [ ! -x "$dir/venv-quix/bin/python" ] || ! "$dir/venv-quix/bin/python" -c "import quixstreams" 2>/dev/null; then
  python3 -m venv --system-site-packages "$dir/venv-quix"
  "$dir/venv-quix/bin/pip" install -q quixstreams==3.28.1
fi
"$dir/venv-mlserver/bin/python" -c "import mlserver; print('MLServer', mlserver.__version__)"
"$dir/venv-quix/bin/python" -W ignore -c "import quixstreams; print('Quix Streams', quixstreams.__version__)"
