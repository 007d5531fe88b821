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

Newer ComfyUI routes, each of which an older server lacks (404): the
preflight's GET /object_info/<class> (every class exists but those named
by the "missing-node" fault: {} for them, as ComfyUI answers an unknown
class) and GET /models/<folder> (MODELS below, less the "missing-model"
fault's file; 404 for an unknown folder), and the atomic
POST /api/jobs/<id>/cancel (404 for an unknown job). {"lacks": ["jobs",
"object_info", "models"]} (or --lacks NAME) makes them 404, as an older
ComfyUI.

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
prompt-malformed, prompt-hang (queued, never answered), submit-drop
(queued, then the connection is closed without any answer), job-error
("message"), job-interrupted, never-finish, hold-queued (the next job
stays pending for ever), download-reset, download-truncated, download-404,
hostile-output ("filename", "subfolder"), upload-rename (always renames),
upload-hostile ("name", "subfolder"), upload-slow ("seconds"), upload-500,
missing-model ("name", default the default workflow's diffusion model),
missing-node ("class").
"times" counts how often a fault fires (default: always).

GET /ws?clientId=<id> is ComfyUI's websocket (RFC 6455). Like ComfyUI it
greets with a "status" message; then, at each history poll of a running
job queued under that client id, it sends "progress" {value, max: 20,
prompt_id} rising to 20 when the job is done, followed by "executing" with
node null. On a job's first poll it also sends "execution_start", a
binary preview frame of 256 KiB, a progress of another prompt (to be
ignored) and a ping ("wanr2v-ping"), whose pong is recorded. Websocket
faults: ws-404 (the upgrade is refused), ws-drop (the connection is closed
after the first poll's frames), ws-oversize (a frame announced at 64 MiB).
{"finish_job": "<id>", "after": n} makes an existing job finish after n
more polls (and not run for ever).

GET /_stats answers what was received: counts per route, the uploads (with
the PNG's width and height), the submitted bodies, the interrupt bodies, the
deleted ids, the /api/jobs cancels, the /object_info classes and /models
folders asked for, the /view queries, the jobs and the websockets (client id,
pongs, close codes, unmasked frames, whether it is still open).
"""

import base64
import hashlib
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib  # noqa: E402  (the tests' folder, from any working directory)

STATE_LOCK = fakelib.LOCK
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_STEPS = 20

# what GET /models/<folder> lists: the shipped workflow's files and the
# Phantom-Wan test workflow's
MODELS = {
    "diffusion_models": ["wan2.1_vace_1.3B_fp16.safetensors",
                         "wan2.1_vace_14B_fp16.safetensors",
                         "phantom_wan_14B_fp16.safetensors"],
    "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
    "vae": ["wan_2.1_vae.safetensors"],
    "checkpoints": [],
    "loras": [],
    "clip_vision": [],
}
DEFAULT_MISSING_MODEL = "wan2.1_vace_1.3B_fp16.safetensors"


class State(fakelib.State):
    RECORDS = ("uploads", "prompts", "interrupts", "deletes", "views",
               "cancels", "object_info", "models")

    def __init__(self, args):
        self.save_uploads = args.save_uploads
        self.default_lacks = set(args.lacks or [])
        super().__init__(args)

    def reset(self):
        super().reset()
        self.inputs = set()        # names in ComfyUI's input folder
        self.jobs = {}
        self.number = 0
        self.ws_log = []           # one record per websocket
        self.ws_clients = {}       # client id -> WsConn (the last one)
        self.lacks = set(self.default_lacks)  # newer routes it has not

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

    def control(self, spec, handler):
        super().control(spec, handler)
        if "create_job" in spec:
            job = self.new_job(spec["create_job"])
            if spec.get("running"):
                # somebody else's job, busy on the GPU
                job["polls"] = 1
                job["never"] = True
        if "lacks" in spec:
            self.lacks = set(spec["lacks"])
        if spec.get("forget_jobs"):
            self.jobs = {}
        if "finish_job" in spec:
            job = self.jobs.get(spec["finish_job"])
            if job is not None:
                job["never"] = False
                job["target"] = job["polls"] + int(spec.get("after", 1))

    def stats(self):
        stats = super().stats()
        stats["jobs"] = {k: {"polls": v["polls"], "deleted": v["deleted"],
                             "client_id": v["client_id"]}
                         for k, v in self.jobs.items()}
        stats["websockets"] = [dict(w, pongs=list(w["pongs"]),
                                    closes=list(w["closes"]))
                               for w in self.ws_log]
        return stats


STATE = None


def png_size(data):
    """(width, height) from a PNG's IHDR, or (0, 0)."""
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and \
            data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return (0, 0)



class WsConn:
    """The server side of one websocket: frames out (from any thread),
    the client's frames in (on the handler's thread)."""

    def __init__(self, sock, record):
        self.sock = sock
        self.record = record
        self.send_lock = threading.Lock()
        self.open = True

    def send_frame(self, opcode, payload, length=None):
        n = len(payload) if length is None else length
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack(">H", n)
        else:
            head += bytes([127]) + struct.pack(">Q", n)
        with self.send_lock:
            if not self.open:
                return
            try:
                self.sock.sendall(head + payload)
            except OSError:
                self.open = False

    def send_json(self, obj):
        self.send_frame(0x1, json.dumps(obj).encode())

    def drop(self):
        with self.send_lock:
            self.open = False
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def serve(self):
        # the client's frames: pongs and a close, masked as RFC 6455 wants
        self.sock.settimeout(None)
        try:
            while True:
                b0, b1 = self.recv_exact(2)
                n = b1 & 0x7f
                if n == 126:
                    n = struct.unpack(">H", self.recv_exact(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self.recv_exact(8))[0]
                mask = self.recv_exact(4) if b1 & 0x80 else None
                payload = self.recv_exact(n)
                if mask is None:
                    with STATE_LOCK:
                        self.record["unmasked"] += 1
                else:
                    payload = bytes(c ^ mask[i % 4]
                                    for i, c in enumerate(payload))
                op = b0 & 0x0f
                with STATE_LOCK:
                    if op == 0xa:
                        self.record["pongs"].append(
                            payload.decode("utf-8", "replace"))
                    elif op == 0x8:
                        self.record["closes"].append(
                            struct.unpack(">H", payload[:2])[0]
                            if len(payload) >= 2 else 1005)
                if op == 0x8:
                    self.send_frame(0x8, payload[:2])
                    break
        except (EOFError, OSError, ValueError):
            pass
        with self.send_lock:
            self.open = False
        with STATE_LOCK:
            self.record["open"] = False


def ws_frames(job, done, first):
    """What ComfyUI would have sent a job's client since the last poll."""
    pid = job["id"]
    frames = []
    if first:
        frames.append((0x1, {"type": "execution_start",
                             "data": {"prompt_id": pid, "timestamp": 1}}))
        frames.append((0x1, {"type": "executing",
                             "data": {"node": "9", "display_node": "9",
                                      "prompt_id": pid}}))
        # a preview: 4-byte event type, 4-byte format, then a JPEG; above
        # libsoup's default cap of 128 KiB, as ComfyUI's often are
        frames.append((0x2, struct.pack(">II", 1, 1) +
                       b"\xff\xd8\xff\xe0" + bytes(256 * 1024)))
        frames.append((0x1, {"type": "progress",
                             "data": {"value": 99, "max": 100,
                                      "prompt_id": "someone-else",
                                      "node": "3"}}))
        frames.append((0x9, b"wanr2v-ping"))
    if done:
        value = WS_STEPS
    else:
        value = min(WS_STEPS - 1,
                    job["polls"] * WS_STEPS // (job["target"] + 1))
    frames.append((0x1, {"type": "progress",
                         "data": {"value": value, "max": WS_STEPS,
                                  "prompt_id": pid, "node": "9"}}))
    if done:
        frames.append((0x1, {"type": "executing",
                             "data": {"node": None, "prompt_id": pid}}))
    return frames



class Handler(fakelib.Handler):
    server_version = "FakeComfyUI/1.0"
    LOG_NAME = "comfyui"

    def error_json(self, status, code, message):
        return {"error": message}

    # --- routes ---

    ROUTES = (
        ("GET", r"/history/([^/]+)", "history", "history"),
        ("GET", r"/queue", "queue", "queue_get"),
        ("GET", r"/view", "view", "view"),
        ("GET", r"/ws", "ws", "websocket"),
        ("POST", r"/upload/image", "upload", "upload"),
        ("POST", r"/prompt", "prompt", "prompt"),
        ("POST", r"/interrupt", "interrupt", "interrupt"),
        ("POST", r"/queue", "queue-post", "queue_post"),
        ("GET", r"/object_info/([^/]+)", "object_info", "object_info"),
        ("GET", r"/models/([^/]+)", "models", "models"),
        ("POST", r"/api/jobs/([^/]+)/cancel", "jobs-cancel", "jobs_cancel"),
    )

    def lacks(self, route):
        """True (and a 404 sent) when this server is too old for @route."""
        with STATE_LOCK:
            missing = route in STATE.lacks
        if missing:
            self.send_raw(404, b"404: Not Found", "text/plain")
        return missing

    def asked_for(self, route, value, fault):
        """Records @value (unquoted) in the stats' list @route; returns it
        and the fault @fault, or None for it when this server lacks @route
        (a 404 sent)."""
        value = urllib.parse.unquote(value)
        with STATE_LOCK:
            getattr(STATE, route).append(value)
            gone = STATE.faults.get(fault)
        if self.lacks(route):
            return None, None
        return value, gone

    def object_info(self, node_class):
        node_class, gone = self.asked_for("object_info", node_class,
                                          "missing-node")
        if node_class is None:
            return
        if gone is not None and gone.get("class") == node_class:
            self.send_json(200, {})
            return
        self.send_json(200, {node_class: {
            "input": {"required": {}}, "output": [], "name": node_class,
            "display_name": node_class, "category": "fake"}})

    def models(self, folder):
        folder, gone = self.asked_for("models", folder, "missing-model")
        if folder is None:
            return
        if folder not in MODELS:
            self.send_raw(404, b"404: Not Found", "text/plain")
            return
        missing = gone.get("name", DEFAULT_MISSING_MODEL) if gone else None
        self.send_json(200, [m for m in MODELS[folder] if m != missing])

    def jobs_cancel(self, job_id):
        job_id = urllib.parse.unquote(job_id)
        self.read_body()
        with STATE_LOCK:
            STATE.cancels.append(job_id)
        if self.lacks("jobs"):
            return
        with STATE_LOCK:
            job = STATE.jobs.get(job_id)
            if job is not None and not STATE.done(job):
                # atomic: out of the queue, or interrupted if it runs
                job["deleted"] = True
        if job is None:
            self.send_json(404, {"error": "job not found"})
            return
        self.send_json(200, {"id": job_id, "status": "cancelled"})

    def interrupt(self):
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

    def upload(self):
        body = self.read_body()
        slow, rename, hostile, u500 = self.take_faults(
            "upload-slow", "upload-rename", "upload-hostile", "upload-500")
        if u500 is not None:
            self.send_json(500, {"error": "upload trouble"})
            return
        if slow is not None:
            time.sleep(float(slow.get("seconds", 30)))
        self.api_delay()
        parts = self.multipart(body)
        if parts is None:
            self.send_json(400, {"error": "expected multipart/form-data"})
            return
        image = next((p for p in parts if p["name"] == "image"), None)
        if image is None or not image.get("filename"):
            self.send_raw(400, b"", "text/plain")
            return
        fields = fakelib.form_fields(parts)
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
        parsed = self.read_json()
        with STATE_LOCK:
            STATE.prompts.append(parsed)
            hang = STATE.take_fault("prompt-hang")
            drop = STATE.take_fault("submit-drop")
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
        # queued, but the answer never comes (or the connection closes)
        if self.swallow_submit(hang, drop):
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
        fired = self.take_poll_fault("history")
        with STATE_LOCK:
            job = STATE.jobs.get(job_id)
            if job is not None and not fired:
                job["polls"] += 1
            done = job is not None and STATE.done(job)
            hostile = STATE.faults.get("hostile-output")
            ws, frames = None, []
            if job is not None and not fired and not job["deleted"] and \
                    not job.get("held") and job["client_id"]:
                ws = STATE.ws_clients.get(job["client_id"])
            if ws is not None:
                frames = ws_frames(job, done, not ws.record["started"])
                ws.record["started"] = True
        # before the answer, so that the client has them when it reads
        for opcode, payload in frames:
            if isinstance(payload, dict):
                ws.send_json(payload)
            else:
                ws.send_frame(opcode, payload)
        if ws is not None and ws.record["fault"] == "ws-drop":
            ws.drop()
        if ws is not None and ws.record["fault"] == "ws-oversize":
            ws.send_frame(0x1, b"{}", length=64 * 1024 * 1024)
        if fired and self.answer_poll_fault(
                fired, b'{"%s": {"status": ' % job_id.encode()):
            return
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

    def websocket(self):
        query = self.query()
        client_id = (query.get("clientId") or [""])[0]
        with STATE_LOCK:
            refuse = STATE.take_fault("ws-404")
            fault = None
            for name in ("ws-drop", "ws-oversize"):
                if STATE.take_fault(name) is not None:
                    fault = name
            record = {"client_id": client_id, "refused": refuse is not None,
                      "pongs": [], "closes": [], "unmasked": 0,
                      "open": False, "started": False, "fault": fault}
            STATE.ws_log.append(record)
        key = self.headers.get("Sec-WebSocket-Key", "")
        if refuse is not None:
            # an old ComfyUI, or a proxy that does not pass websockets
            self.send_json(404, {"error": "no such route"})
            return
        try:
            key_ok = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            key_ok = False
        if self.headers.get("Upgrade", "").lower() != "websocket" or \
                "upgrade" not in self.headers.get("Connection", "").lower() \
                or self.headers.get("Sec-WebSocket-Version") != "13" or \
                not key_ok:
            record["refused"] = True
            self.send_json(400, {"error": "not a websocket upgrade"})
            return
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID)
                                  .digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        # the frames are sent before the history answer, while the client
        # does not read: the preview must fit in the socket's buffers
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF,
                                   1024 * 1024)
        conn = WsConn(self.connection, record)
        with STATE_LOCK:
            record["open"] = True
            # as ComfyUI: a reconnect with the same id replaces the old one
            STATE.ws_clients[client_id] = conn
            queued = sum(1 for j in STATE.jobs.values()
                         if not STATE.done(j) and not j["deleted"])
        conn.send_json({"type": "status",
                        "data": {"status": {"exec_info":
                                            {"queue_remaining": queued}},
                                 "sid": client_id}})
        conn.serve()
        with STATE_LOCK:
            if STATE.ws_clients.get(client_id) is conn:
                del STATE.ws_clients[client_id]

    def view(self):
        query = self.query()
        q = {k: v[0] for k, v in query.items()}
        with STATE_LOCK:
            STATE.views.append(q)
            outputs = [j["output"] for j in STATE.jobs.values() if j["output"]]
            faults = {k: STATE.take_fault("download-" + k)
                      for k in ("reset", "truncated")}
            gone = STATE.take_fault("download-404")
        wanted = (q.get("filename"), q.get("subfolder", ""))
        if gone is not None or q.get("type") != "output" or \
                wanted not in outputs:
            self.send_raw(404, b"404: Not Found", "text/plain")
            return
        self.send_clip(faults)


def main():
    global STATE
    ap = fakelib.arg_parser(__doc__)
    ap.add_argument("--save-uploads", metavar="DIR",
                    help="keep a copy of each uploaded image in DIR")
    ap.add_argument("--lacks", action="append",
                    choices=("jobs", "object_info", "models"),
                    help="a newer route this server does not have (404)")
    STATE = State(ap.parse_args())
    fakelib.serve(Handler, STATE)


if __name__ == "__main__":
    main()
