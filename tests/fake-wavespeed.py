#!/usr/bin/env python3
"""A fake WaveSpeed API for the tests (standard library only).

Implements the routes the wavespeed engine uses, as described in the
shared docs/providers.md: the model list with each model's request schema
(GET /api/v3/models), the price (POST /api/v3/model/price), the balance
(GET /api/v3/balance), media upload (the ticket flow: POST
/api/v3/media/uploads then a PUT of the bytes without Authorization; and
the binary route, multipart, field "file"), submit
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
  {"schema": "narrow"}                the model's schema: "default" (every
                                      field the engine may send, durations
                                      5, 10, 15), "narrow" (durations 5 and
                                      10 only, reference images in
                                      "reference_images" (maxItems 2), no
                                      "image", no seed, no aspect_ratio)
  {"price": 3.5}                      the price of every request (default:
                                      the seed's table)
  {"balance": 0.5}                    the account's balance (default 100)

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
  upload-503            (both upload routes; the ticket's POST is recorded
                        as route "upload" too, its PUT as "upload-put")
  no-schema-route       GET /api/v3/models answers 404
  ticket-route-missing  POST /api/v3/media/uploads answers 404
  binary-route-missing  POST /api/v3/media/upload/binary answers 404
  price-route-missing, balance-route-missing   those answer 404
  submit-invalid        the submit is refused: 400, code 1401
  submit-401            the submit (only) answers 401
  outputs-object        a completed job's outputs are [{"url": ...}]
  status-unknown        polls say "warming" (an unknown status) until it
                        has fired "times" times
  download-reset        half the clip, then a TCP reset
  download-truncated    half the clip, with a matching Content-Length
  download-stall        half the clip, then silence for "seconds"
  download-chunked      the clip without Content-Length
  download-redirect     the output URL redirects ("to", default the CDN)
  download-redirect-http  the output URL is plain http to another host
  job-fail              the job ends with "code" and "status" (failed)
  never-finish          the job stays "processing"

GET /_stats answers what was received: counts per route, the submit bodies,
the uploads (each with "via": "ticket" or "binary"), the ticket and price
request bodies, the jobs, and every request's headers with Authorization
replaced by "auth_ok" (whether it carried the right key) and
"has_authorization", and its client port ("peer_port": requests on one
kept-alive connection share it).
"""

import json
import os
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402  (the tests' folder, from any working directory)

STATE_LOCK = fakelib.LOCK


class State(fakelib.State):
    RECORDS = ("submits", "uploads", "tickets", "prices")

    def __init__(self, args):
        self.job_seconds = args.job_seconds
        super().__init__(args)

    def reset(self):
        super().reset()
        self.jobs = {}
        self.media = {}
        self.pending_puts = {}
        self.schema = "default"
        self.price = getattr(self.args, "price", None)
        self.balance = 100.0

    def new_job(self):
        job = {"polls": 0, "created": time.monotonic(), "target": self.polls,
               "fail_code": None, "never": False, "status": "created"}
        f = self.take_fault("job-fail")
        if f is not None:
            job["fail_code"] = int(f.get("code", 1403))
            job["fail_status"] = f.get("status", "failed")
        if self.take_fault("never-finish") is not None:
            job["never"] = True
        return job

    def control(self, spec, handler):
        super().control(spec, handler)
        if "create_job" in spec:
            self.jobs[spec["create_job"]] = self.new_job()
        if "schema" in spec:
            self.schema = spec["schema"]
        if "price" in spec:
            self.price = float(spec["price"])
        if "balance" in spec:
            self.balance = float(spec["balance"])

    def stats(self):
        stats = super().stats()
        stats["last_submit"] = self.submits[-1] if self.submits else None
        stats["jobs"] = {k: {"polls": v["polls"]} for k, v in self.jobs.items()}
        return stats


STATE = None


def envelope(data, code=200, message="success"):
    return {"code": code, "message": message, "data": data}


MODEL = "alibaba/wan-2.7/reference-to-video"

# the request schemas the fake's model may have ({"schema": name})
SCHEMAS = {
    "default": {
        "type": "object",
        "properties": {
            "prompt": {"type": "string"},
            "videos": {"type": "array", "items": {"type": "string"}},
            "image": {"type": "string"},
            "images": {"type": "array", "items": {"type": "string"}},
            "negative_prompt": {"type": "string"},
            "resolution": {"type": "string", "enum": ["720p", "1080p"]},
            "duration": {"type": "integer", "enum": [5, 10, 15]},
            "enable_prompt_expansion": {"type": "boolean"},
            "seed": {"type": "integer", "minimum": -1, "maximum": 2147483647},
            "aspect_ratio": {"type": "string"},
        },
        "required": ["prompt", "videos"],
    },
    "narrow": {
        "type": "object",
        "properties": {
            "prompt": {"type": "string"},
            "videos": {"type": "array", "items": {"type": "string"},
                       "maxItems": 3},
            "reference_images": {"type": "array", "maxItems": 2,
                                 "items": {"type": "string"}},
            "negative_prompt": {"type": "string"},
            "resolution": {"type": "string", "enum": ["720p", "1080p"]},
            "duration": {"type": "integer", "enum": [5, 10]},
            "enable_prompt_expansion": {"type": "boolean"},
        },
        "required": ["prompt", "videos"],
    },
}

# the seed's price table: (duration, 720p, 1080p)
PRICES = {5: (1.00, 1.60), 10: (1.50, 2.40), 15: (2.00, 3.20)}


class Handler(fakelib.Handler):
    server_version = "FakeWaveSpeed/1.0"
    LOG_NAME = "wavespeed"
    ROUTES = fakelib.CLIP_ROUTES + (
        ("GET", r"/api/v3/predictions/([^/]+)/result", "poll", "poll"),
        ("GET", r"/media/([A-Za-z0-9_.-]+)", "media", "media"),
        ("GET", r"/api/v3/models", "models", "models"),
        ("GET", r"/api/v3/balance", "balance", "balance"),
        ("POST", r"/api/v3/model/price", "price", "price"),
        ("POST", r"/api/v3/media/upload/binary", "upload", "upload"),
        ("POST", r"/api/v3/media/uploads", "upload", "ticket"),
        ("PUT", r"/put/([A-Za-z0-9_.-]+)", "upload-put", "put"),
        ("POST", r"/api/v3/(.+)", "submit", "submit"),
    )

    def do_PUT(self):
        self.dispatch()

    def missing(self, fault):
        """404 as for a route the service does not have."""
        with STATE_LOCK:
            gone = STATE.take_fault(fault) is not None
        if gone:
            self.send_json(404, {"code": 404, "message": "not found"})
        return gone

    def models(self):
        if not self.check_auth() or self.missing("no-schema-route"):
            return
        self.api_delay()
        with STATE_LOCK:
            schema = SCHEMAS[STATE.schema]
        other = {"model_id": "some/other-model", "name": "other",
                 "api_schema": {"api_schemas": [{"request_schema": {
                     "properties": {"prompt": {"type": "string"}}}}]}}
        self.send_json(200, envelope([other, {
            "model_id": MODEL, "name": "Wan 2.7 R2V", "base_price": 1.0,
            "api_schema": {"api_schemas": [{"type": "model_run",
                                            "request_schema": schema}]}}]))

    def price(self):
        body = self.read_json()
        with STATE_LOCK:
            STATE.prices.append(body)
        if not self.check_auth() or self.missing("price-route-missing"):
            return
        inputs = (body or {}).get("inputs") or {}
        with STATE_LOCK:
            usd = STATE.price
        if usd is None:
            row = PRICES.get(inputs.get("duration", 5), PRICES[15])
            usd = row[1] if inputs.get("resolution") == "1080p" else row[0]
        self.send_json(200, envelope({"model_id": (body or {}).get("model_id"),
                                      "price": usd, "discounted_price": usd,
                                      "currency": "USD"}))

    def balance(self):
        if not self.check_auth() or self.missing("balance-route-missing"):
            return
        with STATE_LOCK:
            usd = STATE.balance
        self.send_json(200, envelope({"balance": usd}))

    def upload_faults(self):
        """The faults both upload routes share; True when one answered."""
        slow, u503 = self.take_faults("upload-slow", "upload-503")
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        if u503 is not None:
            self.send_json(503, {"code": 503, "message": "busy"})
            return True
        self.api_delay()
        return False

    def ticket(self):
        body = self.read_json()
        with STATE_LOCK:
            STATE.tickets.append(body)
        if not self.check_auth() or self.missing("ticket-route-missing") \
                or self.upload_faults():
            return
        if not isinstance(body, dict) or not all(
                k in body for k in ("filename", "size", "content_type")):
            self.send_json(400, {"code": 400, "message": "filename, size and "
                                 "content_type are required"})
            return
        name = uuid.uuid4().hex[:12] + "-" + re.sub(r"[^A-Za-z0-9_.-]", "_",
                                                    str(body["filename"]))
        with STATE_LOCK:
            STATE.pending_puts[name] = body
        self.send_json(200, envelope({
            "upload": {"method": "PUT", "url": self.base() + "/put/" + name,
                       "headers": {"Content-Type": body["content_type"],
                                   "X-Ticket": name}},
            "download_url": self.base() + "/media/" + name}))

    def put(self, name):
        data = self.read_body()
        with STATE_LOCK:
            ticket = STATE.pending_puts.pop(name, None)
        if ticket is None or self.headers.get("X-Ticket") != name \
                or "Authorization" in self.headers:
            self.send_json(403, {"message": "bad ticket"})
            return
        with STATE_LOCK:
            STATE.media[name] = data
            STATE.uploads.append({"via": "ticket",
                                  "filename": ticket["filename"],
                                  "content_type": self.headers.get("Content-Type"),
                                  "size": len(data),
                                  "ticket_size": ticket["size"],
                                  "fields": [],
                                  "url": self.base() + "/media/" + name})
        self.send_raw(200, b"", "text/plain")

    def refuse_key(self):
        self.send_json(401, {"code": 401,
                             "message": "Unauthorized: invalid API key"})
        return True

    def check_auth(self):
        with STATE_LOCK:
            forced = STATE.take_fault("401") is not None
        if forced or not self.auth_ok():
            self.refuse_key()
            return False
        return True

    def media(self, name):
        with STATE_LOCK:
            data = STATE.media.get(name)
        if data is None:
            self.send_json(404, {"code": 404, "message": "not found"})
        else:
            self.send_raw(200, data, "application/octet-stream")

    def upload(self):
        body = self.read_body()
        if not self.check_auth() or self.missing("binary-route-missing") \
                or self.upload_faults():
            return
        parts = self.multipart(body)
        if parts is None:
            self.send_json(400, {"code": 400, "message": "expected multipart/form-data"})
            return
        filepart = next((p for p in parts if p["name"] == "file"), None)
        if filepart is None or filepart.get("filename") is None:
            self.send_json(400, {"code": 400, "message": "missing file field"})
            return
        name = uuid.uuid4().hex[:12] + "-" + re.sub(r"[^A-Za-z0-9_.-]", "_",
                                                    filepart["filename"])
        kind = "image" if filepart["content_type"].startswith("image/") else "video"
        with STATE_LOCK:
            STATE.media[name] = filepart["data"]
            STATE.uploads.append({"via": "binary",
                                  "filename": filepart["filename"],
                                  "content_type": filepart["content_type"],
                                  "size": len(filepart["data"]),
                                  "fields": [p["name"] for p in parts],
                                  "url": self.base() + "/media/" + name})
        self.send_json(200, envelope({"type": kind,
                                      "download_url": self.base() + "/media/" + name,
                                      "filename": filepart["filename"],
                                      "size": len(filepart["data"])}))

    def submit(self, model):
        parsed = self.read_json()
        with STATE_LOCK:
            STATE.submits.append({"model": model, "body": parsed,
                                  "auth_ok": self.auth_ok()})
        if not self.check_auth() or (self.take_faults("submit-401")[0]
                                     is not None and self.refuse_key()):
            return
        hang, drop, s500, s503, senv, s202, smal, sinv = self.take_faults(
            "submit-hang", "submit-drop", "submit-500", "submit-503",
            "submit-envelope-500", "submit-202", "submit-malformed",
            "submit-invalid")
        with STATE_LOCK:
            if drop is not None:
                STATE.jobs["pred_" + uuid.uuid4().hex[:16]] = STATE.new_job()
        # the body was read (the job "exists"), no answer comes
        if self.swallow_submit(hang, drop):
            return
        self.api_delay()
        if parsed is None or not isinstance(parsed, dict):
            self.send_json(400, {"code": 400, "message": "body is not JSON"})
            return
        if "prompt" not in parsed or "videos" not in parsed:
            self.send_json(400, {"code": 400, "message": "prompt and videos are required"})
            return
        # the submit faults that answer with an error: status, envelope
        for fault, status, answer in (
                (sinv, 400, {"code": 1401, "message": "invalid parameter"}),
                (s500, 500, {"code": 500, "message": "internal error"}),
                (s503, 503, {"code": 503, "message": "unavailable"}),
                (senv, 200, {"code": 500, "message": "internal error",
                             "data": None})):
            if fault is not None:
                self.send_json(status, answer)
                return
        job_id = "pred_" + uuid.uuid4().hex[:16]
        with STATE_LOCK:
            STATE.jobs[job_id] = STATE.new_job()
        if s202 is not None:
            self.send_json(202, {"code": 202, "message": "accepted",
                                 "data": None})
            return
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
        fired = self.take_poll_fault("poll", ("poll-404", "poll-envelope-401"))
        with STATE_LOCK:
            job = STATE.jobs.get(job_id)
        if fired and fired[0] == "poll-envelope-401":
            # HTTP 200, but the envelope carries the error
            self.send_json(200, {"code": 401, "message": "invalid key"})
            return
        if fired and fired[0] == "poll-404":
            job = None
        elif fired and self.answer_poll_fault(
                fired, b'{"code":200,"data":{"status":'):
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
        elif self.take_faults("status-unknown")[0] is not None:
            data["status"] = "warming"
        elif job["fail_code"] is not None:
            data["status"] = job.get("fail_status", "failed")
            data["code"] = job["fail_code"]
            data["error"] = "simulated failure %d" % job["fail_code"]
        else:
            data["status"] = "completed"
            data["outputs"] = [self.result_url(job_id)]
            if self.take_faults("outputs-object")[0] is not None:
                data["outputs"] = [{"url": data["outputs"][0],
                                    "type": "video"}]
            data["timings"] = {"inference": 2500}
        self.send_json(200, envelope(data))


def main():
    global STATE
    ap = fakelib.arg_parser(__doc__, api_key=True)
    ap.add_argument("--job-seconds", type=float, default=None,
                    help="complete jobs after this time instead of --polls")
    ap.add_argument("--price", type=float, default=None,
                    help="the price of every request, as {\"price\": x}")
    STATE = State(ap.parse_args())
    fakelib.serve(Handler, STATE)


if __name__ == "__main__":
    main()
