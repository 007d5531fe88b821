"""An S3 stand-in that checks what s3rver does not: every request's AWS
Signature Version 4 (the Authorization header), recomputed here by AWS's
rules from the headers the request names as signed, and a PUT's payload
hash (x-amz-content-sha256) against its bytes. Objects live in memory.
For tests/fleet/test-s3.c (stdlib only).

  python3 s3-sigcheck.py --key-id ID --secret SECRET [--exit-with-stdin]

Prints "PORT <n>" when it listens on 127.0.0.1. Answers, as S3 does:
403 SignatureDoesNotMatch or InvalidAccessKeyId, 400
XAmzContentSHA256Mismatch, 404 NoSuchKey, else 200 (HEAD, GET, PUT).
"""

import argparse
import hashlib
import hmac
import http.server
import os
import sys
import threading

OBJECTS = {}


def hmac256(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def error_xml(code):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
            "<Message>%s</Message></Error>" % (code, code)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_HEAD(self):
        self.handle_s3()

    def do_GET(self):
        self.handle_s3()

    def do_PUT(self):
        self.handle_s3()

    def answer(self, status, body=b"", code=None):
        if code:
            body = error_xml(code)
        self.send_response(status)
        self.send_header("Content-Type", "application/xml" if code else
                         "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def signature_problem(self):
        """None, or the S3 error code of a request whose signature fails."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "AccessDenied"
        fields = dict(p.strip().split("=", 1)
                      for p in auth.split(" ", 1)[1].split(","))
        key_id, date, region, service, _ = fields["Credential"].split("/")
        if key_id != ARGS.key_id:
            return "InvalidAccessKeyId"
        signed = fields["SignedHeaders"].split(";")
        # S3 wants host and every x-amz-* header signed
        for name in self.headers.keys():
            low = name.lower()
            if (low == "host" or low.startswith("x-amz-")) and low not in signed:
                return "AccessDenied"
        path, _, query = self.path.partition("?")
        canonical = "\n".join([
            self.command, path, query,
            "".join("%s:%s\n" % (h, " ".join(
                (self.headers.get(h) or "").split())) for h in signed),
            ";".join(signed), self.headers.get("x-amz-content-sha256", "")])
        scope = "/".join([date, region, service, "aws4_request"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", self.headers["X-Amz-Date"],
                             scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = hmac256(("AWS4" + ARGS.secret).encode(), date)
        for part in (region, service, "aws4_request"):
            k = hmac256(k, part)
        mine = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(mine, fields["Signature"]) \
            else "SignatureDoesNotMatch"

    def handle_s3(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        problem = self.signature_problem()
        if problem:
            self.answer(403, code=problem)
            return
        path = self.path.partition("?")[0]
        if self.command == "PUT":
            if hashlib.sha256(body).hexdigest() != \
                    self.headers.get("x-amz-content-sha256"):
                self.answer(400, code="XAmzContentSHA256Mismatch")
                return
            OBJECTS[path] = body
            self.answer(200)
        elif path in OBJECTS:
            self.answer(200, OBJECTS[path])
        else:
            self.answer(404, code="NoSuchKey")

    def log_message(self, *args):
        pass


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--exit-with-stdin", action="store_true")
    ARGS = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    if ARGS.exit_with_stdin:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
