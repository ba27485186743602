"""``/user-import/{job_id}``: the pre-signed URL a user import job returns, where its CSV is PUT.

Cognito hands out an S3 pre-signed URL (developer guide: ``curl -T file.csv -H
"x-amz-server-side-encryption:aws:kms" PRE_SIGNED_URL``); Cognate serves the URL
itself, and answers as S3 would: 200 with an ``ETag`` for a stored file, an XML
``<Error>`` otherwise. The URL's secret is checked (core/import_jobs.py) before a
byte of the body is read; the body is bounded (413 past the limit, read as it
streams in, never trusted from Content-Length alone). Any method but PUT is 405.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cognate.core.import_jobs import UPLOAD_PATH
from cognate.core.service import Core
from cognate.errors import PreSignedUrlRefused

log = logging.getLogger("cognate.awsjson")

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def _error(exc: PreSignedUrlRefused, request_id: str, extra: dict[str, str] | None = None) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(exc.code)}</Code><Message>{escape(exc.message)}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    )
    headers = {"x-amz-request-id": request_id, **(extra or {})}
    return Response(body, status_code=exc.http_status, media_type="application/xml", headers=headers)


class ImportUpload:
    def __init__(self, get_core: Callable[[], Core]) -> None:
        self.get_core = get_core

    def routes(self) -> list[Route]:
        return [Route(UPLOAD_PATH + "{job_id}", self.endpoint, methods=METHODS)]

    async def endpoint(self, request: Request) -> Response:
        request_id = uuid.uuid4().hex.upper()[:16]
        try:
            return await self._put(request, request_id)
        except PreSignedUrlRefused as exc:
            # Never the URL or its secret in the log: the job id and the reason only.
            log.info("upload to %s refused: %s", request.path_params["job_id"][:64], exc.message)
            allow = {"Allow": "PUT"} if exc.http_status == 405 else None
            return _error(exc, request_id, allow)

    async def _put(self, request: Request, request_id: str) -> Response:
        if request.method != "PUT":
            raise PreSignedUrlRefused(
                "The specified method is not allowed against this resource.",
                code="MethodNotAllowed",
                status=405,
            )
        core = self.get_core()
        jobs = core.import_jobs
        job = await jobs.upload_target(
            request.path_params["job_id"], request.query_params.get("X-Amz-Signature", "")
        )
        too_large = PreSignedUrlRefused(
            "Your proposed upload exceeds the maximum allowed size", code="EntityTooLarge", status=413
        )
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > jobs.max_csv_bytes):
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > jobs.max_csv_bytes:
                raise too_large
            chunks.append(chunk)
        body = b"".join(chunks)
        await jobs.upload(job, body)
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
        return Response(status_code=200, headers={"ETag": etag, "x-amz-request-id": request_id})
