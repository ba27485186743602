"""Lambda triggers' handlers, run for real (issue 10; docs/triggers.md).

``python:package.module:function`` handlers run in warm worker processes (worker.py,
pool.py) as AWS Lambda's Python runtime would run them; ``http(s)://`` handlers get the
event POSTed as JSON (http_handler.py). invoker.py ties them to the functions file and
maps failures to Cognito's errors. The core sees only its ``Invoker`` protocol.
"""
