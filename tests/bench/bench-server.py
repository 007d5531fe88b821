#!/usr/bin/env python3
"""The fake WaveSpeed server of the tests (tests/fake-wavespeed.py), with
the timestamps the benchmarks need.

It runs the tests' server unchanged and adds one route:

  GET /_bench   {"now": t, "jobs": {id: {"created": t, "completed": t,
                 "polls": n}}}

where every t is CLOCK_MONOTONIC in seconds (Python's time.monotonic(),
the clock g_get_monotonic_time() reads too), "created" is when the
submit made the job and "completed" when the server first answered a poll
with "completed" (null until then). With --polls the job completes at the
moment of that answer; with --job-seconds it completes at created +
job-seconds, whether or not anyone polls.

The command line is the tests' server's (--api-key, --result-mp4,
--job-seconds, --polls, --fault, --exit-with-stdin); it prints "PORT <n>".
"""

import importlib.util
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(os.path.dirname(HERE), "fake-wavespeed.py")

spec = importlib.util.spec_from_file_location("fake_wavespeed", FAKE)
fake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake)

COMPLETED = {}  # job id -> monotonic time of the first "completed" answer
COMPLETED_LOCK = threading.Lock()


class BenchHandler(fake.Handler):
    def do_GET(self):
        if self.path.split("?", 1)[0] == "/_bench":
            with fake.STATE_LOCK:
                jobs = {k: {"created": v["created"], "polls": v["polls"]}
                        for k, v in fake.STATE.jobs.items()}
            with COMPLETED_LOCK:
                for k, v in jobs.items():
                    v["completed"] = COMPLETED.get(k)
            self.send_json(200, {"now": time.monotonic(), "jobs": jobs,
                                 "job_seconds": fake.STATE.job_seconds})
            return
        super().do_GET()

    def send_json(self, status, obj, extra_headers=None):
        data = obj.get("data") if isinstance(obj, dict) else None
        if (status == 200 and isinstance(data, dict)
                and data.get("status") == "completed" and "id" in data):
            t = time.monotonic()
            with COMPLETED_LOCK:
                COMPLETED.setdefault(data["id"], t)
        super().send_json(status, obj, extra_headers)


def main():
    # the tests' server's own main(), with this handler
    fake.Handler = BenchHandler
    sys.argv[0] = FAKE
    fake.main()


if __name__ == "__main__":
    main()
