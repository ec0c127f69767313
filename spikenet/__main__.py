"""``python -m spikenet`` is the ``spikenet`` command."""

import sys

from .cli import main

sys.exit(main())
