"""The job system: analyses queued, run in their own processes and recorded, below HTTP.

What it owns:
- model.py: a job's state (JobState, its statuses) and the errors every queue raises;
- constants.py: the names the job system shares with the outside world: Redis keys and the
  analysis child's exit codes;
- store.py: JobStore, where a job's state and files are kept (local mode: files), and the
  claim lock that lets a job run at most once at a time;
- queue.py: JobQueue, what the service needs of a queue, local or shared;
- wiring.py: opens the store the settings describe (files, or Redis);
- service.py: opens the queue the settings describe, for the service process;
- local.py: the local mode's queue (one node, in-process);
- processes.py: one capped process per running job, watched and killed at JOB_TIMEOUT_S;
- child.py: what runs inside that process (the analysis child);
- isolation.py: the rules every child process that reads a user's table lives by;
- retention.py: the periodic removal of old jobs and uploads;
- shared/: the shared mode (QUEUE_URL): the Redis engine, the store in it, the arq queue.

Nothing here imports FastAPI or starlette: the HTTP layer (regression_analyzer.api) uses this
package, never the other way round. Local mode never imports redis or arq; the analysis child
in shared mode imports redis-py (its store), never arq.
"""
