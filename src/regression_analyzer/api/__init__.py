"""The web service: uploads, analyses in worker processes, results, charts and a web page.

Run it with ``uvicorn regression_analyzer.api.main:app`` or ``regression-analyzer serve``.
"""
