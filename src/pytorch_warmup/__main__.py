"""``python -m pytorch_warmup``: the ``pytorch-warmup`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
