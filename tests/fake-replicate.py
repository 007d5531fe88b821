#!/usr/bin/env python3
"""A fake Replicate API for the tests (standard library only).

The routes the replicate engine uses, as docs/engines/replicate.md gives
them: the files API (POST /v1/files, multipart field "content", answers
201 with urls.get, served back at GET /v1/files/<id>), predictions (POST
/v1/models/<owner>/<name>/predictions with {"input": {...}} answers 201;
GET /v1/predictions/<id>; POST /v1/predictions/<id>/cancel) and a CDN
route for the result MP4 (--result-mp4). API routes want "Authorization:
Bearer <--api-key>" and answer 401 problem details ({"title", "detail",
"status"}) otherwise. Faults: those of fakehosted.py and fakelib.py
(poll-*, download-*); job-fail ends the prediction "failed" (or the
"status" given) with "message" as its error.

GET /_stats: counts per route, the submits (model, body), the uploads
(filename, content_type, size, fields, url), the jobs, every request's
headers.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehosted  # noqa: E402
import fakelib  # noqa: E402

LOCK = fakelib.LOCK


class State(fakehosted.JobState):
    ID_PREFIX = "r"


class Handler(fakehosted.JobHandler):
    ROUTES = fakehosted.routes(
        ("POST", r"/v1/files", "upload"),
        ("GET", r"/v1/files/([A-Za-z0-9]+)", "media"),
        ("POST", r"/v1/models/([^/]+/[^/]+)/predictions", "submit"),
        ("GET", r"/v1/predictions/([^/]+)", "poll"),
        ("POST", r"/v1/predictions/([^/]+)/cancel", "cancel"))
    server_version = "FakeReplicate/1.0"
    LOG_NAME = "replicate"
    FILES = "/v1/files/"

    def error_json(self, status, code, message):
        return {"title": code, "detail": message, "status": status}

    def upload(self):
        body = self.read_body()
        if not self.check_auth() or not self.upload_faults():
            return
        parts = self.multipart(body) or []
        part = next((p for p in parts if p["name"] == "content"), None)
        if part is None or part["filename"] is None:
            self.send_error_json(400, "Bad Request", "missing content")
            return
        url = self.store_media(part["data"], {
            "filename": part["filename"], "content_type": part["content_type"],
            "fields": [p["name"] for p in parts]})
        fid = url.rsplit("/", 1)[1]
        self.send_json(201, {"id": fid, "name": part["filename"],
                             "content_type": part["content_type"],
                             "size": len(part["data"]), "urls": {"get": url}})

    def prediction(self, pid, status, **extra):
        answer = {"id": pid, "model": "wan-video/wan-2.7-r2v",
                  "status": status, "output": None, "error": None,
                  "urls": {"get": self.base() + "/v1/predictions/" + pid,
                           "cancel": self.base() + "/v1/predictions/%s/cancel"
                           % pid}}
        answer.update(extra)
        return answer

    def submit(self, model):
        body = self.read_json()
        if self.submit_faulted({"model": model, "body": body}):
            return
        inp = body.get("input") if isinstance(body, dict) else None
        if not isinstance(inp, dict) or "prompt" not in inp:
            self.send_error_json(422, "Invalid input", "input.prompt required")
            return
        with LOCK:
            pid = self.state.new_job_id()
        self.send_json(201, self.prediction(pid, "starting", input=inp))

    def poll(self, pid):
        job = self.poll_job(pid, b'{"status":')
        if job is None:
            return
        phase = self.job_phase(job)
        if phase == "failed":
            answer = self.prediction(pid, job["fail"].get("status", "failed"),
                                     error=job["fail"].get("message",
                                                           "simulated failure"))
        elif phase == "done":
            answer = self.prediction(pid, "succeeded",
                                     output=self.result_url(pid))
        else:
            answer = self.prediction(pid, "starting" if phase == "queued"
                                     else "processing")
        self.send_json(200, answer)

    def cancel(self, pid):
        if self.check_auth():
            self.send_json(200, self.prediction(pid, "canceled"))


if __name__ == "__main__":
    fakehosted.main(State, Handler, __doc__)
