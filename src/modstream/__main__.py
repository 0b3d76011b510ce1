from __future__ import annotations

import sys

from modstream.cli import main

sys.exit(main())
