"""The ``context`` object a handler receives, shaped as AWS Lambda's Python runtime makes it.

AWS Lambda developer guide, "Using the Lambda context object to retrieve Python function
information": ``function_name``, ``function_version``, ``invoked_function_arn``,
``memory_limit_in_mb``, ``aws_request_id``, ``log_group_name``, ``log_stream_name``,
``identity``, ``client_context`` and ``get_remaining_time_in_millis()``.
Imported by the worker process only: it depends on nothing of Cognate.
"""

from __future__ import annotations

import time


class LambdaContext:
    """What ``handler(event, context)`` gets as ``context``."""

    def __init__(self, function_name: str, function_arn: str, request_id: str, deadline: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = "128"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"cognate/[$LATEST]{request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline  # time.monotonic() value

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"
