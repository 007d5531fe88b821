#!/usr/bin/python3
"""The fleet benchmark (docs/fleet.md): 64 pipelines in 4 processes, each
process 16 jobs at once (tests/fleet/fleet-driver --jobs 16), all four
asking for the same 16 requests, against the fake WaveSpeed whose jobs take
a fixed time; once with local stores only (each process its own
cache-dir), once sharing a throwaway PostgreSQL cluster.

    python3 tests/bench/fleet-bench.py --build build [--job-seconds 5]

Reports wall time, submits, the fleet store's statements and their time
per job, and the most connections the database saw at once. Standard
library only; needs PostgreSQL's server (bash .ci/install-deps).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
KEY = "wr2v-fleet-bench-KEY"
PG_BIN = "/usr/lib/postgresql/15/bin"


def as_server(args):
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run(prefix + args, check=True, stdout=subprocess.DEVNULL)


def start_cluster(root):
    d = os.path.join(root, "pg")
    os.mkdir(d)
    os.chmod(d, 0o777)
    as_server([PG_BIN + "/initdb", "-D", d + "/data", "-A", "trust", "-U",
               "postgres", "--no-sync"])
    as_server([PG_BIN + "/pg_ctl", "-D", d + "/data", "-l", d + "/log", "-w",
               "-o", "-k %s -c listen_addresses='' -c fsync=off "
               "-c max_connections=200" % d, "start"])
    return d


def psql(pgdir, sql):
    out = subprocess.run(["psql", "-h", pgdir, "-U", "postgres", "-At", "-c",
                          sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def fake_server(root, job_seconds):
    clip = os.path.join(root, "clip.mp4")
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=30",
                    "!", "x264enc", "!", "mp4mux", "!", "filesink",
                    "location=" + clip], check=True)
    port_file = os.path.join(root, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(
        SRCDIR, "tests", "fake-wavespeed.py"), "--api-key", KEY,
        "--result-mp4", clip, "--job-seconds", str(job_seconds),
        "--port-file", port_file, "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    while not os.path.exists(port_file) or not open(port_file).read():
        time.sleep(0.05)
    return proc, "http://127.0.0.1:%s" % open(port_file).read().strip()


def control(base, body):
    req = urllib.request.Request(base + "/_control", data=json.dumps(
        body).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def submits(base):
    stats = json.load(urllib.request.urlopen(base + "/_stats"))
    return stats["counts"].get("submit", 0)


def run_mode(args, root, base, pgdir, mode):
    env = dict(os.environ)
    env.pop("WANR2V_STORE", None)
    if mode == "fleet":
        db = "bench%d" % int(time.time())
        psql(pgdir, "CREATE DATABASE " + db)
        env["WANR2V_STORE"] = "host=%s user=postgres dbname=%s" % (pgdir, db)
    control(base, {"reset": True})
    most = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            n = int(psql(pgdir, "SELECT count(*) FROM pg_stat_activity "
                         "WHERE application_name = 'wanr2v'"))
            most[0] = max(most[0], n)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    driver = os.path.join(args.build, "tests", "fleet", "fleet-driver")
    t0 = time.monotonic()
    procs = [subprocess.Popen(
        [driver, "--api-url=" + base, "--api-key=" + KEY,
         "--cache-dir=" + os.path.join(root, "%s-%d" % (mode, i)),
         "--prompt=Video 1 bench", "--jobs=%d" % args.jobs],
        env=env, stdout=subprocess.PIPE, text=True)
        for i in range(args.processes)]
    outs = [p.communicate()[0] for p in procs]
    wall = time.monotonic() - t0
    stop.set()
    sampler.join()
    clips = sum(o.count("CLIP ") for o in outs)
    statements = us = 0
    for o in outs:
        for line in o.splitlines():
            if line.startswith("STATS "):
                statements += int(line.split()[1])
                us += int(line.split()[2])
    n = args.processes * args.jobs
    return {"mode": mode, "wall_s": round(wall, 2), "clips": clips,
            "submits": submits(base),
            "statements_per_job": round(statements / n, 1),
            "db_ms_per_job": round(us / n / 1000, 2),
            "most_connections": most[0] if mode == "fleet" else 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--job-seconds", type=float, default=5)
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=16)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="wanr2v-fleet-bench-")
    os.chmod(root, 0o755)
    pgdir = start_cluster(root)
    server = None
    try:
        server, base = fake_server(root, args.job_seconds)
        rows = [run_mode(args, root, base, pgdir, m)
                for m in ("local", "fleet")]
    finally:
        if server:
            server.kill()
        as_server([PG_BIN + "/pg_ctl", "-D", pgdir + "/data", "-m", "fast",
                   "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)
    print("%d pipelines in %d processes, the same %d requests in each, "
          "jobs of %.0f s" % (args.processes * args.jobs, args.processes,
                              args.jobs, args.job_seconds))
    print("| store | wall s | clips | submits | statements/job | "
          "db ms/job | most connections |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %(mode)s | %(wall_s)s | %(clips)s | %(submits)s | "
              "%(statements_per_job)s | %(db_ms_per_job)s | "
              "%(most_connections)s |" % r)
    print("fleet / local wall time: %.2f" % (rows[1]["wall_s"] /
                                             rows[0]["wall_s"]))


if __name__ == "__main__":
    main()
