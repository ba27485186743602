"""``python -m cognate.testing [--key-cache FILE] serve ...``: ``cognate serve`` for a test session.

The only difference from ``cognate serve``: new pools take signing keys made ahead
(see ``keys.py``). The subprocess mode of ``cognate.testing`` runs this.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cognate import cli
from cognate.testing.keys import KeyReserve, installed


def main(argv: list[str]) -> int:
    cache: Path | None = None
    if argv[:1] == ["--key-cache"]:
        cache, argv = Path(argv[1]), argv[2:]
    with installed(KeyReserve(cache)):
        return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
