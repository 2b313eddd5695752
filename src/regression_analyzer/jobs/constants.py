"""The names the job system shares with processes and services outside this one: Redis keys
and the analysis child's exit codes. Changing one breaks a running cluster or an upgrade, so
they live here, in one place. (arq keeps its own keys, e.g. its in-progress prefix.)

Every Redis key is ``<QUEUE_PREFIX>:<name>[:<part>...]`` (QueueEngine.key joins them).
"""

from __future__ import annotations

# ---------------------------------------------------------------------- Redis keys
JOB_KEY = "job"  # <prefix>:job:<job_id>: a job's state, as JSON
JOB_INDEX_KEY = "jobs"  # <prefix>:jobs: a sorted set of job ids by creation time
WAITING_KEY = "waiting"  # <prefix>:waiting: the set of queued jobs (QUEUE_MAX counts them)
# <prefix>:running: jobs some node runs, scored by the end of that node's lease (engine clock,
# ms), so a killed node's jobs stop counting when its lease runs out (the metrics read it)
RUNNING_KEY = "running"
QUEUE_KEY = "queue"  # <prefix>:queue: arq's queue name
HEALTH_KEY = "health"  # <prefix>:health:<node>: arq's health check of a node's worker
RETENTION_KEY = "retention"  # <prefix>:retention: whose turn retention is, per period
RATE_KEY = "rate"  # <prefix>:rate:<limit>:<client>: a sliding-window rate limit
ARQ_FUNCTION = "analyze"  # the name of arq's job function, stored with each queued job

# ---------------------------------------------------------------------- exit codes
CLAIMED_ELSEWHERE = 75  # an analysis child's exit code: another live process runs this job
