"""The service's ASGI middlewares, each pure ASGI (no body buffering, so uploads stream):

- body_limit.py: BodySizeLimitMiddleware, the cap on request bodies (413);
- security_headers.py: SecurityHeadersMiddleware, CSP and the other headers on every answer;
- metrics.py: RequestMetricsMiddleware, each answer counted by route template and timed;
- request_log.py: RequestLogMiddleware, the access log with a request id.

The app factory (api/main.py) decides their order.
"""
