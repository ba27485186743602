"""Start-up leaves the service model and the page templates for later: the server reads
them in a thread once it answers, before any request asks for them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cognate.awsjson import validation
from cognate.hosted_ui.pages import _templates
from tests.support.inprocess import inprocess_api


def test_the_model_is_read_once_the_server_has_started_without_a_request(tmp_path: Path) -> None:
    validation.service_model.cache_clear()
    _templates.cache_clear()

    async def main() -> None:
        async with inprocess_api(tmp_path):
            for _ in range(1500):  # up to 30 s
                if validation.service_model.cache_info().currsize:
                    break
                await asyncio.sleep(0.02)
            assert validation.service_model.cache_info().currsize == 1  # no request asked for it
            for _ in range(1500):
                if _templates.cache_info().currsize:
                    break
                await asyncio.sleep(0.02)
            assert _templates.cache_info().currsize == 1  # the page templates, also unasked

    asyncio.run(main())
