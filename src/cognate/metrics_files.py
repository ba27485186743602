"""Where the workers of one ``cognate serve`` keep their metrics (prometheus-client's
multiprocess mode, https://prometheus.github.io/client_python/multiprocess/).

The mode is chosen when prometheus-client is imported, from ``PROMETHEUS_MULTIPROC_DIR``
(set through config.py): this module must not import it, so ``cognate serve`` can set the
variable first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cognate import config


def prepare_multiprocess(data_dir: Path) -> Path:
    """Share the workers' figures through ``<data-dir>/metrics``, emptied of an earlier run's.

    Called by ``cognate serve`` in the parent, before anything imports prometheus-client;
    the workers inherit the variable. Stale files would add an old run's counts to this one's.
    """
    where = Path(data_dir) / "metrics"
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True, mode=0o700)
    config.set_metrics_multiprocess_dir(where)
    return where
