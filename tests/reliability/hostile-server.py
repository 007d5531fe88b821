#!/usr/bin/env python3
"""A scripted HTTP server that answers what a test tells it to: broken or
hostile answers for any engine (standard library only).

It listens on 127.0.0.1 on a random port and prints "PORT <n>". A test
sets the answers with POST /_script:

  {"routes": [
     {"method": "POST", "path": "^/api/v3/media/upload/binary$",
      "status": 200, "json": {"code": 200, "data": {"download_url": "{base}/m"}}},
     {"path": "^/dl$", "gen": {"kind": "bytes", "size": 5000000}},
     ...]}

A route matches a request's method ("*" or absent: any) and path (a
regular expression searched in the path with its query); the first match
answers, "times" (default: always) limits how often. An answer is
"status" (200), "headers" (a dict), and a body: "json" (any JSON value;
"{base}" in strings becomes http://127.0.0.1:<port>), "body" (text, same
substitution), or "gen", made on the fly:

  {"kind": "bytes", "size": N}                  N bytes, with Content-Length
  {"kind": "bytes", "size": N, "chunked": true} N bytes, no Content-Length
  {"kind": "bytes", "size": N, "length": M}     announces M, sends N, closes
  {"kind": "endless"}                            chunked bytes until hung up
  {"kind": "deep", "depth": N}                   [[[...]]] N deep, as JSON
  {"kind": "string", "template": T, "size": N}   T with "%s" replaced by N
                                                 "x"s (a huge JSON string)
  {"kind": "file", "path": P}                    the file's bytes

"content_type" sets the Content-Type (default application/json for json,
deep and string, text/plain for body, video/mp4 otherwise). A request no
route matches gets 404. Unanswered request bodies are read and dropped.

GET /_stats answers {"requests": [{"method", "path", "sent"}]}: every
request (the control routes excepted) and the body bytes sent to it.
With --exit-with-stdin it exits when its stdin closes.
"""

import json
import os
import re
import sys
import threading
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import fakelib  # noqa: E402  (tests/, from any working directory)

LOCK = threading.Lock()
ROUTES = []
REQUESTS = []


def subst(value, base):
    if isinstance(value, str):
        return value.replace("{base}", base)
    if isinstance(value, list):
        return [subst(v, base) for v in value]
    if isinstance(value, dict):
        return {k: subst(v, base) for k, v in value.items()}
    return value


class Handler(fakelib.Handler):
    server_version = "Hostile/1.0"

    def log_message(self, fmt, *args):
        if os.environ.get("HOSTILE_VERBOSE"):
            sys.stderr.write("hostile: " + (fmt % args) + "\n")

    def plain(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        body = self.read_body()
        if self.path == "/_script" and self.command == "POST":
            spec = json.loads(body or b"{}")
            with LOCK:
                ROUTES[:] = [dict(r, used=0) for r in spec.get("routes", [])]
                if spec.get("reset_stats", True):
                    REQUESTS.clear()
            self.plain(200, b'{"ok":true}')
            return
        if self.path == "/_stats" and self.command == "GET":
            with LOCK:
                data = json.dumps({"requests": list(REQUESTS)}).encode()
            self.plain(200, data)
            return
        record = {"method": self.command, "path": self.path, "sent": 0}
        with LOCK:
            REQUESTS.append(record)
            route = None
            for r in ROUTES:
                if r.get("method", "*") not in ("*", self.command):
                    continue
                if not re.search(r["path"], self.path):
                    continue
                if "times" in r and r["used"] >= r["times"]:
                    continue
                r["used"] += 1
                route = r
                break
        if route is None:
            self.plain(404, b'{"code":404,"message":"no route"}')
            return
        try:
            self.answer(route, record)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def answer(self, route, record):
        status = route.get("status", 200)
        headers = subst(route.get("headers", {}), self.base())
        gen = route.get("gen")
        ctype = route.get("content_type")
        if gen is None:
            if "json" in route:
                data = json.dumps(subst(route["json"], self.base())).encode()
                ctype = ctype or "application/json"
            else:
                data = subst(route.get("body", ""), self.base()).encode()
                ctype = ctype or "text/plain"
            self.send_all(status, ctype, headers, data, record)
            return
        kind = gen["kind"]
        if kind == "deep":
            depth = gen["depth"]
            self.send_all(status, ctype or "application/json", headers,
                          b"[" * depth + b"]" * depth, record)
        elif kind == "string":
            data = gen["template"].replace("%s", "x" * gen["size"]).encode()
            self.send_all(status, ctype or "application/json", headers, data,
                          record)
        elif kind == "file":
            with open(gen["path"], "rb") as f:
                data = f.read()
            self.send_all(status, ctype or "video/mp4", headers, data, record)
        elif kind == "bytes" and not gen.get("chunked"):
            size = gen["size"]
            self.send_response(status)
            self.send_header("Content-Type", ctype or "video/mp4")
            self.send_header("Content-Length", str(gen.get("length", size)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.stream(size, record)
            self.close_connection = True
        else:
            size = gen.get("size", -1) if kind == "bytes" else -1
            self.send_response(status)
            self.send_header("Content-Type", ctype or "video/mp4")
            self.send_header("Transfer-Encoding", "chunked")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            chunk = b"\0" * 65536
            left = size
            while left != 0:
                n = len(chunk) if left < 0 else min(left, len(chunk))
                self.wfile.write(b"%x\r\n%s\r\n" % (n, chunk[:n]))
                with LOCK:
                    record["sent"] += n
                if left > 0:
                    left -= n
            self.wfile.write(b"0\r\n\r\n")

    def stream(self, size, record):
        chunk = b"\0" * 65536
        left = size
        while left > 0:
            n = min(left, len(chunk))
            self.wfile.write(chunk[:n])
            with LOCK:
                record["sent"] += n
            left -= n

    def send_all(self, status, ctype, headers, data, record):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        with LOCK:
            record["sent"] += len(data)

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any


def main():
    if "--exit-with-stdin" in sys.argv:
        threading.Thread(target=fakelib.watch_stdin, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
