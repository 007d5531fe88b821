#!/usr/bin/python3
"""Runs every wanr2v benchmark and prints the table of issue 5.

    python3 tests/bench/run.py --build build            # everything, ~15 min
    python3 tests/bench/run.py --build build --quick    # shorter, ~4 min

Each row compares the element with a baseline measured in the same
invocation, as the median of several runs with min and max. Nothing here
asserts anything about time: the table reports, docs/PERFORMANCE.md
explains. The fake WaveSpeed server of the tests (tests/fake-wavespeed.py,
through tests/bench/bench-server.py) runs on loopback. Standard library
only; Debian's /usr/bin/python3 is enough.

--quick shortens the long rows (the 5-minute job becomes 60 s, the 16
pipelines wait on 8 s jobs, fewer runs) and the table says so.
"""

import argparse
import glob
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
KEY = "wr2v-bench-KEY-5e1d"
PROMPT = "Video 1 walks through the park"
MiB = 1024 * 1024


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------

class Proc:
    """One child's wall time, peak RSS and CPU time (os.wait4)."""

    def __init__(self, wall, maxrss_kib, cpu, rc, out):
        self.wall = wall
        self.maxrss = maxrss_kib * 1024
        self.cpu = cpu
        self.rc = rc
        self.out = out


def run_child(args, env, timeout=None, capture=False):
    t0 = time.monotonic()
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE if capture
                         else subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = b""
    if capture:
        out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args[:3]),
                                                   p.returncode,
                                                   err.decode()[-2000:]))
    return Proc(wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime, p.returncode,
                out.decode())


def gst_launch(desc, env):
    """gst-launch-1.0 -q with @desc, a list of words."""
    return run_child(["gst-launch-1.0", "-q"] + desc, env)


def helper(bench, args, env):
    """The C helper: one JSON object per output line."""
    p = run_child([bench] + args, env, capture=True)
    return [json.loads(line) for line in p.out.splitlines()
            if line.startswith("{")]


# --- the fake server ---------------------------------------------------

class Server:
    def __init__(self, result_mp4, env, extra=()):
        args = [sys.executable, os.path.join(HERE, "bench-server.py"),
                "--api-key", KEY, "--result-mp4", result_mp4,
                "--exit-with-stdin"] + list(extra)
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=env)
        line = self.p.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError("the fake server did not start")
        self.url = "http://127.0.0.1:%d" % int(line.split()[1])

    def get(self, route):
        with urllib.request.urlopen(self.url + route, timeout=30) as r:
            return json.load(r)

    def control(self, spec):
        req = urllib.request.Request(self.url + "/_control",
                                     data=json.dumps(spec).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def stop(self):
        self.p.stdin.close()
        self.p.terminate()
        self.p.wait()


# --- numbers -----------------------------------------------------------

def summary(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "n": len(values), "values": values}


def p99(values):
    s = sorted(values)
    return s[max(0, math.ceil(0.99 * len(s)) - 1)]


def fmt_time(s):
    if s >= 10:
        return "%.1f s" % s
    if s >= 1:
        return "%.2f s" % s
    return "%.1f ms" % (s * 1000)


def fmt_summary(sm, fmt):
    return "%s [%s–%s]" % (fmt(sm["median"]), fmt(sm["min"]), fmt(sm["max"]))


def fmt_mib(b):
    return "%.1f MiB" % (b / MiB)


# --- the benchmark -----------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.build = os.path.abspath(args.build)
        self.work = tempfile.mkdtemp(prefix="wanr2v-bench-")
        self.rows = []
        self.notes = []
        self.raw = {}
        env = dict(os.environ)
        env["GST_PLUGIN_PATH"] = os.path.join(self.build, "gst")
        env["GST_REGISTRY"] = os.path.join(self.work, "registry.bin")
        env.pop("GST_DEBUG", None)
        env.pop("WAVESPEED_API_KEY", None)
        env["XDG_CACHE_HOME"] = os.path.join(self.work, "xdg-cache")
        self.env = env
        self.runs = args.runs or (5 if self.quick else 7)
        self.bench = self.find_helper()

    # -- setup --

    def find_helper(self):
        built = os.path.join(self.build, "tests", "bench", "wr2v-bench")
        if os.path.exists(built):
            subprocess.run(["ninja", "-C", self.build, "tests/bench/wr2v-bench"],
                           stdout=subprocess.DEVNULL, check=False)
            return built
        # not wired into the build (yet): build it against the core library
        lib = os.path.join(self.build, "src", "libwr2vcore.a")
        if not os.path.exists(lib):
            raise SystemExit("no %s: build the project first (bash .ci/build)"
                             % lib)
        out = os.path.join(self.work, "wr2v-bench")
        pkgs = ["gstreamer-1.0", "gstreamer-base-1.0", "gstreamer-video-1.0",
                "gstreamer-pbutils-1.0", "gstreamer-controller-1.0",
                "gstreamer-app-1.0", "libcurl", "json-glib-1.0", "gio-2.0"]
        flags = subprocess.run(["pkg-config", "--cflags", "--libs"] + pkgs,
                               check=True, capture_output=True,
                               text=True).stdout.split()
        tests = os.path.dirname(HERE)
        subprocess.run(["cc", "-std=gnu11", "-O2", "-o", out,
                        os.path.join(HERE, "wr2v-bench.c"),
                        os.path.join(tests, "wr2v-test-util.c"),
                        "-I", os.path.join(SRCDIR, "src"), "-I", tests,
                        "-I", self.build, lib] + flags, check=True)
        return out

    def prepare(self):
        log("preparing media in", self.work)
        env = self.env
        w = self.work
        self.ref = os.path.join(w, "ref.mp4")
        gst_launch(["videotestsrc", "num-buffers=60", "pattern=ball", "!",
                    "video/x-raw,width=640,height=360,framerate=30/1", "!",
                    "x264enc", "speed-preset=veryfast", "!", "mp4mux", "!",
                    "filesink", "location=" + self.ref], env)
        # the stored clips: the preview engine's, 1080p 15 s and 5 s, and
        # the default 720p 5 s (what the fake server delivers)
        self.clips = {}
        for name, dur, res in (("1080p15", 15, "1080p"), ("1080p5", 5, "1080p"),
                               ("720p5", 5, "720p")):
            cache = os.path.join(w, "cache-" + name)
            gst_launch(self.element_desc(cache, dur, res), env)
            found = glob.glob(os.path.join(cache, "results", "*.mp4"))
            if len(found) != 1:
                raise RuntimeError("no stored clip in " + cache)
            self.clips[name] = (cache, found[0], dur, res)
        # a 20 MB result: 1080p 15 s at ~10.7 Mbit/s
        self.result20 = os.path.join(w, "result-20MB.mp4")
        gst_launch(["videotestsrc", "pattern=snow", "num-buffers=450", "!",
                    "video/x-raw,width=1920,height=1080,framerate=30/1", "!",
                    "x264enc", "speed-preset=ultrafast", "bitrate=10850", "!",
                    "mp4mux", "!", "filesink", "location=" + self.result20],
                   env)

    def element_desc(self, cache, dur, res, element="wanr2v"):
        return [element, "name=g", "engine=preview", "duration=%d" % dur,
                "resolution=" + res, "cache-dir=" + cache, "prompt=" + PROMPT,
                "!", "fakesink", "filesrc", "location=" + self.ref, "!",
                "g.video_0"]

    def row(self, **kw):
        self.rows.append(kw)
        log("  ->", kw["figure"], kw.get("element_text"), "ratio",
            kw.get("ratio_text"), kw.get("met"))

    # -- rows 1, 2: the stored clip --

    def stored(self):
        log("rows 1-2: stored 1080p clip, wall time and peak RSS")
        wall = {"el15": [], "bl15": [], "el5": [], "bl5": []}
        rss = {"el15": [], "bl15": [], "el5": [], "bl5": []}
        for name, tag in (("1080p15", "15"), ("1080p5", "5")):
            cache, clip, dur, res = self.clips[name]
            before = sorted(os.listdir(os.path.join(cache, "results")))
            el = self.element_desc(cache, dur, res)
            bl = ["filesrc", "location=" + clip, "!", "qtdemux", "!",
                  "h264parse", "!", "avdec_h264", "!", "fakesink"]
            gst_launch(el, self.env)
            gst_launch(bl, self.env)
            for i in range(self.runs):
                order = [("el", el), ("bl", bl)]
                if i % 2:
                    order.reverse()
                for kind, desc in order:
                    p = gst_launch(desc, self.env)
                    wall[kind + tag].append(p.wall)
                    rss[kind + tag].append(p.maxrss)
            after = sorted(os.listdir(os.path.join(cache, "results")))
            if before != after:
                raise RuntimeError("the store missed: the clip was made again")
        self.raw["stored"] = {"wall": wall, "rss": rss}
        e, b = summary(wall["el15"]), summary(wall["bl15"])
        ratio = e["median"] / b["median"]
        self.row(n=1, figure="stored 1080p 15 s clip: wanr2v → fakesink, "
                 "wall time (whole gst-launch process)",
                 element=e, baseline=b, element_text=fmt_summary(e, fmt_time),
                 baseline_text=fmt_summary(b, fmt_time), ratio=ratio,
                 ratio_text="%.3f" % ratio, target="<= 1.10",
                 met=ratio <= 1.10)
        r15, b15 = summary(rss["el15"]), summary(rss["bl15"])
        r5, b5 = summary(rss["el5"]), summary(rss["bl5"])
        extra = r15["median"] - b15["median"]
        growth = r15["median"] - r5["median"]
        bgrowth = b15["median"] - b5["median"]
        self.row(n=2, figure="the same runs, peak RSS (15 s clip; 5 s clip "
                 "for growth)", element=r15, baseline=b15,
                 element_text="%s; 5 s: %s" % (fmt_summary(r15, fmt_mib),
                                               fmt_mib(r5["median"])),
                 baseline_text="%s; 5 s: %s" % (fmt_summary(b15, fmt_mib),
                                                fmt_mib(b5["median"])),
                 ratio=extra, ratio_text="+%s; 5→15 s: %+.1f MiB "
                 "(baseline %+.1f MiB)" % (fmt_mib(extra), growth / MiB,
                                          bgrowth / MiB),
                 target="<= baseline + 64 MiB, no growth with length",
                 met=extra <= 64 * MiB and growth - bgrowth <= 4 * MiB)

    # -- row 3: job completed -> first frame --

    def first_frame(self):
        log("row 3: job completed -> first frame, 20 MB result")
        srv = Server(self.result20, self.env, ["--polls", "2"])
        try:
            url = srv.url + "/cdn/bench.mp4"
            out = os.path.join(self.work, "curl.mp4")
            curl = []
            subprocess.run(["curl", "-s", "-o", out, url], check=True)
            for _ in range(self.runs):
                r = subprocess.run(["curl", "-s", "-o", out, "-w",
                                    "%{time_total}", url], check=True,
                                   capture_output=True, text=True)
                curl.append(float(r.stdout))
            os.unlink(out)
            lines = helper(self.bench, [
                "firstframe", "--url", srv.url, "--key", KEY, "--ref",
                self.ref, "--file", self.result20, "--dir", self.work,
                "--runs", str(self.runs), "--seed", "3000"], self.env)
            jobs = srv.get("/_bench")["jobs"]
        finally:
            srv.stop()
        base = [l["ttff_us"] / 1e6 for l in lines if l["kind"] == "baseline"]
        el = []
        # one after the other: the server's answer reaches the job thread,
        # the download, the check (and, when the clip is served only once
        # stored, the store), the decode up to the first frame
        steps = {k: [] for k in ("poll answer", "download",
                                 "check until served", "first frame",
                                 "stored (from download end)")}
        for l in lines:
            if l["kind"] != "element":
                continue
            done = jobs[l["job"]]["completed"] * 1e6
            el.append((l["t_first_frame"] - done) / 1e6)
            marks = [done, l["t_completed_msg"], l["t_download_last"],
                     l["t_decode"], l["t_first_frame"]]
            for k, a, b in zip(steps, marks, marks[1:]):
                steps[k].append((b - a) / 1e6)
            steps["stored (from download end)"].append(
                (l["t_result"] - l["t_download_last"]) / 1e6)
        self.raw["first_frame"] = {"curl": curl, "baseline_ttff": base,
                                   "element": el, "steps": steps}
        self.notes.append("row 3, where the time goes (medians): " + ", ".join(
            "%s %s" % (k, fmt_time(statistics.median(v)))
            for k, v in steps.items()))
        c, b, e = summary(curl), summary(base), summary(el)
        ratio = e["median"] / (c["median"] + b["median"])
        self.row(n=3, figure="job completed on the server → first frame "
                 "pushed (%.1f MB result)" % (os.path.getsize(self.result20)
                                              / 1e6),
                 element=e, element_text=fmt_summary(e, fmt_time),
                 baseline_text="curl %s + baseline first frame %s" % (
                     fmt_summary(c, fmt_time), fmt_summary(b, fmt_time)),
                 ratio=ratio, ratio_text="%.2f" % ratio, target="<= 1.2",
                 met=ratio <= 1.2)

    # -- rows 4, 5: references --

    def references(self):
        log("rows 4-5: references to upload-ready MP4")
        lines = helper(self.bench, ["refwriter", "--dir", self.work,
                                    "--runs", str(self.runs)], self.env)
        sa = [l["us"] / 1e6 for l in lines if l["kind"] == "standalone"]
        raw = [l["us"] / 1e6 for l in lines if l["kind"] == "writer-raw"]
        mp4 = [l["us"] / 1e6 for l in lines if l["kind"] == "writer-mp4"]
        size = [l["bytes"] for l in lines if l["kind"] == "writer-mp4"][0]
        self.raw["references"] = {"standalone": sa, "writer_raw": raw,
                                  "writer_mp4": mp4, "mp4_bytes": size}
        s, r, m = summary(sa), summary(raw), summary(mp4)
        ratio = r["median"] / s["median"]
        self.row(n=4, figure="raw 1080p 10 s reference → upload-ready MP4 "
                 "(scaled to 1280x720, x264 veryfast)", element=r,
                 baseline=s, element_text=fmt_summary(r, fmt_time),
                 baseline_text=fmt_summary(s, fmt_time), ratio=ratio,
                 ratio_text="%.3f" % ratio, target="<= 1.2",
                 met=ratio <= 1.2)
        ratio = m["median"] / r["median"]
        self.row(n=5, figure="MP4 reference (1080p 10 s, %.1f MB) → "
                 "upload-ready" % (size / 1e6), element=m, baseline=r,
                 element_text=fmt_summary(m, fmt_time),
                 baseline_text="the raw case: " + fmt_summary(r, fmt_time),
                 ratio=ratio, ratio_text="%.4f" % ratio, target="<= 0.05",
                 met=ratio <= 0.05)

    # -- row 6: the preview engine --

    def preview(self):
        log("row 6: preview engine, 720p 5 s")
        out = os.path.join(self.work, "vts.mp4")
        # x264 exactly as the preview engine sets it
        bl = ["videotestsrc", "num-buffers=150", "!",
              "video/x-raw,format=I420,width=1280,height=720,framerate=30/1",
              "!", "x264enc", "speed-preset=veryfast", "pass=qual",
              "quantizer=23", "threads=2", "rc-lookahead=5", "key-int-max=60",
              "!", "mp4mux", "!", "filesink", "location=" + out]
        el_t, bl_t = [], []
        for i in range(self.runs):
            cache = os.path.join(self.work, "preview-%d" % i)
            el = self.element_desc(cache, 5, "720p", "wanr2vgen")
            order = [("el", el), ("bl", bl)]
            if i % 2:
                order.reverse()
            for kind, desc in order:
                p = gst_launch(desc, self.env)
                (el_t if kind == "el" else bl_t).append(p.wall)
            shutil.rmtree(cache, ignore_errors=True)
        os.unlink(out)
        self.raw["preview"] = {"element": el_t, "baseline": bl_t}
        e, b = summary(el_t), summary(bl_t)
        ratio = e["median"] / b["median"]
        self.row(n=6, figure="preview engine, 720p 5 s clip (wanr2vgen, "
                 "empty store) vs videotestsrc ! x264enc ! mp4mux, 150 frames",
                 element=e, baseline=b, element_text=fmt_summary(e, fmt_time),
                 baseline_text=fmt_summary(b, fmt_time), ratio=ratio,
                 ratio_text="%.2f" % ratio, target="<= 2.0", met=ratio <= 2.0)

    # -- row 7: stopping --

    def stopping(self):
        n = 20 if self.quick else 50
        log("row 7: PLAYING -> NULL, %d runs per phase" % n)
        cache, clip, dur, res = self.clips["720p5"]
        srv = Server(clip, self.env, ["--polls", "2"])
        results = {}
        try:
            for phase, fault in (("upload", "upload-slow"),
                                 ("poll", "poll-slow"),
                                 ("download", "download-stall")):
                srv.control({"reset": True})
                srv.control({"fault": fault, "seconds": 30})
                lines = helper(self.bench, [
                    "stop", "--phase", phase, "--runs", str(n), "--url",
                    srv.url, "--key", KEY, "--ref", self.ref, "--dir",
                    self.work, "--seed", str(4000 + 100 * len(results))],
                    self.env)
                results[phase] = lines
        finally:
            srv.stop()
        cache, clip, dur, res = self.clips["1080p15"]
        results["decode"] = helper(self.bench, [
            "stop", "--phase", "decode", "--runs", str(n), "--ref", self.ref,
            "--dir", self.work, "--extra",
            "engine=preview duration=%d resolution=%s cache-dir=\"%s\" "
            "prompt=\"%s\"" % (dur, res, cache, PROMPT)], self.env)
        self.raw["stop"] = results
        for phase in ("upload", "poll", "download", "decode"):
            v = [l["us"] / 1e6 for l in results[phase]]
            held = sum(1 for l in results[phase] if l["held"])
            sm = summary(v)
            worst = p99(v)
            self.row(n=7, figure="PLAYING → NULL during %s (%d runs, %d "
                     "in the phase)" % (phase, len(v), held), element=sm,
                     element_text="p99 %s (median %s, max %s)" % (
                         fmt_time(worst), fmt_time(sm["median"]),
                         fmt_time(sm["max"])),
                     baseline_text="—", ratio=worst,
                     ratio_text="p99 %s" % fmt_time(worst),
                     target="p99 <= 100 ms", met=worst <= 0.100)

    # -- row 8: a long job --

    def long_wait(self):
        secs = 60 if self.quick else 300
        log("row 8: waiting on a %d s job" % secs)
        cache, clip, dur, res = self.clips["720p5"]
        srv = Server(clip, self.env, ["--job-seconds", str(secs)])
        try:
            lines = helper(self.bench, [
                "wait", "--url", srv.url, "--key", KEY, "--ref", self.ref,
                "--dir", self.work, "--seed", "5000", "--poll-ms", "2000"],
                self.env)
            stats = srv.get("/_stats")
            jobs = srv.get("/_bench")["jobs"]
        finally:
            srv.stop()
        l = lines[0]
        done = jobs[l["job"]]["created"] + secs
        cpu = (l["cpu_completed_us"] - l["cpu_submitted_us"]) / 1e6
        gets = stats["counts"].get("poll", 0)
        late = l["t_completed_msg"] / 1e6 - done
        self.raw["wait"] = {"line": l, "gets": gets, "late": late, "cpu": cpu,
                            "job_seconds": secs}
        met = cpu <= 0.5 and gets <= 60 and late <= 10
        self.row(n=8, figure="waiting on a %s job (one run%s)" % (
            "5-minute" if secs == 300 else "%d s" % secs,
            "; --quick: not the 5-minute job" if secs != 300 else ""),
            element_text="CPU %.3f s, %d result GETs, noticed %.2f s after "
            "completion" % (cpu, gets, late), baseline_text="—",
            ratio=cpu, ratio_text="—",
            target="CPU <= 0.5 s, <= 60 GETs, noticed <= 10 s", met=met)

    # -- row 9: 16 at once --

    def many(self):
        secs = 8 if self.quick else 20
        runs = 3 if self.quick else 5
        log("row 9: 16 pipelines vs one, %d s jobs, %d runs" % (secs, runs))
        cache, clip, dur, res = self.clips["720p5"]
        srv = Server(clip, self.env, ["--job-seconds", str(secs)])
        one, sixteen = [], []
        try:
            for i in range(runs):
                for n, dest in ((1, one), (16, sixteen)):
                    lines = helper(self.bench, [
                        "many", "--n", str(n), "--url", srv.url, "--key", KEY,
                        "--ref", self.ref, "--dir", self.work, "--seed",
                        str(6000 + 100 * (2 * i + (n > 1))),
                        "--poll-ms", "2000"], self.env)
                    dest.append(lines[0])
        finally:
            srv.stop()
        self.raw["many"] = {"one": one, "sixteen": sixteen, "job_seconds": secs}
        w1 = summary([l["wall_us"] / 1e6 for l in one])
        w16 = summary([l["wall_us"] / 1e6 for l in sixteen])
        per = [(l["threads_waiting_max"] - l["threads_base"]) / l["n"]
               for l in sixteen]
        per1 = [(l["threads_waiting_max"] - l["threads_base"]) / l["n"]
                for l in one]
        ok = all(l["ok"] == l["n"] for l in one + sixteen)
        ratio = w16["median"] / w1["median"]
        self.row(n=9, figure="16 pipelines at once (fake job %d s%s)" % (
            secs, "; --quick" if self.quick else ""), element=w16,
            baseline=w1,
            element_text="%s; %.2f threads/element waiting (max %.2f); "
            "%s" % (fmt_summary(w16, fmt_time), statistics.median(per),
                    max(per), "all complete" if ok else "NOT all complete"),
            baseline_text="one pipeline %s; %.0f threads/element" % (
                fmt_summary(w1, fmt_time), statistics.median(per1)),
            ratio=ratio, ratio_text="%.2f" % ratio,
            target="all complete, <= 4 threads/element, wall <= 1.5x",
            met=ok and max(per) <= 4 and ratio <= 1.5)

    # -- row 10: a storyboard --

    def storyboard(self):
        secs = 4 if self.quick else 8
        runs = 3 if self.quick else 5
        log("row 12: 4-shot storyboard vs one shot, %d s jobs, %d runs"
            % (secs, runs))
        cache, clip, dur, res = self.clips["720p5"]
        srv = Server(clip, self.env, ["--job-seconds", str(secs)])
        env = dict(self.env)
        env["WAVESPEED_API_KEY"] = KEY
        board = os.path.join(self.work, "board.txt")
        single, four = [], []

        def desc(cache_dir, seed, shots):
            d = ["wanr2v", "name=g", "engine=wavespeed", "api-url=" + srv.url,
                 "duration=5", "poll-interval=250",
                 "cache-dir=" + cache_dir, "seed=%d" % seed]
            if shots:
                with open(board, "w") as f:
                    for k in range(shots):
                        f.write('shot, prompt="Video 1, shot %d", seed=%d\n'
                                % (k + 1, seed + k))
                d.append("storyboard=" + board)
            else:
                d.append("prompt=" + PROMPT)
            return d + ["!", "fakesink", "filesrc", "location=" + self.ref,
                        "!", "g.video_0"]
        try:
            for i in range(runs):
                seed = 7000 + 10 * i
                c = os.path.join(self.work, "cache-board-%d" % i)
                single.append(gst_launch(desc(c, seed, 0), env).wall)
                four.append(gst_launch(desc(c, seed + 1, 4), env).wall)
        finally:
            srv.stop()
        self.raw["storyboard"] = {"single": single, "four": four,
                                  "job_seconds": secs}
        s1, s4 = summary(single), summary(four)
        ratio = s4["median"] / s1["median"]
        self.row(n=12, figure="4-shot storyboard, independent shots (fake "
                 "job %d s%s)" % (secs, "; --quick" if self.quick else ""),
                 element=s4, baseline=s1,
                 element_text=fmt_summary(s4, fmt_time),
                 baseline_text="the longest single shot %s" %
                 fmt_summary(s1, fmt_time), ratio=ratio,
                 ratio_text="%.2f" % ratio, target="<= 1.2", met=ratio <= 1.2)

    # -- the table --

    # -- rows 10, 11: live mode, no dead air --

    def live(self):
        log("rows 10-11: live=true: first frame after PLAYING, the switch")
        frames = 90
        clip = os.path.join(self.work, "live-clip.mp4")
        gst_launch(["videotestsrc", "num-buffers=%d" % frames, "!",
                    "video/x-raw,width=320,height=240,framerate=30/1", "!",
                    "x264enc", "speed-preset=ultrafast", "!", "mp4mux", "!",
                    "filesink", "location=" + clip], self.env)
        job_s = 3 if self.quick else 5
        srv = Server(clip, self.env, ["--job-seconds", str(job_s)])
        try:
            lines = helper(self.bench, [
                "live", "--url", srv.url, "--key", KEY, "--ref", self.ref,
                "--dir", self.work, "--runs", str(self.runs), "--frames",
                str(frames), "--poll-ms", "100", "--seed", "5000"], self.env)
        finally:
            srv.stop()
        base = [l["ttff_us"] / 1e6 for l in lines if l["kind"] == "baseline"]
        runs = [l for l in lines if l["kind"] == "live"]
        el = [l["ttff_us"] / 1e6 for l in runs]
        self.raw["live"] = {"baseline_ttff": base, "runs": runs}
        b, e = summary(base), summary(el)
        ratio = e["median"] / b["median"]
        self.row(n=10, figure="live=true: PLAYING → first frame at a sink "
                 "that syncs (placeholder=slate, %d s job)" % job_s,
                 element=e, baseline=b, element_text=fmt_summary(e, fmt_time),
                 baseline_text="videotestsrc is-live=true: " +
                 fmt_summary(b, fmt_time), ratio=ratio,
                 ratio_text="%.2f (%+.1f ms)" % (
                     ratio, (e["median"] - b["median"]) * 1000),
                 target="<= 1 s (issue 14: frames from the first second)",
                 met=e["max"] <= 1.0)
        vgap = max(l["video_gap_ns"] for l in runs)
        agap = max(l["audio_gap_ns"] for l in runs)
        dropped = sum(l["dropped"] for l in runs)
        repeated = sum(l["repeated"] for l in runs)
        self.row(n=11, figure="live=true: the switch to the clip (%d runs, "
                 "%d-frame clip): largest timestamp gap, video / audio; clip "
                 "frames dropped / repeated" % (len(runs), frames),
                 element_text="gap %d ns / %d ns; %d dropped, %d repeated" % (
                     vgap, agap, dropped, repeated),
                 baseline_text="—", ratio_text="—",
                 target="gap 0, 0 dropped", met=vgap == 0 and agap == 0
                 and dropped == 0 and repeated == 0)

    def table(self):
        lines = []
        lines.append("| # | figure | wanr2v: median [min–max] | baseline: "
                     "median [min–max] | ratio | target | met? |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in self.rows:
            lines.append("| %d | %s | %s | %s | %s | %s | %s |" % (
                r["n"], r["figure"], r.get("element_text", ""),
                r.get("baseline_text", ""), r.get("ratio_text", ""),
                r["target"], "yes" if r["met"] else "**no**"))
        return "\n".join(lines)


ROWS = ["stored", "first_frame", "references", "preview", "stopping",
        "long_wait", "many", "live", "storyboard"]


def machine():
    info = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)"):
                info[k.strip()] = v.strip()
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                info["RAM"] = "%.1f GiB" % (int(line.split()[1]) / MiB)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build directory")
    ap.add_argument("--quick", action="store_true",
                    help="shorter long rows (said so in the table)")
    ap.add_argument("--runs", type=int, default=0,
                    help="runs per figure (default 7, --quick 5; >= 5)")
    ap.add_argument("--only", action="append", choices=ROWS,
                    help="only these rows (repeatable)")
    ap.add_argument("--json", help="also write every measurement here")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    args = ap.parse_args()

    for tool in ("gst-launch-1.0", "curl", "cc"):
        if not shutil.which(tool):
            raise SystemExit("run.py needs %s: bash .ci/install-deps curl "
                             "(curl is the baseline of row 3)" % tool)
    b = Bench(args)
    m = machine()
    load0 = os.getloadavg()
    t0 = time.monotonic()
    log("machine:", m, "load:", load0)
    try:
        b.prepare()
        for name in ROWS:
            if args.only and name not in args.only:
                continue
            getattr(b, name)()
    finally:
        if not args.keep:
            shutil.rmtree(b.work, ignore_errors=True)
    load1 = os.getloadavg()
    elapsed = time.monotonic() - t0
    print()
    print(b.table())
    print()
    for n in b.notes:
        print(n)
    print("machine: %s, %s CPUs, %s RAM; load average %.2f at the start, "
          "%.2f at the end; %d runs per figure%s; %.0f s in all" % (
              m.get("Model name", "?"), m.get("CPU(s)", "?"),
              m.get("RAM", "?"), load0[0], load1[0], b.runs,
              " (--quick)" if b.quick else "", elapsed))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": m, "load": [load0, load1], "rows": [
                {k: v for k, v in r.items()} for r in b.rows],
                "raw": b.raw, "quick": b.quick, "runs": b.runs}, f,
                indent=1, default=str)


if __name__ == "__main__":
    main()
