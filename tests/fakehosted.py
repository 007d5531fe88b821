"""What the fakes of the queue-style hosts share (fake-fal.py,
fake-replicate.py), on top of fakelib: jobs that end after some polls or
fail, stored uploads served back, the submit's faults, the key check.

Submit faults (as in fake-wavespeed.py): submit-hang, submit-drop (the
job exists, no answer), submit-500, submit-503, submit-malformed (200
with broken JSON; the job exists), submit-202 (the job exists, answered
202). Job faults: job-fail ("message", "kind"), never-finish. Upload
faults: upload-slow ("seconds"), upload-503. Any API route: 401.
"""

import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402

LOCK = fakelib.LOCK


class JobState(fakelib.State):
    RECORDS = ("submits", "uploads")
    ID_PREFIX = ""

    def reset(self):
        super().reset()
        self.jobs = {}
        self.media = {}

    def new_job(self):
        fail = self.take_fault("job-fail")
        never = self.take_fault("never-finish") is not None
        return dict(polls=0, target=self.polls, fail=fail, never=never)

    def new_job_id(self):
        job_id = self.ID_PREFIX + uuid.uuid4().hex[:16]
        self.jobs[job_id] = self.new_job()
        return job_id

    def control(self, spec, handler):
        super().control(spec, handler)
        for job_id in filter(None, [spec.get("create_job")]):
            self.jobs[job_id] = self.new_job()

    def stats(self):
        return dict(super().stats(), jobs={
            k: {"polls": v["polls"]} for k, v in self.jobs.items()})


def routes(*entries):
    """A fake's ROUTES: the clip's, then (method, path expression, name)
    of each of @entries, answered by the method of that name."""
    return fakelib.CLIP_ROUTES + tuple((m, p, n, n) for m, p, n in entries)


class JobHandler(fakelib.Handler):
    KEY_SCHEME = "Bearer"

    def do_PUT(self):
        self.dispatch()

    def auth_ok(self):
        key = self.state.api_key
        return key is not None and \
            self.headers.get("Authorization") == self.KEY_SCHEME + " " + key

    def check_auth(self):
        with LOCK:
            forced = self.state.take_fault("401") is not None
        if forced or not self.auth_ok():
            self.send_error_json(401, "Unauthorized", "invalid API key")
            return False
        return True

    # --- uploads ---

    def upload_faults(self):
        """False when an upload fault answered for the route."""
        slow, u503 = self.take_faults("upload-slow", "upload-503")
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        if u503 is not None:
            self.send_error_json(503, "ServiceUnavailable", "busy")
            return False
        self.api_delay()
        return True

    FILES = "/_files/"

    def store_media(self, data, record, name=None):
        """Keeps @data, served at the URL returned (FILES + name); @record
        goes into the uploads."""
        name = name or uuid.uuid4().hex[:16]
        url = self.base() + self.FILES + name
        with LOCK:
            self.state.media[name] = data
            record = dict(record, size=len(data), url=url)
            self.state.uploads.append(record)
        return url

    def media(self, name):
        with LOCK:
            data = self.state.media.get(name)
        if data is None:
            self.send_error_json(404, "NotFound", "no such file")
        else:
            self.send_raw(200, data, "application/octet-stream")

    # --- submits ---

    def submit_faulted(self, record):
        """Records the submit; True when a fault answered it (or left it
        unanswered). The job exists after a drop, a 202 or a malformed
        answer."""
        with LOCK:
            self.state.submits.append(dict(record, auth_ok=self.auth_ok()))
        if not self.check_auth():
            return True
        hang, drop, s500, s503, s202, smal = self.take_faults(
            "submit-hang", "submit-drop", "submit-500", "submit-503",
            "submit-202", "submit-malformed")
        with LOCK:
            if drop is not None or s202 is not None or smal is not None:
                self.state.new_job_id()
        if self.swallow_submit(hang, drop):
            return True
        self.api_delay()
        if s500 is not None or s503 is not None:
            status = 500 if s500 is not None else 503
            self.send_error_json(status, "InternalError", "upstream trouble")
        elif s202 is not None:
            self.send_json(202, {})
        elif smal is not None:
            self.send_raw(200, b'{"request_id":', "application/json")
        else:
            return False
        return True

    # --- polls ---

    def poll_job(self, job_id, malformed):
        """The job after one more poll, or None when a fault or a 404
        answered."""
        if not self.check_auth():
            return None
        fired = self.take_poll_fault("poll", ("poll-404",))
        if fired and fired[0] != "poll-404" and \
                self.answer_poll_fault(fired, malformed):
            return None
        self.api_delay()
        with LOCK:
            job = self.state.jobs.get(job_id)
            if job is not None and not (fired and fired[0] == "poll-404"):
                job["polls"] += 1
                return job
        self.send_error_json(404, "NotFound", "no such job")
        return None

    @staticmethod
    def job_phase(job):
        """"queued", "running", "failed" or "done"."""
        if job["polls"] <= 1 and (job["never"] or job["target"] > 0):
            return "queued"
        if job["never"] or job["polls"] <= job["target"]:
            return "running"
        return "failed" if job["fail"] is not None else "done"


def main(state_class, handler_class, doc):
    ap = fakelib.arg_parser(doc, api_key=True)
    fakelib.serve(handler_class, state_class(ap.parse_args()))
