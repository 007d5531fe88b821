#!/usr/bin/env python3
"""A fake ComfyUI server for the tests (standard library only).

Implements the routes the comfyui engine uses, as described in
docs/providers.md ("ComfyUI"): POST /upload/image (multipart, field
"image", renames on a name conflict unless overwrite is true, as ComfyUI
does), POST /prompt (checks that every placeholder was filled in and that
LoadImage names an uploaded image), GET /history/<id> ({} until the job is
done), GET /queue, POST /queue {"delete": [...]}, POST /interrupt and
GET /view (serves --result-mp4). It listens on 127.0.0.1 on a random port
and prints "PORT <n>".

Faults are switched on with POST /_control (or --fault NAME[:TIMES]):
  {"fault": "history-500", "times": 2}  500 on the next two history polls
  {"reset": true}                        no faults, counters zeroed
  {"polls": 3}                           history polls answered {} first
  {"delay_ms": 300}                      every API answer comes late
  {"create_job": "<id>"}                 a job that exists without a submit
  {"create_job": "<id>", "running": true}  ... and runs for ever
  {"forget_jobs": true}                  ComfyUI "restarted": jobs are gone

Fault names: history-500, history-malformed, history-slow ("seconds"),
queue-500, prompt-400 (a missing model in node_errors), prompt-500,
prompt-malformed, prompt-hang (queued, never answered), job-error
("message"), job-interrupted, never-finish, hold-queued (the next job
stays pending for ever), download-reset, download-truncated, download-404,
hostile-output ("filename", "subfolder"), upload-rename (always renames),
upload-hostile ("name", "subfolder"), upload-slow ("seconds"), upload-500.
"times" counts how often a fault fires (default: always).

GET /_stats answers what was received: counts per route, the uploads (with
the PNG's width and height), the submitted bodies, the interrupt bodies, the
deleted ids, the /view queries and the jobs.
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
from urllib.parse import parse_qs, urlsplit

STATE_LOCK = threading.Lock()


class State:
    def __init__(self, args):
        self.result_mp4 = args.result_mp4
        self.default_polls = args.polls
        self.save_uploads = args.save_uploads
        self.reset()
        for spec in args.fault or []:
            name, _, times = spec.partition(":")
            self.add_fault({"fault": name,
                            "times": int(times) if times else -1})

    def reset(self):
        self.faults = {}
        self.delay_ms = 0
        self.polls = self.default_polls
        self.counts = {}
        self.uploads = []
        self.inputs = set()        # names in ComfyUI's input folder
        self.prompts = []
        self.interrupts = []
        self.deletes = []
        self.views = []
        self.jobs = {}
        self.number = 0

    def add_fault(self, spec):
        params = dict(spec)
        params["times"] = spec.get("times", -1)
        self.faults[spec["fault"]] = params

    def take_fault(self, name):
        f = self.faults.get(name)
        if f is None or f["times"] == 0:
            return None
        if f["times"] > 0:
            f["times"] -= 1
        return f

    def count(self, route):
        self.counts[route] = self.counts.get(route, 0) + 1

    def new_job(self, job_id, prompt=None, client_id=None):
        self.number += 1
        job = {"id": job_id, "number": self.number, "polls": 0,
               "target": self.polls, "prompt": prompt or {},
               "client_id": client_id, "deleted": False, "error": None,
               "interrupted": False, "never": False, "output": None}
        f = self.take_fault("job-error")
        if f is not None:
            job["error"] = f.get("message", "CUDA out of memory")
        if self.take_fault("job-interrupted") is not None:
            job["interrupted"] = True
        if self.take_fault("never-finish") is not None:
            job["never"] = True
        if self.take_fault("hold-queued") is not None:
            # waits behind another job for ever
            job["held"] = True
            job["never"] = True
        self.jobs[job_id] = job
        return job

    def done(self, job):
        return (not job["never"] and not job["deleted"]
                and job["polls"] > job["target"])


STATE = None


def png_size(data):
    """(width, height) from a PNG's IHDR, or (0, 0)."""
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and \
            data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return (0, 0)


def parse_multipart(body, boundary):
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeComfyUI/1.0"

    def log_message(self, fmt, *args):
        if os.environ.get("FAKE_COMFYUI_VERBOSE"):
            sys.stderr.write("fake-comfyui: " + (fmt % args) + "\n")

    # --- helpers ---

    def record(self, route):
        with STATE_LOCK:
            STATE.count(route)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj):
        self.send_raw(status, json.dumps(obj).encode(), "application/json")

    def send_raw(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def api_delay(self):
        with STATE_LOCK:
            d = STATE.delay_ms
        if d:
            time.sleep(d / 1000.0)

    def reset_connection(self):
        # SO_LINGER 0: close() sends a RST instead of a FIN
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # --- routes ---

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path == "/_stats":
            with STATE_LOCK:
                stats = {
                    "counts": dict(STATE.counts),
                    "uploads": list(STATE.uploads),
                    "prompts": list(STATE.prompts),
                    "interrupts": list(STATE.interrupts),
                    "deletes": list(STATE.deletes),
                    "views": list(STATE.views),
                    "jobs": {k: {"polls": v["polls"], "deleted": v["deleted"],
                                 "client_id": v["client_id"]}
                             for k, v in STATE.jobs.items()},
                }
            self.send_json(200, stats)
            return
        m = re.fullmatch(r"/history/([^/]+)", path)
        if m:
            self.record("history")
            self.history(m.group(1))
            return
        if path == "/queue":
            self.record("queue")
            self.queue_get()
            return
        if path == "/view":
            self.record("view")
            self.view(parse_qs(url.query, keep_blank_values=True))
            return
        self.record("other")
        self.send_json(404, {"error": "no such route"})

    def do_POST(self):
        path = urlsplit(self.path).path
        if path == "/_control":
            self.control()
            return
        if path == "/upload/image":
            self.record("upload")
            self.upload()
            return
        if path == "/prompt":
            self.record("prompt")
            self.prompt()
            return
        if path == "/interrupt":
            self.record("interrupt")
            body = self.read_body()
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = None
            with STATE_LOCK:
                STATE.interrupts.append(parsed)
                pid = (parsed or {}).get("prompt_id")
                job = STATE.jobs.get(pid)
                if job is not None and not STATE.done(job):
                    job["deleted"] = True
            self.send_raw(200, b"", "text/plain")
            return
        if path == "/queue":
            self.record("queue-post")
            self.queue_post()
            return
        self.record("other")
        self.read_body()
        self.send_json(404, {"error": "no such route"})

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
                job = STATE.new_job(spec["create_job"])
                if spec.get("running"):
                    # somebody else's job, busy on the GPU
                    job["polls"] = 1
                    job["never"] = True
            if spec.get("forget_jobs"):
                STATE.jobs = {}
        self.send_json(200, {"ok": True})

    def upload(self):
        body = self.read_body()
        with STATE_LOCK:
            slow = STATE.take_fault("upload-slow")
            rename = STATE.take_fault("upload-rename")
            hostile = STATE.take_fault("upload-hostile")
            u500 = STATE.take_fault("upload-500")
        if u500 is not None:
            self.send_json(500, {"error": "upload trouble"})
            return
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        self.api_delay()
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/form-data") or not m:
            self.send_json(400, {"error": "expected multipart/form-data"})
            return
        parts = parse_multipart(body, m.group(1).encode())
        image = next((p for p in parts if p["name"] == "image"), None)
        if image is None or not image.get("filename"):
            self.send_raw(400, b"", "text/plain")
            return
        fields = {p["name"]: p["data"].decode("utf-8", "replace")
                  for p in parts if p["filename"] is None}
        overwrite = fields.get("overwrite", "").lower() in ("true", "1")
        name = os.path.basename(image["filename"])
        with STATE_LOCK:
            # ComfyUI: "name (1).png", "name (2).png", ... unless overwrite
            if rename is not None or (name in STATE.inputs and not overwrite):
                stem, ext = os.path.splitext(name)
                i = 1
                while "%s (%d)%s" % (stem, i, ext) in STATE.inputs:
                    i += 1
                name = "%s (%d)%s" % (stem, i, ext)
            subfolder = ""
            if hostile is not None:
                name = hostile.get("name", "../evil.png")
                subfolder = hostile.get("subfolder", "")
            else:
                STATE.inputs.add(name)
            w, h = png_size(image["data"])
            if STATE.save_uploads:
                with open(os.path.join(STATE.save_uploads,
                                       "%d.png" % len(STATE.uploads)),
                          "wb") as f:
                    f.write(image["data"])
            STATE.uploads.append({"filename": image["filename"],
                                  "name": name,
                                  "content_type": image["content_type"],
                                  "size": len(image["data"]),
                                  "width": w, "height": h,
                                  "fields": sorted(p["name"] for p in parts),
                                  "overwrite": fields.get("overwrite")})
        self.send_json(200, {"name": name, "subfolder": subfolder,
                             "type": "input"})

    def prompt(self):
        body = self.read_body()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with STATE_LOCK:
            STATE.prompts.append(parsed)
            hang = STATE.take_fault("prompt-hang")
            p400 = STATE.take_fault("prompt-400")
            p500 = STATE.take_fault("prompt-500")
            pmal = STATE.take_fault("prompt-malformed")
        self.api_delay()
        if not isinstance(parsed, dict) or \
                not isinstance(parsed.get("prompt"), dict):
            self.send_json(400, {"error": {"type": "invalid_prompt",
                                           "message": "Prompt is not a dict",
                                           "details": "", "extra_info": {}},
                                 "node_errors": {}})
            return
        graph = parsed["prompt"]
        node_errors = {}
        for node_id, node in graph.items():
            errors = []
            for key, value in (node.get("inputs") or {}).items():
                if "{{" in json.dumps(value):
                    errors.append({"type": "value_not_valid",
                                   "message": "Unfilled placeholder",
                                   "details": "%s: %s" % (key,
                                                          json.dumps(value)),
                                   "extra_info": {}})
            if node.get("class_type") == "LoadImage":
                image = (node.get("inputs") or {}).get("image")
                with STATE_LOCK:
                    known = image in STATE.inputs
                if isinstance(image, str) and not known and \
                        "{{" not in image:
                    errors.append({"type": "value_not_in_list",
                                   "message": "Value not in list",
                                   "details": "image: '%s' not in [...]"
                                              % image,
                                   "extra_info": {}})
            if errors:
                node_errors[node_id] = {"errors": errors,
                                        "dependent_outputs": [],
                                        "class_type": node.get("class_type")}
        if p400 is not None:
            node_errors["1"] = {
                "errors": [{"type": "value_not_in_list",
                            "message": "Value not in list",
                            "details": "unet_name: 'wan2.1_vace_1.3B_fp16."
                                       "safetensors' not in []",
                            "extra_info": {}}],
                "dependent_outputs": ["13"], "class_type": "UNETLoader"}
        if node_errors:
            self.send_json(400, {"error": {
                "type": "prompt_outputs_failed_validation",
                "message": "Prompt outputs failed validation",
                "details": "", "extra_info": {}},
                "node_errors": node_errors})
            return
        if p500 is not None:
            self.send_raw(500, b"500 Internal Server Error", "text/plain")
            return
        job_id = str(uuid.uuid4())
        with STATE_LOCK:
            job = STATE.new_job(job_id, graph, parsed.get("client_id"))
        if hang is not None:
            # queued, but the answer never comes
            time.sleep(float(hang.get("seconds", 3600)))
            return
        if pmal is not None:
            self.send_raw(200, b'{"prompt_id": ', "application/json")
            return
        self.send_json(200, {"prompt_id": job_id, "number": job["number"],
                             "node_errors": {}})

    def queue_entries(self):
        running, pending = [], []
        for job in STATE.jobs.values():
            if STATE.done(job) or job["deleted"]:
                continue
            entry = [job["number"], job["id"], job["prompt"],
                     {"client_id": job["client_id"]}, ["13"]]
            held = job.get("held", False)
            (running if job["polls"] >= 1 and not held
             else pending).append(entry)
        return running, pending

    def queue_get(self):
        with STATE_LOCK:
            fail = STATE.take_fault("queue-500")
            running, pending = self.queue_entries()
        self.api_delay()
        if fail is not None:
            self.send_json(500, {"error": "queue trouble"})
            return
        self.send_json(200, {"queue_running": running,
                             "queue_pending": pending})

    def queue_post(self):
        try:
            parsed = json.loads(self.read_body() or b"{}")
        except ValueError:
            self.send_raw(400, b"", "text/plain")
            return
        with STATE_LOCK:
            for job_id in parsed.get("delete", []):
                STATE.deletes.append(job_id)
                job = STATE.jobs.get(job_id)
                # as ComfyUI: only a pending job leaves the queue
                if job is not None and not STATE.done(job) and \
                        (job["polls"] < 1 or job.get("held")):
                    job["deleted"] = True
        self.send_raw(200, b"", "text/plain")

    def history(self, job_id):
        with STATE_LOCK:
            fired = None
            for name in ("history-500", "history-malformed", "history-slow"):
                f = STATE.take_fault(name)
                if f is not None:
                    fired = (name, f)
                    break
            job = STATE.jobs.get(job_id)
            if job is not None and not fired:
                job["polls"] += 1
            done = job is not None and STATE.done(job)
            hostile = STATE.faults.get("hostile-output")
        if fired:
            name, f = fired
            if name == "history-500":
                self.send_json(500, {"error": "upstream trouble"})
                return
            if name == "history-malformed":
                self.send_raw(200, b'{"%s": {"status": ' % job_id.encode(),
                              "application/json")
                return
            time.sleep(float(f.get("seconds", 30)))
        self.api_delay()
        if not done:
            self.send_json(200, {})
            return
        messages = [["execution_start", {"prompt_id": job_id,
                                         "timestamp": 1}],
                    ["execution_cached", {"nodes": [], "prompt_id": job_id,
                                          "timestamp": 2}]]
        entry = {"prompt": [job["number"], job_id, job["prompt"], {}, ["13"]],
                 "outputs": {}, "meta": {}}
        if job["error"] is not None:
            messages.append(["execution_error", {
                "prompt_id": job_id, "node_id": "9", "node_type": "KSampler",
                "executed": ["1", "2", "3"],
                "exception_message": job["error"] + "\n",
                "exception_type": "torch.OutOfMemoryError",
                "traceback": ["..."], "current_inputs": {},
                "current_outputs": {}, "timestamp": 3}])
            entry["status"] = {"status_str": "error", "completed": False,
                               "messages": messages}
        elif job["interrupted"]:
            messages.append(["execution_interrupted", {
                "prompt_id": job_id, "node_id": "9", "node_type": "KSampler",
                "executed": [], "timestamp": 3}])
            entry["status"] = {"status_str": "error", "completed": False,
                               "messages": messages}
        else:
            filename, subfolder = "wanr2v_00001_.mp4", ""
            if hostile is not None:
                filename = hostile.get("filename", filename)
                subfolder = hostile.get("subfolder", subfolder)
            job["output"] = (filename, subfolder)
            messages.append(["execution_success", {"prompt_id": job_id,
                                                   "timestamp": 4}])
            entry["outputs"] = {
                "13": {"images": [{"filename": filename,
                                   "subfolder": subfolder,
                                   "type": "output"}],
                       "animated": [True]}}
            entry["status"] = {"status_str": "success", "completed": True,
                               "messages": messages}
        self.send_json(200, {job_id: entry})

    def view(self, query):
        q = {k: v[0] for k, v in query.items()}
        with STATE_LOCK:
            STATE.views.append(q)
            outputs = [j["output"] for j in STATE.jobs.values() if j["output"]]
            reset = STATE.take_fault("download-reset")
            trunc = STATE.take_fault("download-truncated")
            gone = STATE.take_fault("download-404")
        wanted = (q.get("filename"), q.get("subfolder", ""))
        if gone is not None or q.get("type") != "output" or \
                wanted not in outputs:
            self.send_raw(404, b"404: Not Found", "text/plain")
            return
        with open(STATE.result_mp4, "rb") as f:
            data = f.read()
        if trunc is not None:
            data = data[: len(data) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if reset is not None:
            self.wfile.write(data[: len(data) // 2])
            self.reset_connection()
            return
        self.wfile.write(data)


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--result-mp4", required=True)
    ap.add_argument("--polls", type=int, default=2,
                    help="history polls answered {} before the job is done")
    ap.add_argument("--save-uploads", metavar="DIR",
                    help="keep a copy of each uploaded image in DIR")
    ap.add_argument("--fault", action="append",
                    help="NAME[:TIMES], as with /_control")
    args = ap.parse_args()
    STATE = State(args)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
