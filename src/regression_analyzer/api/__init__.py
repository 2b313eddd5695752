"""The web service, HTTP only: uploads, analyses, results, charts and a web page.

Run it with ``uvicorn regression_analyzer.api.main:app`` or ``regression-analyzer serve``.

- main.py: the app factory (create_app) and its lifespan; errors.py: typed errors -> HTTP
  statuses; middleware/: body limit, security headers, request metrics, the access log;
- deps.py, schemas.py, ratelimit.py: dependencies, the answers' models, per-client limits;
- uploads.py, previews.py: uploads streamed to disk and their previews in a child process;
- storage_dirs.py, server.py: the start-up check of the folders, uvicorn;
- routes/: one router per concern; static/: the web page.

Analyses are the job system's (regression_analyzer.jobs): this package uses it, never the
other way round.
"""
