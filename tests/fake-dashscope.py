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
  {"region": "singapore"}             the region this server stands for
                                      (default beijing, or --region): the
                                      upload policy route answers 404
                                      outside Beijing, where DashScope does
                                      not offer the temporary upload
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
on one kept-alive connection share it), the tasks, and the fetches: a
media URL presigned for S3 storage (X-Amz-Signature in its query) is
fetched at the create as DashScope would, recorded (URL without its query,
status, size, sha256) and refused with InvalidURL unless it gave 200.
"""

import json
import os
import re
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402  (the tests' folder, from any working directory)

STATE_LOCK = fakelib.LOCK

CREATE_PATH = "/api/v1/services/aigc/video-generation/video-synthesis"
ASYNC_MESSAGE = "current user api does not support synchronous calls"


class State(fakelib.State):
    RECORDS = ("creates", "uploads", "policies", "fetches")

    def reset(self):
        super().reset()
        self.max_file_size_mb = 100
        self.region = getattr(self.args, "region", None) or "beijing"
        self.tasks = {}
        self.objects = {}  # key -> {"model", "size", "content_type"}

    def new_task(self):
        task = {"polls": 0, "target": self.polls, "fail": None,
                "never": False, "canceled": False, "unknown": False}
        f = self.take_fault("task-fail")
        if f is not None:
            task["fail"] = (f.get("code", "InternalError"),
                            f.get("message", "simulated failure"))
        for name, flag in (("task-canceled", "canceled"),
                           ("task-unknown", "unknown"),
                           ("never-finish", "never")):
            if self.take_fault(name) is not None:
                task[flag] = True
        return task

    def control(self, spec, handler):
        super().control(spec, handler)
        if "region" in spec:
            self.region = str(spec["region"])
        if "max_file_size_mb" in spec:
            self.max_file_size_mb = int(spec["max_file_size_mb"])
        if "create_task" in spec:
            self.tasks[spec["create_task"]] = self.new_task()

    def stats(self):
        stats = super().stats()
        stats["last_create"] = self.creates[-1] if self.creates else None
        stats["tasks"] = {k: {"polls": v["polls"]}
                          for k, v in self.tasks.items()}
        stats["objects"] = sorted(self.objects)
        return stats


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


# create faults answered 400 with a service error: fault -> (code, message)
CREATE_REFUSALS = (
    ("arrearage", "Arrearage", "Access denied, please make sure your account "
     "is in good standing."),
    ("create-data-inspection", "DataInspectionFailed", "Input data may "
     "contain inappropriate content."),
    ("create-invalid-url", "InvalidURL", "The provided URL could not be "
     "downloaded."),
    ("create-invalid-parameter", "InvalidParameter", "The duration is "
     "invalid."),
)


class Handler(fakelib.Handler):
    server_version = "FakeDashScope/1.0"
    LOG_NAME = "dashscope"
    THROTTLED = ("Throttling", "Requests throttling triggered.")
    # the upload policy, the OSS upload host, create and poll
    ROUTES = (("GET", r"/api/v1/uploads", "policy", "get_policy"),
              ("POST", r"/oss", "upload", "upload"),
              ("POST", re.escape(CREATE_PATH), "create", "create"),
              ("GET", r"/api/v1/tasks/([^/]+)", "poll", "poll"),
              ) + fakelib.CLIP_ROUTES

    def error_json(self, status, code, message):
        return error_body(code, message)

    def send_oss_error(self, status, code, message):
        self.send_raw(status, oss_error(code, message), "application/xml")

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

    # --- uploads ---

    def get_policy(self):
        query = self.query()
        if not self.check_auth():
            return
        with STATE_LOCK:
            f503 = STATE.take_fault("policy-503")
            max_mb = STATE.max_file_size_mb
            region = STATE.region
        if region != "beijing":
            # the temporary upload is offered in Beijing only
            self.send_json(404, error_body("NotFound", "Not Found"))
            return
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
        slow, f500, f403, exists = self.take_faults(
            "upload-slow", "upload-500", "upload-403", "upload-exists")
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        parts = self.multipart(body)
        if parts is None:
            self.send_oss_error(400, "InvalidArgument", "expected multipart")
            return
        fields = fakelib.form_fields(parts)
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
            self.send_oss_error(400, "InvalidArgument", "Authorization header "
                                "is not allowed with a POST policy")
            return
        if f500 is not None:
            self.send_oss_error(500, "InternalError", "simulated")
            return
        if f403 is not None:
            self.send_oss_error(403, "AccessDenied", "Invalid according to "
                                "Policy: Policy expired.")
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
            self.send_oss_error(403, "AccessDenied", "Invalid according to Policy")
            return
        if len(filepart["data"]) > max_mb * 1024 * 1024:
            self.send_oss_error(400, "EntityTooLarge", "too large")
            return
        with STATE_LOCK:
            already = key in STATE.objects
            STATE.objects[key] = {"model": policy["model"],
                                  "size": len(filepart["data"]),
                                  "content_type": fields["x-oss-content-type"]}
        if (already and fields["x-oss-forbid-overwrite"] == "true") or exists is not None:
            self.send_oss_error(409, "FileAlreadyExists", "The object you "
                                "specified already exists and can not be "
                                "overwritten.")
            return
        self.send_raw(200, b"", "application/octet-stream")

    # --- create and poll ---

    def create(self):
        parsed = self.read_json()
        with STATE_LOCK:
            STATE.creates.append({"body": parsed, "headers": self.header_record(),
                                  "auth_ok": self.auth_ok()})
        if not self.check_auth():
            return
        hang, drop, f500, malformed, f429 = self.take_faults(
            "create-hang", "submit-drop", "create-500", "create-malformed",
            "create-429")
        with STATE_LOCK:
            refusal = next((r for r in CREATE_REFUSALS
                            if STATE.take_fault(r[0]) is not None), None)
            if drop is not None:
                STATE.tasks[str(uuid.uuid4())] = STATE.new_task()
        # the body was read (the task "exists"), no answer comes
        if self.swallow_submit(hang, drop):
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
        problem = refusal[1:] if refusal else self.check_create(parsed)
        if problem:
            self.send_json(400, error_body(problem[0], problem[1]))
            return
        if f500 is not None:
            self.send_json(500, error_body("InternalError", "internal error"))
            return
        task_id = str(uuid.uuid4())
        with STATE_LOCK:
            STATE.tasks[task_id] = STATE.new_task()
        if malformed is not None:
            self.send_raw(200, b'{"request_id":"x","output":{"task_id":',
                          "application/json")
            return
        self.send_json(200, {"request_id": request_id(), "output": {
            "task_id": task_id, "task_status": "PENDING"}})

    def fetch_presigned(self, url):
        """A presigned S3 URL (the user's bucket, here an S3 server on
        loopback): fetched as DashScope would, with no header of ours;
        recorded as fetches (the URL without its query, status, size,
        sha256). True when it gave the object."""
        import hashlib
        import urllib.request
        record = {"url": url.split("?")[0], "status": 0, "size": 0,
                  "sha256": None}
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                data = r.read()
                record.update(status=r.status, size=len(data),
                              sha256=hashlib.sha256(data).hexdigest())
        except urllib.error.HTTPError as e:
            record["status"] = e.code
        except OSError:
            pass
        with STATE_LOCK:
            STATE.fetches.append(record)
        return record["status"] == 200

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
                    "reference_video", "reference_image", "first_frame") \
                    or not isinstance(item.get("url"), str):
                return ("InvalidParameter", "bad input.media item")
            # a voice: on a reference item, an audio URL (wan2.7-r2v)
            voice = item.get("reference_voice")
            if voice is not None and (item["type"] == "first_frame" or
                                      not isinstance(voice, str) or
                                      not voice.startswith(("https://", "oss://"))):
                return ("InvalidParameter", "bad input.media reference_voice")
            if voice is not None and voice.startswith("oss://"):
                # an uploaded voice: wav or mp3, for this model
                uses_oss = True
                with STATE_LOCK:
                    obj = STATE.objects.get(voice[len("oss://"):])
                if obj is None or obj["model"] != model or \
                        obj.get("content_type") not in ("audio/wav", "audio/mpeg"):
                    return ("InvalidURL", "reference_voice: no wav or mp3 "
                            "oss object for this model")
            url = item["url"]
            if url.startswith("oss://"):
                uses_oss = True
                with STATE_LOCK:
                    obj = STATE.objects.get(url[len("oss://"):])
                if obj is None or obj["model"] != model:
                    return ("InvalidURL", "oss object not found for this model")
            elif not url.startswith("https://") and not url.startswith("http://"):
                return ("InvalidURL", "unsupported URL")
            elif "X-Amz-Signature=" in url and not self.fetch_presigned(url):
                return ("InvalidURL", "could not download the media URL")
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
        if sum(m["type"] == "first_frame" for m in media) > 1:
            return ("InvalidParameter", "one first_frame at most")
        if "shot_type" in params and params["shot_type"] not in ("single", "multi"):
            return ("InvalidParameter", "parameters.shot_type")
        if "ratio" in params and params["ratio"] not in (
                "16:9", "9:16", "1:1", "4:3", "3:4"):
            return ("InvalidParameter", "parameters.ratio")
        return None

    def poll(self, task_id):
        task_id = urllib.parse.unquote(task_id)
        if not self.check_auth():
            return
        fired = self.take_poll_fault("poll")
        with STATE_LOCK:
            task = STATE.tasks.get(task_id)
        if fired and self.answer_poll_fault(
                fired, b'{"request_id":"x","output":{"task_status":'):
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
            out["video_url"] = self.result_url(
                task_id, "?Expires=1700000000&OSSAccessKeyId=LTAIfake&Signature=s3cr3t")
            out["orig_prompt"] = "..."
            self.send_json(200, {"request_id": request_id(), "output": out,
                                 "usage": {"duration": 15,
                                           "input_video_duration": 5,
                                           "output_video_duration": 10,
                                           "SR": 720, "ratio": "16:9"}})
            return
        self.send_json(200, {"request_id": request_id(), "output": out})

    def download(self, task_id):
        with STATE_LOCK:
            expired = STATE.take_fault("download-expired")
        if expired is not None:
            self.send_oss_error(403, "AccessDenied", "Request has expired.")
            return
        super().download(task_id)


def main():
    global STATE
    ap = fakelib.arg_parser(__doc__, api_key=True)
    ap.add_argument("--region", default="beijing",
                    help="the region this server stands for")
    STATE = State(ap.parse_args())
    fakelib.serve(Handler, STATE)


if __name__ == "__main__":
    main()
