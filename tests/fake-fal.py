#!/usr/bin/env python3
"""A fake fal.ai for the tests (standard library only).

The routes the fal engine uses, as docs/engines/fal.md gives them, all on
one host (api-url points the whole engine here): the storage upload
(POST /storage/upload/initiate {content_type, file_name} answers
{upload_url, file_url}; PUT the bytes to upload_url), the queue (POST
/<model> answers {request_id, status_url, response_url, cancel_url};
GET /<owner>/<app>/requests/<id>/status; GET /<owner>/<app>/requests/<id>
the result {"video": {"url"}}; PUT .../cancel) and a CDN route for the
result MP4 (--result-mp4). API routes want "Authorization: Key
<--api-key>" and answer 401 {"detail"} otherwise; the PUT to the signed
upload URL takes no key. Faults: those of fakehosted.py and fakelib.py
(poll-* on the status route, download-*); job-fail ends the request
COMPLETED with "error" and "error_type" ("kind"); "job-fail-result"
makes its result answer 422 instead.

GET /_stats: counts per route, the submits (model, body), the uploads
(file_name, content_type, size, url), the jobs, every request's headers.
"""

import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehosted  # noqa: E402
import fakelib  # noqa: E402

LOCK = fakelib.LOCK
APP = r"/([^/]+/[^/]+)/requests/([^/]+)"


class State(fakehosted.JobState):
    def reset(self):
        super().reset()
        self.pending = {}


class Handler(fakehosted.JobHandler):
    server_version = "FakeFal/1.0"
    LOG_NAME = "fal"
    KEY_SCHEME = "Key"
    ROUTES = fakehosted.routes(
        ("POST", r"/storage/upload/initiate", "upload"),
        ("PUT", r"/_put/([A-Za-z0-9]+)", "put"),
        ("GET", r"/_files/([A-Za-z0-9]+)", "media"),
        ("GET", APP + r"/status", "status"),
        ("PUT", APP + r"/cancel", "cancel"),
        ("GET", APP, "result"),
        ("POST", r"/(.+)", "submit"))

    def error_json(self, status, code, message):
        return {"detail": message}

    def upload(self):
        spec = self.read_json() or {}
        if not self.check_auth() or not self.upload_faults():
            return
        if "content_type" not in spec or "file_name" not in spec:
            self.send_error_json(422, "", "content_type and file_name needed")
            return
        name = uuid.uuid4().hex[:16]
        with LOCK:
            self.state.pending[name] = spec
        self.send_json(200, {"upload_url": self.base() + "/_put/" + name,
                             "file_url": self.base() + self.FILES + name})

    def put(self, name):
        data = self.read_body()
        with LOCK:
            spec = self.state.pending.pop(name, None)
        if spec is None:
            self.send_error_json(403, "", "upload URL unknown or used")
            return
        self.store_media(data, {
            "file_name": spec["file_name"], "declared": spec["content_type"],
            "content_type": self.headers.get("Content-Type", ""),
            "has_authorization": "Authorization" in self.headers}, name)
        self.send_raw(200, b"", "text/plain")

    def submit(self, model):
        body = self.read_json()
        if self.submit_faulted({"model": model, "body": body}):
            return
        if not isinstance(body, dict) or "prompt" not in body:
            self.send_error_json(422, "", "prompt: field required")
            return
        with LOCK:
            rid = self.state.new_job_id()
        app = "/".join(model.split("/")[:2])
        url = self.base() + "/%s/requests/%s" % (app, rid)
        self.send_json(200, {"request_id": rid, "response_url": url,
                             "status_url": url + "/status",
                             "cancel_url": url + "/cancel"})

    def status(self, app, rid):
        job = self.poll_job(rid, b'{"status":')
        if job is None:
            return
        phase = self.job_phase(job)
        answer = {"status": {"queued": "IN_QUEUE", "running": "IN_PROGRESS"}
                  .get(phase, "COMPLETED"), "request_id": rid}
        if phase == "queued":
            answer["queue_position"] = 0
        if phase == "failed" and not job["fail"].get("at_result"):
            answer["error"] = job["fail"].get("message", "simulated failure")
            answer["error_type"] = job["fail"].get("kind", "runtime_error")
        # 202 while the request waits, as the queue answers [I]
        self.send_json(200 if answer["status"] == "COMPLETED" else 202,
                       answer)

    def result(self, app, rid):
        if not self.check_auth():
            return
        with LOCK:
            job = self.state.jobs.get(rid)
        if job is None:
            self.send_error_json(404, "", "request not found")
        elif self.job_phase(job) in ("queued", "running"):
            self.send_error_json(400, "", "request is still in progress")
        elif job["fail"] is not None:
            self.send_json(422, {"detail": [{"loc": ["body"], "type": "x",
                                             "msg": "simulated failure"}]})
        else:
            self.send_json(200, {"video": {"url": self.result_url(rid),
                                           "content_type": "video/mp4"},
                                 "seed": 7})

    def cancel(self, app, rid):
        if self.check_auth():
            self.send_json(400, {"status": "ALREADY_COMPLETED"})


if __name__ == "__main__":
    fakehosted.main(State, Handler, __doc__)
