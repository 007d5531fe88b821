"""What the tests' fake servers share (standard library only).

A fake (tests/fake-wavespeed.py, fake-dashscope.py, fake-comfyui.py) keeps
only its service's routes and faults; this module has the rest:

  State      faults ("times" counts how often one fires; -1: always),
             counts per route, every request's headers, the answer delay
             and the polls before a job is done, reset by {"reset": true}
  Handler    the HTTP side: JSON and raw answers, the records, the
             POST /_control and GET /_stats routes, a dropped or reset
             connection, multipart bodies, the result clip with its
             download faults, the faults every poll route knows
  arg_parser, serve   the command line every fake takes (--result-mp4,
             --port-file, --polls, --fault NAME[:TIMES], --exit-with-stdin)
             and the server on 127.0.0.1 that prints "PORT <n>"

A fake imports it with its own folder on sys.path (see the fakes' first
lines), so that it works from any working directory and when another
script loads the fake as a module.
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
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# guards the State (one per process) and the records in it
LOCK = threading.Lock()

# the faults a poll route knows, as "<prefix>-<kind>"
POLL_FAULT_KINDS = ("429", "500", "502", "503", "504", "malformed", "slow")

# the routes of a hosted service's result clip (Handler.ROUTES)
CLIP_ROUTES = (
    ("GET", r"/cdn/([A-Za-z0-9_.-]+)\.mp4", "download", "download"),
    ("GET", r"/redirect/([A-Za-z0-9_.-]+)\.mp4", "redirect", "redirect"),
)


class State:
    """What a fake was told and what it saw; used with LOCK held.
    RECORDS names the lists a fake keeps of what it received: emptied by
    a reset, copied into /_stats."""

    RECORDS = ()

    def __init__(self, args):
        self.args = args
        self.api_key = getattr(args, "api_key", None)
        self.result_mp4 = args.result_mp4
        self.default_polls = args.polls
        self.reset()
        for spec in args.fault or []:
            name, _, times = spec.partition(":")
            self.add_fault({"fault": name,
                            "times": int(times) if times else -1})

    def reset(self):
        self.faults = {}  # name -> {"times": n (-1 = always), ...params}
        self.delay_ms = 0
        self.polls = self.default_polls
        self.counts = {}
        self.requests = []
        for name in self.RECORDS:
            setattr(self, name, [])

    def add_fault(self, spec):
        params = dict(spec)
        params["times"] = spec.get("times", -1)
        self.faults[spec["fault"]] = params

    def take_fault(self, name):
        """The fault's parameters if it fires now (counting it), else None."""
        f = self.faults.get(name)
        if f is None or f["times"] == 0:
            return None
        if f["times"] > 0:
            f["times"] -= 1
        return f

    def take_first(self, names):
        """(name, parameters) of the first of @names that fires, or None."""
        for name in names:
            f = self.take_fault(name)
            if f is not None:
                return (name, f)
        return None

    def count(self, route):
        self.counts[route] = self.counts.get(route, 0) + 1

    def control(self, spec, handler):
        """Applies a /_control body; a fake adds its own keys."""
        if spec.get("reset"):
            self.reset()
        if "fault" in spec:
            self.add_fault(spec)
        if "clear_fault" in spec:
            self.faults.pop(spec["clear_fault"], None)
        if "delay_ms" in spec:
            self.delay_ms = int(spec["delay_ms"])
        if "polls" in spec:
            self.polls = int(spec["polls"])

    def stats(self):
        """GET /_stats; a fake adds its own records."""
        stats = {"counts": dict(self.counts), "requests": list(self.requests)}
        for name in self.RECORDS:
            stats[name] = list(getattr(self, name))
        return stats


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


def form_fields(parts):
    """The plain (not file) fields of a multipart body, as text."""
    return {p["name"]: p["data"].decode("utf-8", "replace")
            for p in parts if p["filename"] is None}


class Handler(BaseHTTPRequestHandler):
    """The HTTP side every fake shares. A fake sets LOG_NAME (its
    FAKE_<LOG_NAME>_VERBOSE variable shows its access log) and may
    override error_json() and THROTTLED, the message of a 429."""

    protocol_version = "HTTP/1.1"
    LOG_NAME = "fake"
    THROTTLED = ("Throttling", "too many requests")

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):  # quiet: the test's output stays readable
        if os.environ.get("FAKE_%s_VERBOSE" % self.LOG_NAME.upper()):
            sys.stderr.write("fake-%s: %s\n" % (self.LOG_NAME.lower(),
                                                 fmt % args))

    def error_json(self, status, code, message):
        """The body of an error answer, in the service's shape."""
        return {"code": status, "message": message}

    # --- answers ---

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def read_json(self):
        """The request's body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.read_body())
        except ValueError:
            return None

    def send_json(self, status, obj, extra_headers=None):
        self.send_raw(status, json.dumps(obj).encode(), "application/json",
                      extra_headers)

    def send_raw(self, status, body, ctype, extra_headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, status, code, message, extra_headers=None):
        self.send_json(status, self.error_json(status, code, message),
                       extra_headers)

    def take_faults(self, *names):
        """The parameters of each fault in @names that fires now, or None."""
        with LOCK:
            return [self.state.take_fault(n) for n in names]

    def api_delay(self):
        with LOCK:
            d = self.state.delay_ms
        if d:
            time.sleep(d / 1000.0)

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

    def swallow_submit(self, hang, drop):
        """Whether the submit, read (the job exists), is left unanswered:
        @hang waits "seconds" (default an hour), @drop closes the
        connection without a word."""
        if hang is not None:
            time.sleep(float(hang.get("seconds", 3600)))
            return True
        if drop is not None:
            self.drop_connection()
            return True
        return False

    # --- records ---

    def auth_ok(self):
        key = self.state.api_key
        return key is not None and \
            self.headers.get("Authorization") == "Bearer " + key

    def header_record(self):
        """The request's headers, Authorization replaced by whether it
        carried the right key."""
        headers = {}
        for k, v in self.headers.items():
            if k.lower() != "authorization":
                headers[k] = v
        headers["auth_ok"] = self.auth_ok()
        headers["has_authorization"] = "Authorization" in self.headers
        return headers

    def record(self, route):
        with LOCK:
            self.state.count(route)
            self.state.requests.append(
                {"method": self.command, "path": self.path, "route": route,
                 "headers": self.header_record(),
                 "peer_port": self.client_address[1]})

    # --- routing ---

    # (method, path regular expression, route name for the records, the
    # method that answers, given the expression's groups); first match wins
    ROUTES = ()

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        path = urllib.parse.urlsplit(self.path).path
        if self.serve_test_route(path):
            return
        for method, pattern, route, answer in self.ROUTES:
            m = re.fullmatch(pattern, path)
            if m and method == self.command:
                self.record(route)
                getattr(self, answer)(*m.groups())
                return
        self.no_route()

    def query(self):
        """The request's query: name -> list of values."""
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                     keep_blank_values=True)

    # --- the test's routes ---

    def serve_test_route(self, path):
        """Answers POST /_control and GET /_stats; False for other paths."""
        if path == "/_control" and self.command == "POST":
            try:
                spec = json.loads(self.read_body() or b"{}")
            except ValueError:
                self.send_json(400, {"error": "bad json"})
                return True
            with LOCK:
                self.state.control(spec, self)
            self.send_json(200, {"ok": True})
            return True
        if path == "/_stats" and self.command == "GET":
            with LOCK:
                stats = self.state.stats()
            self.send_json(200, stats)
            return True
        return False

    def no_route(self):
        self.record("other")
        if self.command == "POST":
            self.read_body()
        self.send_error_json(404, "NotFound", "no such route")

    # --- bodies ---

    def multipart(self, body):
        """The parts of a multipart/form-data body, or None."""
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/form-data") or not m:
            return None
        return parse_multipart(body, m.group(1).encode())

    # --- polls ---

    def take_poll_fault(self, prefix, extra=()):
        """The poll fault that fires now ("<prefix>-429", ...), or None."""
        names = ["%s-%s" % (prefix, k) for k in POLL_FAULT_KINDS]
        with LOCK:
            return self.state.take_first(names + list(extra))

    def answer_poll_fault(self, fired, malformed):
        """Answers the poll fault @fired; False when the poll goes on after
        it (a slow poll). @malformed: the broken body of "-malformed"."""
        name, f = fired
        kind = name.rsplit("-", 1)[1]
        if kind == "429":
            self.send_error_json(429, self.THROTTLED[0], self.THROTTLED[1],
                                 {"Retry-After": str(f.get("retry_after", 1))})
        elif kind == "malformed":
            self.send_raw(200, malformed, "application/json")
        elif kind == "slow":
            time.sleep(float(f.get("seconds", 30)))
            return False
        else:
            self.send_error_json(int(kind), "InternalError", "upstream trouble")
        return True

    # --- the result ---

    def result_url(self, job_id, query=""):
        """Where a finished job's clip is, as the download faults want it:
        "download-redirect-http", plain http elsewhere; "download-redirect",
        the /redirect route; else /cdn."""
        with LOCK:
            redirect = "download-redirect" in self.state.faults
            redirect_http = "download-redirect-http" in self.state.faults
        if redirect_http:
            return "http://example.invalid/cdn/%s.mp4" % job_id
        if redirect:
            return self.base() + "/redirect/%s.mp4%s" % (job_id, query)
        return self.base() + "/cdn/%s.mp4%s" % (job_id, query)

    def redirect(self, job_id):
        with LOCK:
            f = self.state.faults.get("download-redirect") or {}
        self.send_response(302)
        self.send_header("Location", f.get("to") or "/cdn/%s.mp4" % job_id)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def download(self, job_id):
        with LOCK:
            faults = {k: self.state.take_fault("download-" + k)
                      for k in ("reset", "truncated", "stall", "chunked")}
        self.send_clip(faults)

    def send_clip(self, faults):
        """The result clip, broken as @faults ("reset", "truncated",
        "stall", "chunked": a fault's parameters or None) say."""
        with open(self.state.result_mp4, "rb") as f:
            data = f.read()
        if faults.get("truncated") is not None:
            data = data[: len(data) // 2]
        if faults.get("chunked") is not None:
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
        if faults.get("reset") is not None:
            self.wfile.write(data[:half])
            self.reset_connection()
            return
        stall = faults.get("stall")
        if stall is not None:
            self.wfile.write(data[:half])
            self.wfile.flush()
            time.sleep(float(stall.get("seconds", 30)))
            self.close_connection = True
            return
        self.wfile.write(data)


def arg_parser(doc, api_key=False):
    """The command line every fake takes (with --api-key, the key a hosted
    service wants); a fake adds its own options."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    if api_key:
        ap.add_argument("--api-key", required=True)
    ap.add_argument("--result-mp4", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--polls", type=int, default=2,
                    help="polls answered 'not yet' before a job is done")
    ap.add_argument("--fault", action="append",
                    help="NAME[:TIMES], as with /_control")
    ap.add_argument("--exit-with-stdin", action="store_true",
                    help="exit when stdin closes (the test died)")
    return ap


def watch_stdin():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def watch_parent(ppid):
    """Ends this server when the test that started it is gone (an aborted
    test never runs its teardown), so that it doesn't hold the test's
    stderr open and keep the test runner waiting."""
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(0)


def serve(handler, state):
    """Runs the fake on 127.0.0.1: prints "PORT <n>" (and writes it to
    --port-file); with --exit-with-stdin it exits when its stdin closes,
    and always when its parent is gone."""
    args = state.args
    if getattr(args, "exit_with_stdin", False):
        threading.Thread(target=watch_stdin, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.state = state
    port = server.server_address[1]
    if getattr(args, "port_file", None):
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("PORT %d" % port, flush=True)
    threading.Thread(target=watch_parent, args=(os.getppid(),),
                     daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
