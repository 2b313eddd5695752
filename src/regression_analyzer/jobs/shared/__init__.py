"""The shared mode (QUEUE_URL): several nodes, one queue and one job state in Redis.

- engine.py: how to reach Redis (redis-py), its errors as one exception (QueueUnavailable);
- store.py: SharedJobStore, job state in Redis (what the analysis child writes through too);
- queue.py: SharedJobQueue, this node's arq worker on the one queue. The only module that
  imports arq, so the analysis child, which needs the store only, never loads it.

Imported only in shared mode: local mode never loads redis or arq.
"""
