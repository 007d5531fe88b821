#!/usr/bin/env python3
"""A fake DashScope API and OSS upload host for the tests (stdlib only).

Implements what the dashscope engine uses, as described in
docs/providers.md ("Alibaba Cloud Model Studio"):

  GET  /api/v1/uploads?action=getPolicy&model=M   an upload policy whose
       upload_host is this server's /oss route
  POST /oss                                       the upload host (multipart
       PostObject: OSSAccessKeyId, Signature, policy, key, x-oss-object-acl,
       x-oss-forbid-overwrite, success_action_status, x-oss-content-type,
       file), no Bearer key
  POST /api/v1/services/aigc/video-generation/video-synthesis   create
  GET  /api/v1/tasks/<task_id>                    poll
  GET  /cdn/<task_id>.mp4?Expires=..&Signature=.. the result (--result-mp4)

It listens on 127.0.0.1 on a random port and prints "PORT <n>" (or writes
it to --port-file). The API checks "Authorization: Bearer <--api-key>"
(401 InvalidApiKey otherwise), requires "X-DashScope-Async: enable" on
create, and requires "X-DashScope-OssResourceResolve: enable" when the
create names oss:// URLs, which must be objects uploaded for that model.

Faults are switched on with POST /_control (or --fault NAME[:TIMES]):
  {"fault": "poll-503", "times": 2}   503 on the next two polls
  {"fault": "task-fail", "code": "DataInspectionFailed"}  the next task fails
  {"reset": true}                     no faults, counters zeroed
  {"create_task": "id"}               a task that exists without a create
  {"polls": 3}                        polls before a task succeeds
  {"delay_ms": 300}                   every API answer comes late
  {"max_file_size_mb": 1}             the policy's upload limit
  {"clear_fault": "name"}

Fault names: 401, 403, 403-unpurchased (any API route); policy-503;
upload-slow ("seconds"), upload-500, upload-403, upload-exists (stored, then
409 FileAlreadyExists); create-hang ("seconds"; the body is read, no answer
comes), submit-drop (the create's body is read, then the connection is
closed without any answer; the task exists), create-500, create-malformed,
create-429 (Throttling.RateQuota), arrearage, create-data-inspection, create-invalid-url,
create-invalid-parameter; poll-429 (Throttling, Retry-After "retry_after",
default 1), poll-500/502/503/504, poll-malformed, poll-slow ("seconds");
task-fail ("code", "message"), task-canceled, task-unknown, never-finish;
download-reset, download-truncated, download-stall ("seconds"),
download-chunked, download-redirect ("to"), download-redirect-http,
download-expired. "times" counts how often a fault fires (default: always).

GET /_stats answers what was received: counts per route, every create (body
and headers, Authorization replaced by auth_ok), last_create, the upload
form fields (names in order and values, not the file's bytes), the policies
handed out, every request's headers and client port ("peer_port": requests
on one kept-alive connection share it), and the tasks.
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
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_LOCK = threading.Lock()

CREATE_PATH = "/api/v1/services/aigc/video-generation/video-synthesis"
ASYNC_MESSAGE = "current user api does not support synchronous calls"


class State:
    def __init__(self, args):
        self.api_key = args.api_key
        self.result_mp4 = args.result_mp4
        self.default_polls = args.polls
        self.reset()
        for spec in args.fault or []:
            name, _, times = spec.partition(":")
            self.add_fault({"fault": name, "times": int(times) if times else -1})

    def reset(self):
        self.faults = {}  # name -> {"times": n (-1 = always), ...params}
        self.delay_ms = 0
        self.polls = self.default_polls
        self.max_file_size_mb = 100
        self.counts = {}
        self.creates = []
        self.uploads = []
        self.policies = []
        self.requests = []
        self.tasks = {}
        self.objects = {}  # key -> {"model", "size", "content_type"}

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

    def count(self, route):
        self.counts[route] = self.counts.get(route, 0) + 1


STATE = None


def request_id():
    return str(uuid.uuid4())


def error_body(code, message):
    return {"request_id": request_id(), "code": code, "message": message}


def oss_error(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n"
            "  <Code>%s</Code>\n  <Message>%s</Message>\n"
            "  <RequestId>%s</RequestId>\n</Error>\n"
            % (code, message, uuid.uuid4().hex)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeDashScope/1.0"

    def log_message(self, fmt, *args):  # quiet: the test's output stays readable
        if os.environ.get("FAKE_DASHSCOPE_VERBOSE"):
            sys.stderr.write("fake-dashscope: " + (fmt % args) + "\n")

    # --- helpers ---

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def auth_ok(self):
        return self.headers.get("Authorization") == "Bearer " + STATE.api_key

    def header_record(self):
        headers = {}
        for k, v in self.headers.items():
            if k.lower() != "authorization":
                headers[k] = v
        headers["auth_ok"] = self.auth_ok()
        headers["has_authorization"] = "Authorization" in self.headers
        return headers

    def record(self, route):
        with STATE_LOCK:
            STATE.count(route)
            STATE.requests.append(
                {"method": self.command, "path": self.path, "route": route,
                 "headers": self.header_record(),
                 "peer_port": self.client_address[1]})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

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

    def api_delay(self):
        with STATE_LOCK:
            d = STATE.delay_ms
        if d:
            time.sleep(d / 1000.0)

    def check_auth(self):
        with STATE_LOCK:
            f401 = STATE.take_fault("401")
            f403 = STATE.take_fault("403")
            unpurchased = STATE.take_fault("403-unpurchased")
        if f401 is not None or not self.auth_ok():
            self.send_json(401, error_body(
                "InvalidApiKey", "Invalid API-key provided."))
            return False
        if f403 is not None:
            self.send_json(403, error_body("AccessDenied", "Access denied."))
            return False
        if unpurchased is not None:
            self.send_json(403, error_body(
                "AccessDenied.Unpurchased",
                "Access to model denied. Please make sure you are eligible "
                "for using the model."))
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
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        if path == "/_stats":
            self.stats()
            return
        if path == "/api/v1/uploads":
            self.record("policy")
            self.get_policy(urllib.parse.parse_qs(parsed.query))
            return
        m = re.fullmatch(r"/api/v1/tasks/([^/]+)", path)
        if m:
            self.record("poll")
            self.poll(urllib.parse.unquote(m.group(1)))
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
        self.record("other")
        self.send_json(404, error_body("NotFound", "no such route"))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_control":
            self.control()
            return
        if path == "/oss":
            self.record("upload")
            self.upload()
            return
        if path == CREATE_PATH:
            self.record("create")
            self.create()
            return
        self.record("other")
        self.read_body()
        self.send_json(404, error_body("NotFound", "no such route"))

    def stats(self):
        with STATE_LOCK:
            stats = {
                "counts": dict(STATE.counts),
                "creates": list(STATE.creates),
                "last_create": STATE.creates[-1] if STATE.creates else None,
                "uploads": list(STATE.uploads),
                "policies": list(STATE.policies),
                "requests": list(STATE.requests),
                "tasks": {k: {"polls": v["polls"]} for k, v in STATE.tasks.items()},
                "objects": sorted(STATE.objects),
            }
        self.send_json(200, stats)

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
            if "max_file_size_mb" in spec:
                STATE.max_file_size_mb = int(spec["max_file_size_mb"])
            if "create_task" in spec:
                STATE.tasks[spec["create_task"]] = self.new_task()
        self.send_json(200, {"ok": True})

    def new_task(self):
        """A task's state; called with STATE_LOCK held."""
        task = {"polls": 0, "target": STATE.polls, "fail": None,
                "never": False, "canceled": False, "unknown": False}
        f = STATE.take_fault("task-fail")
        if f is not None:
            task["fail"] = (f.get("code", "InternalError"),
                            f.get("message", "simulated failure"))
        if STATE.take_fault("task-canceled") is not None:
            task["canceled"] = True
        if STATE.take_fault("task-unknown") is not None:
            task["unknown"] = True
        if STATE.take_fault("never-finish") is not None:
            task["never"] = True
        return task

    # --- uploads ---

    def get_policy(self, query):
        if not self.check_auth():
            return
        with STATE_LOCK:
            f503 = STATE.take_fault("policy-503")
            max_mb = STATE.max_file_size_mb
        if f503 is not None:
            self.send_json(503, error_body("ServiceUnavailable", "try later"))
            return
        self.api_delay()
        if query.get("action") != ["getPolicy"] or len(query.get("model", [])) != 1:
            self.send_json(400, error_body(
                "InvalidParameter", "action=getPolicy and model are required"))
            return
        model = query["model"][0]
        n = uuid.uuid4().hex
        policy = {
            "model": model,
            "upload_dir": "dashscope-instant/fakeaccount/2026-01-01/" + n[:12],
            "oss_access_key_id": "LTAI5tFAKE" + n[:6],
            "signature": "sig" + n[6:22],
            "policy": "eyJleHBpcmF0aW9uIjoiZmFrZSJ9" + n[22:30],
        }
        with STATE_LOCK:
            STATE.policies.append(policy)
        self.send_json(200, {"request_id": request_id(), "data": {
            "policy": policy["policy"],
            "signature": policy["signature"],
            "upload_dir": policy["upload_dir"],
            "upload_host": self.base() + "/oss",
            "expire_in_seconds": 300,
            "max_file_size_mb": max_mb,
            "capacity_limit_mb": 999999999,
            "oss_access_key_id": policy["oss_access_key_id"],
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }})

    def upload(self):
        body = self.read_body()
        with STATE_LOCK:
            slow = STATE.take_fault("upload-slow")
            f500 = STATE.take_fault("upload-500")
            f403 = STATE.take_fault("upload-403")
            exists = STATE.take_fault("upload-exists")
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/form-data") or not m:
            self.send_raw(400, oss_error("InvalidArgument", "expected multipart"),
                          "application/xml")
            return
        parts = parse_multipart(body, m.group(1).encode())
        fields = {p["name"]: p["data"].decode("utf-8", "replace")
                  for p in parts if p["filename"] is None}
        filepart = next((p for p in parts if p["name"] == "file"), None)
        record = {"fields": [p["name"] for p in parts],
                  "values": fields,
                  "has_authorization": "Authorization" in self.headers,
                  "filename": filepart["filename"] if filepart else None,
                  "content_type": filepart["content_type"] if filepart else None,
                  "size": len(filepart["data"]) if filepart else 0}
        with STATE_LOCK:
            STATE.uploads.append(record)
            policy = next((p for p in STATE.policies
                           if p["oss_access_key_id"] == fields.get("OSSAccessKeyId")), None)
            max_mb = STATE.max_file_size_mb
        if "Authorization" in self.headers:
            # a Bearer key has no business here: OSS takes the policy
            self.send_raw(400, oss_error("InvalidArgument",
                                         "Authorization header is not allowed "
                                         "with a POST policy"), "application/xml")
            return
        if f500 is not None:
            self.send_raw(500, oss_error("InternalError", "simulated"), "application/xml")
            return
        if f403 is not None:
            self.send_raw(403, oss_error("AccessDenied", "Invalid according to "
                                         "Policy: Policy expired."), "application/xml")
            return
        key = fields.get("key", "")
        if (policy is None or fields.get("Signature") != policy["signature"]
                or fields.get("policy") != policy["policy"]
                or not key.startswith(policy["upload_dir"] + "/")
                or fields.get("success_action_status") != "200"
                or "x-oss-object-acl" not in fields
                or "x-oss-forbid-overwrite" not in fields
                or "x-oss-content-type" not in fields
                or filepart is None or filepart["filename"] is None
                or parts[-1]["name"] != "file"):
            self.send_raw(403, oss_error("AccessDenied",
                                         "Invalid according to Policy"),
                          "application/xml")
            return
        if len(filepart["data"]) > max_mb * 1024 * 1024:
            self.send_raw(400, oss_error("EntityTooLarge", "too large"),
                          "application/xml")
            return
        with STATE_LOCK:
            already = key in STATE.objects
            STATE.objects[key] = {"model": policy["model"],
                                  "size": len(filepart["data"]),
                                  "content_type": fields["x-oss-content-type"]}
        if (already and fields["x-oss-forbid-overwrite"] == "true") or exists is not None:
            self.send_raw(409, oss_error("FileAlreadyExists",
                                         "The object you specified already exists "
                                         "and can not be overwritten."),
                          "application/xml")
            return
        self.send_raw(200, b"", "application/octet-stream")

    # --- create and poll ---

    def create(self):
        body = self.read_body()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with STATE_LOCK:
            STATE.creates.append({"body": parsed, "headers": self.header_record(),
                                  "auth_ok": self.auth_ok()})
        if not self.check_auth():
            return
        with STATE_LOCK:
            hang = STATE.take_fault("create-hang")
            drop = STATE.take_fault("submit-drop")
            f500 = STATE.take_fault("create-500")
            malformed = STATE.take_fault("create-malformed")
            f429 = STATE.take_fault("create-429")
            arrearage = STATE.take_fault("arrearage")
            inspection = STATE.take_fault("create-data-inspection")
            bad_url = STATE.take_fault("create-invalid-url")
            bad_param = STATE.take_fault("create-invalid-parameter")
        if hang is not None:
            # the body was read (the task "exists"), the answer never comes
            time.sleep(float(hang.get("seconds", 3600)))
            return
        if drop is not None:
            # the body was read (the task "exists"), no answer comes
            with STATE_LOCK:
                STATE.tasks[str(uuid.uuid4())] = self.new_task()
            self.drop_connection()
            return
        self.api_delay()
        if self.headers.get("X-DashScope-Async") != "enable":
            self.send_json(400, error_body("InvalidParameter", ASYNC_MESSAGE))
            return
        if f429 is not None:
            self.send_json(429, error_body(
                "Throttling.RateQuota", "Requests rate limit exceeded, please "
                "try again later."), {"Retry-After": "1"})
            return
        if arrearage is not None:
            self.send_json(400, error_body(
                "Arrearage", "Access denied, please make sure your account is "
                "in good standing."))
            return
        if inspection is not None:
            self.send_json(400, error_body(
                "DataInspectionFailed", "Input data may contain inappropriate "
                "content."))
            return
        if bad_url is not None:
            self.send_json(400, error_body(
                "InvalidURL", "The provided URL could not be downloaded."))
            return
        if bad_param is not None:
            self.send_json(400, error_body(
                "InvalidParameter", "The duration is invalid."))
            return
        problem = self.check_create(parsed)
        if problem:
            self.send_json(400, error_body(problem[0], problem[1]))
            return
        if f500 is not None:
            self.send_json(500, error_body("InternalError", "internal error"))
            return
        task_id = str(uuid.uuid4())
        with STATE_LOCK:
            STATE.tasks[task_id] = self.new_task()
        if malformed is not None:
            self.send_raw(200, b'{"request_id":"x","output":{"task_id":',
                          "application/json")
            return
        self.send_json(200, {"request_id": request_id(), "output": {
            "task_id": task_id, "task_status": "PENDING"}})

    def check_create(self, body):
        """(code, message) of what is wrong with a create body, or None."""
        if not isinstance(body, dict):
            return ("InvalidParameter", "body is not a JSON object")
        model = body.get("model")
        inp = body.get("input")
        params = body.get("parameters")
        if not isinstance(model, str) or not isinstance(inp, dict) \
                or not isinstance(params, dict):
            return ("InvalidParameter", "model, input and parameters are required")
        if not isinstance(inp.get("prompt"), str) or not inp["prompt"]:
            return ("InvalidParameter", "input.prompt is required")
        media = inp.get("media")
        if not isinstance(media, list) or not 1 <= len(media) <= 5:
            return ("InvalidParameter", "input.media takes 1 to 5 items")
        uses_oss = False
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in (
                    "reference_video", "reference_image") \
                    or not isinstance(item.get("url"), str):
                return ("InvalidParameter", "bad input.media item")
            url = item["url"]
            if url.startswith("oss://"):
                uses_oss = True
                with STATE_LOCK:
                    obj = STATE.objects.get(url[len("oss://"):])
                if obj is None or obj["model"] != model:
                    return ("InvalidURL", "oss object not found for this model")
            elif not url.startswith("https://") and not url.startswith("http://"):
                return ("InvalidURL", "unsupported URL")
        if uses_oss and self.headers.get("X-DashScope-OssResourceResolve") != "enable":
            return ("InvalidParameter", "oss:// resources need the header "
                    "X-DashScope-OssResourceResolve: enable")
        if params.get("resolution") not in ("720P", "1080P"):
            return ("InvalidParameter", "parameters.resolution")
        d = params.get("duration")
        if not isinstance(d, int) or not 2 <= d <= 15:
            return ("InvalidParameter", "parameters.duration")
        if any(m["type"] == "reference_video" for m in media) and d > 10:
            return ("InvalidParameter", "duration is at most 10 with a video")
        if "ratio" in params and params["ratio"] not in (
                "16:9", "9:16", "1:1", "4:3", "3:4"):
            return ("InvalidParameter", "parameters.ratio")
        return None

    def poll(self, task_id):
        if not self.check_auth():
            return
        with STATE_LOCK:
            fired = None
            for name in ("poll-429", "poll-500", "poll-502", "poll-503",
                         "poll-504", "poll-malformed", "poll-slow"):
                f = STATE.take_fault(name)
                if f is not None:
                    fired = (name, f)
                    break
            task = STATE.tasks.get(task_id)
        if fired:
            name, f = fired
            if name == "poll-429":
                self.send_json(429, error_body(
                    "Throttling", "Requests throttling triggered."),
                    {"Retry-After": str(f.get("retry_after", 1))})
                return
            if name == "poll-malformed":
                self.send_raw(200, b'{"request_id":"x","output":{"task_status":',
                              "application/json")
                return
            if name == "poll-slow":
                time.sleep(float(f.get("seconds", 30)))
            else:
                status = int(name.split("-")[1])
                self.send_json(status, error_body("InternalError", "upstream trouble"))
                return
        self.api_delay()
        out = {"task_id": task_id}
        if task is None or task["unknown"]:
            out["task_status"] = "UNKNOWN"
            self.send_json(200, {"request_id": request_id(), "output": out})
            return
        with STATE_LOCK:
            task["polls"] += 1
            n = task["polls"]
            done = n > task["target"]
        if task["never"] or not done:
            out["task_status"] = "PENDING" if n == 1 else "RUNNING"
        elif task["canceled"]:
            out["task_status"] = "CANCELED"
        elif task["fail"] is not None:
            out["task_status"] = "FAILED"
            out["code"], out["message"] = task["fail"]
        else:
            out["task_status"] = "SUCCEEDED"
            with STATE_LOCK:
                redirect = STATE.faults.get("download-redirect") is not None
                redirect_http = STATE.faults.get("download-redirect-http") is not None
            sig = "?Expires=1700000000&OSSAccessKeyId=LTAIfake&Signature=s3cr3t"
            if redirect_http:
                url = "http://example.invalid/cdn/%s.mp4" % task_id
            elif redirect:
                url = self.base() + "/redirect/%s.mp4%s" % (task_id, sig)
            else:
                url = self.base() + "/cdn/%s.mp4%s" % (task_id, sig)
            out["video_url"] = url
            out["orig_prompt"] = "..."
            self.send_json(200, {"request_id": request_id(), "output": out,
                                 "usage": {"duration": 15,
                                           "input_video_duration": 5,
                                           "output_video_duration": 10,
                                           "SR": 720, "ratio": "16:9"}})
            return
        self.send_json(200, {"request_id": request_id(), "output": out})

    def download(self, task_id):
        with open(STATE.result_mp4, "rb") as f:
            data = f.read()
        with STATE_LOCK:
            reset = STATE.take_fault("download-reset")
            trunc = STATE.take_fault("download-truncated")
            stall = STATE.take_fault("download-stall")
            chunked = STATE.take_fault("download-chunked")
            expired = STATE.take_fault("download-expired")
        if expired is not None:
            self.send_raw(403, oss_error("AccessDenied", "Request has expired."),
                          "application/xml")
            return
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


def exit_with_parent(ppid):
    """Ends this server when the test that started it is gone (an aborted
    test never runs its teardown), so that it doesn't hold the test's
    stderr open and keep the test runner waiting."""
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid:
            os._exit(0)


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--result-mp4", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--polls", type=int, default=2,
                    help="polls answered PENDING/RUNNING before SUCCEEDED")
    ap.add_argument("--fault", action="append",
                    help="NAME[:TIMES], as with /_control")
    args = ap.parse_args()
    STATE = State(args)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("PORT %d" % port, flush=True)
    threading.Thread(target=exit_with_parent, args=(os.getppid(),),
                     daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
