"""The service's metrics in Prometheus' text format (GET /metrics; docs/operations.md,
"Metrics"), below the HTTP layer: api/ updates and serves them, the job system reports its
jobs through jobs.events.JobEvents, which service.ServiceMetrics implements.

- service.py: ServiceMetrics, the registry and every counter and histogram the service
  process updates (requests, analyses, uploads, previews refused, rate-limited answers);
- scrape.py: what is read at scrape time (queue depth, from Redis in shared mode; free space;
  the limits the alert rules compare with);
- build.py: the version and the dependency lock's hash of the build-info metric.

Only the service process keeps metrics (one process per node: api/server.py runs uvicorn
without `workers`); analysis and preview children never touch them, the service counts what
it sees them do. No label ever holds user data: routes are templates, reasons are classes.
"""
