"""Run a function in many threads at once, each on its own database connection.

Django gives every thread its own connection; `run_together` lines the
threads up on a barrier so they hit the database at the same moment, and
closes each thread's connection when it is done (PostgreSQL would otherwise
keep them open and block the test database's teardown).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def run_together(calls):
    """Run each zero-argument callable of `calls` in its own thread, all at once.

    Returns one outcome per call, in order: ("ok", result) or ("error", exception).
    """
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return "ok", call()
        except Exception as exc:
            return "error", exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
