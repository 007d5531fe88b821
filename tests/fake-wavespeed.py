#!/usr/bin/env python3
"""A fake WaveSpeed API for the tests (standard library only).

Implements the routes the wavespeed engine uses, as described in the
shared docs/providers.md: media upload (multipart, field "file"), submit
(POST /api/v3/<model>), poll (GET /api/v3/predictions/<id>/result) and a
CDN route that serves the result MP4 given with --result-mp4. It listens
on 127.0.0.1 on a random port and prints "PORT <n>" (and writes it to
--port-file if given). API routes check "Authorization: Bearer <--api-key>"
and answer 401 otherwise. Jobs complete after --polls polls (or after
--job-seconds). With --exit-with-stdin it exits when its stdin closes, so
a test that crashes does not leave it running.

Faults are switched on with POST /_control (or --fault NAME[:TIMES]):
  {"fault": "poll-503", "times": 2}   503 on the next two polls
  {"fault": "job-fail", "code": 1200} the next jobs fail with that code
  {"clear_fault": "job-fail"}         that fault off
  {"reset": true}                     no faults, counters zeroed
  {"create_job": "pred_x"}            a job that exists without a submit
  {"polls": 3}                        polls before a job completes
  {"delay_ms": 300}                   every API answer comes late

Fault names ("times" counts how often one fires; default: always):
  401                   any API route answers 401
  poll-429              429 with Retry-After ("retry_after", default 1)
  poll-500, poll-502, poll-503, poll-504
  poll-malformed        200 with broken JSON
  poll-404              unknown prediction
  poll-envelope-401     HTTP 200 whose envelope says {"code": 401}
  poll-slow             the poll answers after "seconds" (default 30)
  submit-hang           the body is read, the answer never comes
  submit-drop           the body is read, then the connection is closed
                        without any answer (no status line; the job exists)
  submit-500, submit-503, submit-malformed (200 with broken JSON; the job
                        exists), submit-envelope-500 (HTTP 200 whose
                        envelope says {"code": 500}), submit-202 (the
                        job is created, answered 202 instead of 200)
  upload-slow           the upload answers after "seconds"
  upload-503
  download-reset        half the clip, then a TCP reset
  download-truncated    half the clip, with a matching Content-Length
  download-stall        half the clip, then silence for "seconds"
  download-chunked      the clip without Content-Length
  download-redirect     the output URL redirects ("to", default the CDN)
  download-redirect-http  the output URL is plain http to another host
  job-fail              the job ends with "code" and "status" (failed)
  never-finish          the job stays "processing"

GET /_stats answers what was received: counts per route, the submit bodies,
the uploads, the jobs, and every request's headers with Authorization
replaced by "auth_ok" (whether it carried the right key) and
"has_authorization", and its client port ("peer_port": requests on one
kept-alive connection share it).
"""

import argparse
import json
import os
import re
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_LOCK = threading.Lock()


class State:
    def __init__(self, args):
        self.api_key = args.api_key
        self.result_mp4 = args.result_mp4
        self.default_polls = args.polls
        self.job_seconds = args.job_seconds
        self.reset()
        for spec in args.fault or []:
            name, _, times = spec.partition(":")
            self.add_fault({"fault": name, "times": int(times) if times else -1})

    def reset(self):
        self.faults = {}  # name -> {"times": n (-1 = always), ...params}
        self.delay_ms = 0
        self.polls = self.default_polls
        self.counts = {}
        self.submits = []
        self.uploads = []
        self.requests = []
        self.jobs = {}
        self.media = {}

    def add_fault(self, spec):
        name = spec["fault"]
        params = dict(spec)
        params["times"] = spec.get("times", -1)
        self.faults[name] = params

    def take_fault(self, name):
        """The fault's parameters if it fires now (counting it), else None."""
        f = self.faults.get(name)
        if f is None:
            return None
        if f["times"] == 0:
            return None
        if f["times"] > 0:
            f["times"] -= 1
        return f

    def count(self, route):
        self.counts[route] = self.counts.get(route, 0) + 1


STATE = None


def envelope(data, code=200, message="success"):
    return {"code": code, "message": message, "data": data}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeWaveSpeed/1.0"

    def log_message(self, fmt, *args):  # quiet: the test's output stays readable
        if os.environ.get("FAKE_WAVESPEED_VERBOSE"):
            sys.stderr.write("fake-wavespeed: " + (fmt % args) + "\n")

    # --- helpers ---

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def auth_ok(self):
        return self.headers.get("Authorization") == "Bearer " + STATE.api_key

    def record(self, route):
        headers = {}
        for k, v in self.headers.items():
            if k.lower() == "authorization":
                continue
            headers[k] = v
        headers["auth_ok"] = self.auth_ok()
        headers["has_authorization"] = "Authorization" in self.headers
        with STATE_LOCK:
            STATE.count(route)
            STATE.requests.append(
                {"method": self.command, "path": self.path, "route": route,
                 "headers": headers, "peer_port": self.client_address[1]})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj, extra_headers=None):
        body = json.dumps(obj).encode()
        self.send_raw(status, body, "application/json", extra_headers)

    def send_raw(self, status, body, ctype, extra_headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def api_delay(self):
        with STATE_LOCK:
            d = STATE.delay_ms
        if d:
            time.sleep(d / 1000.0)

    def check_auth(self):
        with STATE_LOCK:
            forced = STATE.take_fault("401") is not None
        if forced or not self.auth_ok():
            self.send_json(401, {"code": 401,
                                 "message": "Unauthorized: invalid API key"})
            return False
        return True

    def reset_connection(self):
        # SO_LINGER 0: close() sends a RST instead of a FIN
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def drop_connection(self):
        # a FIN instead of an answer: what a proxy or a server that died
        # after reading the request sends
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- routes ---

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_stats":
            with STATE_LOCK:
                stats = {
                    "counts": dict(STATE.counts),
                    "submits": list(STATE.submits),
                    "last_submit": STATE.submits[-1] if STATE.submits else None,
                    "uploads": list(STATE.uploads),
                    "requests": list(STATE.requests),
                    "jobs": {k: {"polls": v["polls"]} for k, v in STATE.jobs.items()},
                }
            self.send_json(200, stats)
            return
        m = re.fullmatch(r"/api/v3/predictions/([^/]+)/result", path)
        if m:
            self.record("poll")
            self.poll(m.group(1))
            return
        m = re.fullmatch(r"/cdn/([A-Za-z0-9_.-]+)\.mp4", path)
        if m:
            self.record("download")
            self.download(m.group(1))
            return
        m = re.fullmatch(r"/redirect/([A-Za-z0-9_.-]+)\.mp4", path)
        if m:
            self.record("redirect")
            with STATE_LOCK:
                f = STATE.faults.get("download-redirect") or {}
            self.send_response(302)
            self.send_header("Location", f.get("to") or "/cdn/%s.mp4" % m.group(1))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        m = re.fullmatch(r"/media/([A-Za-z0-9_.-]+)", path)
        if m:
            self.record("media")
            with STATE_LOCK:
                data = STATE.media.get(m.group(1))
            if data is None:
                self.send_json(404, {"code": 404, "message": "not found"})
            else:
                self.send_raw(200, data, "application/octet-stream")
            return
        self.record("other")
        self.send_json(404, {"code": 404, "message": "no such route"})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path == "/_control":
            self.control()
            return
        if path == "/api/v3/media/upload/binary":
            self.record("upload")
            self.upload()
            return
        if path.startswith("/api/v3/"):
            self.record("submit")
            self.submit(path[len("/api/v3/"):])
            return
        self.record("other")
        self.read_body()
        self.send_json(404, {"code": 404, "message": "no such route"})

    def control(self):
        try:
            spec = json.loads(self.read_body() or b"{}")
        except ValueError:
            self.send_json(400, {"error": "bad json"})
            return
        with STATE_LOCK:
            if spec.get("reset"):
                STATE.reset()
            if "fault" in spec:
                STATE.add_fault(spec)
            if "clear_fault" in spec:
                STATE.faults.pop(spec["clear_fault"], None)
            if "delay_ms" in spec:
                STATE.delay_ms = int(spec["delay_ms"])
            if "polls" in spec:
                STATE.polls = int(spec["polls"])
            if "create_job" in spec:
                STATE.jobs[spec["create_job"]] = self.new_job()
        self.send_json(200, {"ok": True})

    def new_job(self):
        job = {"polls": 0, "created": time.monotonic(), "target": STATE.polls,
               "fail_code": None, "never": False, "status": "created"}
        f = STATE.take_fault("job-fail")
        if f is not None:
            job["fail_code"] = int(f.get("code", 1403))
            job["fail_status"] = f.get("status", "failed")
        if STATE.take_fault("never-finish") is not None:
            job["never"] = True
        return job

    def upload(self):
        body = self.read_body()
        if not self.check_auth():
            return
        with STATE_LOCK:
            slow = STATE.take_fault("upload-slow")
            u503 = STATE.take_fault("upload-503")
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        if u503 is not None:
            self.send_json(503, {"code": 503, "message": "busy"})
            return
        self.api_delay()
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/form-data") or not m:
            self.send_json(400, {"code": 400, "message": "expected multipart/form-data"})
            return
        parts = parse_multipart(body, m.group(1).encode())
        filepart = next((p for p in parts if p["name"] == "file"), None)
        if filepart is None or filepart.get("filename") is None:
            self.send_json(400, {"code": 400, "message": "missing file field"})
            return
        name = uuid.uuid4().hex[:12] + "-" + re.sub(r"[^A-Za-z0-9_.-]", "_",
                                                    filepart["filename"])
        kind = "image" if filepart["content_type"].startswith("image/") else "video"
        with STATE_LOCK:
            STATE.media[name] = filepart["data"]
            STATE.uploads.append({"filename": filepart["filename"],
                                  "content_type": filepart["content_type"],
                                  "size": len(filepart["data"]),
                                  "fields": [p["name"] for p in parts],
                                  "url": self.base() + "/media/" + name})
        self.send_json(200, envelope({"type": kind,
                                      "download_url": self.base() + "/media/" + name,
                                      "filename": filepart["filename"],
                                      "size": len(filepart["data"])}))

    def submit(self, model):
        body = self.read_body()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with STATE_LOCK:
            STATE.submits.append({"model": model, "body": parsed,
                                  "auth_ok": self.auth_ok()})
        if not self.check_auth():
            return
        with STATE_LOCK:
            hang = STATE.take_fault("submit-hang")
            drop = STATE.take_fault("submit-drop")
            s500 = STATE.take_fault("submit-500")
            s503 = STATE.take_fault("submit-503")
            senv = STATE.take_fault("submit-envelope-500")
            s202 = STATE.take_fault("submit-202")
            smal = STATE.take_fault("submit-malformed")
        if hang is not None:
            # the body was read (the job "exists"), the answer never comes
            time.sleep(float(hang.get("seconds", 3600)))
            return
        if drop is not None:
            # the body was read (the job "exists"), no answer comes
            with STATE_LOCK:
                STATE.jobs["pred_" + uuid.uuid4().hex[:16]] = self.new_job()
            self.drop_connection()
            return
        self.api_delay()
        if parsed is None or not isinstance(parsed, dict):
            self.send_json(400, {"code": 400, "message": "body is not JSON"})
            return
        if "prompt" not in parsed or "videos" not in parsed:
            self.send_json(400, {"code": 400, "message": "prompt and videos are required"})
            return
        if s500 is not None:
            self.send_json(500, {"code": 500, "message": "internal error"})
            return
        if s503 is not None:
            self.send_json(503, {"code": 503, "message": "unavailable"})
            return
        if senv is not None:
            self.send_json(200, {"code": 500, "message": "internal error",
                                 "data": None})
            return
        if s202 is not None:
            with STATE_LOCK:
                STATE.jobs["pred_" + uuid.uuid4().hex[:16]] = self.new_job()
            self.send_json(202, {"code": 202, "message": "accepted",
                                 "data": None})
            return
        job_id = "pred_" + uuid.uuid4().hex[:16]
        with STATE_LOCK:
            STATE.jobs[job_id] = self.new_job()
        if smal is not None:
            self.send_raw(200, b'{"code":200,"data":{"id":', "application/json")
            return
        self.send_json(200, envelope({
            "id": job_id, "model": model, "status": "created",
            "urls": {"get": self.base() + "/api/v3/predictions/%s/result" % job_id},
            "created_at": "2024-01-01T12:00:00.000Z"}))

    def poll(self, job_id):
        if not self.check_auth():
            return
        with STATE_LOCK:
            fired = None
            for name in ("poll-429", "poll-500", "poll-502", "poll-503",
                         "poll-504", "poll-malformed", "poll-404", "poll-slow",
                         "poll-envelope-401"):
                f = STATE.take_fault(name)
                if f is not None:
                    fired = (name, f)
                    break
            job = STATE.jobs.get(job_id)
        if fired:
            name, f = fired
            if name == "poll-429":
                self.send_json(429, {"code": 429, "message": "too many requests"},
                               {"Retry-After": str(f.get("retry_after", 1))})
                return
            if name == "poll-malformed":
                self.send_raw(200, b'{"code":200,"data":{"status":', "application/json")
                return
            if name == "poll-envelope-401":
                # HTTP 200, but the envelope carries the error
                self.send_json(200, {"code": 401, "message": "invalid key"})
                return
            if name == "poll-404":
                self.send_json(404, {"code": 404, "message": "prediction not found"})
                return
            if name == "poll-slow":
                time.sleep(float(f.get("seconds", 30)))
            else:
                status = int(name.split("-")[1])
                self.send_json(status, {"code": status, "message": "upstream trouble"})
                return
        self.api_delay()
        if job is None:
            self.send_json(404, {"code": 404, "message": "prediction not found"})
            return
        with STATE_LOCK:
            job["polls"] += 1
            n = job["polls"]
            done = (n > job["target"] if STATE.job_seconds is None else
                    time.monotonic() - job["created"] >= STATE.job_seconds)
        data = {"id": job_id, "outputs": [], "model": "alibaba/wan-2.7/reference-to-video"}
        if job["never"] or not done:
            data["status"] = "created" if n == 1 else "processing"
        elif job["fail_code"] is not None:
            data["status"] = job.get("fail_status", "failed")
            data["code"] = job["fail_code"]
            data["error"] = "simulated failure %d" % job["fail_code"]
        else:
            data["status"] = "completed"
            with STATE_LOCK:
                redirect = STATE.faults.get("download-redirect") is not None
                redirect_http = STATE.faults.get("download-redirect-http") is not None
            if redirect_http:
                url = "http://example.invalid/cdn/%s.mp4" % job_id
            elif redirect:
                url = self.base() + "/redirect/%s.mp4" % job_id
            else:
                url = self.base() + "/cdn/%s.mp4" % job_id
            data["outputs"] = [url]
            data["timings"] = {"inference": 2500}
        self.send_json(200, envelope(data))

    def download(self, job_id):
        with open(STATE.result_mp4, "rb") as f:
            data = f.read()
        with STATE_LOCK:
            reset = STATE.take_fault("download-reset")
            trunc = STATE.take_fault("download-truncated")
            stall = STATE.take_fault("download-stall")
            chunked = STATE.take_fault("download-chunked")
        if trunc is not None:
            data = data[: len(data) // 2]
        if chunked is not None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 4096):
                chunk = data[i:i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        half = len(data) // 2
        if reset is not None:
            self.wfile.write(data[:half])
            self.reset_connection()
            return
        if stall is not None:
            self.wfile.write(data[:half])
            self.wfile.flush()
            time.sleep(float(stall.get("seconds", 30)))
            self.close_connection = True
            return
        self.wfile.write(data)


def parse_multipart(body, boundary):
    """Parts of a multipart/form-data body: name, filename, type, bytes."""
    parts = []
    delim = b"--" + boundary
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disp)
        filename = re.search(r'\bfilename="([^"]*)"', disp)
        parts.append({"name": name.group(1) if name else None,
                      "filename": filename.group(1) if filename else None,
                      "content_type": headers.get("content-type", ""),
                      "data": data})
    return parts


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--result-mp4", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--polls", type=int, default=2,
                    help="polls answered 'processing' before 'completed'")
    ap.add_argument("--job-seconds", type=float, default=None,
                    help="complete jobs after this time instead of --polls")
    ap.add_argument("--fault", action="append",
                    help="NAME[:TIMES], as with /_control")
    ap.add_argument("--exit-with-stdin", action="store_true",
                    help="exit when stdin closes (the test died)")
    args = ap.parse_args()
    STATE = State(args)

    if args.exit_with_stdin:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("PORT %d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
