"""gunicorn's settings for Plumb (docs/operations.md).

`make serve` runs `gunicorn --config gunicorn.conf.py 'webapp:create_app()'`, and gunicorn
reads this file by itself when started in this folder; options on the command line win.
WORKERS and BIND come from the environment."""
import os
import shutil
import tempfile
from pathlib import Path

# Metrics: each worker writes its counts to files in this folder and /metrics adds them all
# up. Set here, before anything imports prometheus_client (even with --preload); a new
# private folder at every start, so that a previous run's counts are not added in (an
# operator's own folder is emptied instead).
METRICS_PREFIX = "plumb-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_PREFIX)

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WORKERS", "2"))
# Threads, so that a request waiting (for the database's write lock, for a slow disk) holds
# one thread and not its whole worker: /healthz and readers still get answers meanwhile.
threads = int(os.environ.get("THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"  # THREADS=1: one request per worker at a time
# The app logs one line per request itself (webapp/operations/logs.py): no second one.
accesslog = None
errorlog = "-"


def on_starting(server):
    """Refuse to start when the workers would not share their rate limits, or would name
    static files that were never built."""
    from webapp import config
    from webapp.operations import ratelimits
    from webapp.site import static_files

    settings = config.from_environment()
    problem = ratelimits.problem(settings, server.cfg.workers) or static_files.problem(settings)
    if problem:
        on_exit(server)  # gunicorn does not call it when start-up fails
        raise RuntimeError(f"Plumb will not start: {problem}")  # gunicorn prints it and exits 1
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
    if folder.name.startswith(METRICS_PREFIX):  # ours, made above: gone with the server
        shutil.rmtree(folder, ignore_errors=True)
