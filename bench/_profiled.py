"""``cognate serve`` under cProfile, on between SIGUSR1 and SIGUSR2 (``bench/profile.py --mode cprofile``).

The profile counts the main thread's CPU time (the event loop's), and is written to
``$BENCH_PROFILE_OUT`` when SIGUSR2 stops it.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
import time
from typing import Any

from cognate.cli import main

_profile = cProfile.Profile(time.thread_time)


def _start(*_: Any) -> None:
    _profile.enable()


def _stop(*_: Any) -> None:
    _profile.disable()
    _profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    sys.exit(main(sys.argv[1:]))
