"""Start-up leaves the service model and the page templates for later: the server reads
them in a thread once it answers, before any request asks for them."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from cognate.awsjson import validation
from tests.support.inprocess import inprocess_api


def test_the_model_is_read_once_the_server_has_started_without_a_request(tmp_path: Path) -> None:
    validation.service_model.cache_clear()

    async def main() -> None:
        async with inprocess_api(tmp_path):
            deadline = time.monotonic() + 30
            while validation.service_model.cache_info().currsize == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert validation.service_model.cache_info().currsize == 1  # no request asked for it
            assert "jinja2" in sys.modules

    asyncio.run(main())
