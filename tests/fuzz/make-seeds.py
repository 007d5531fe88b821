#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/.

Seeds are the answers the fake servers and the real services give (as
documented in docs/providers.md), plus the hostile shapes the engines must
refuse. Run it again after adding a seed here; libFuzzer finds the rest.
Crash reproducers are added to the corpus directories by hand (named
crash-*), and replayed by `meson test --suite fuzz-corpus` from then on.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PID = "3f1e2d4c-0000-4000-8000-000000000001"
CID = "wanr2v-0123456789abcdef"


def env(data, code=200, message="success"):
    return {"code": code, "message": message, "data": data}


SEEDS = {
    "fuzz-wavespeed": {
        "submit": env({"id": "pred_0123456789abcdef", "model": "alibaba/wan-2.7/reference-to-video",
                       "status": "created", "urls": {"get": "https://api.wavespeed.ai/api/v3/predictions/x/result"}}),
        "poll-created": env({"id": "pred_1", "status": "created", "outputs": []}),
        "poll-processing": env({"id": "pred_1", "status": "processing", "outputs": []}),
        "poll-completed": env({"id": "pred_1", "status": "completed",
                               "outputs": ["https://cdn.example.com/a/b.mp4?Expires=1&Signature=x"],
                               "timings": {"inference": 2500}}),
        "poll-failed": env({"id": "pred_1", "status": "failed", "code": 1200, "error": "moderation"}),
        "poll-failed-code-string": env({"id": "pred_1", "status": "failed", "code": "1402", "error": "x"}),
        "envelope-401": {"code": 401, "message": "invalid key"},
        "envelope-code-string": {"code": "429", "message": "slow down", "data": None},
        "upload": env({"type": "video", "download_url": "https://cdn.example.com/media/v.mp4",
                       "filename": "video1.mp4", "size": 1234}),
        "output-ftp": env({"status": "completed", "outputs": ["ftp://127.0.0.1/x.mp4"]}),
        "output-file": env({"status": "completed", "outputs": ["file:///etc/passwd"]}),
        "output-http": env({"status": "completed", "outputs": ["http://example.com/x.mp4"]}),
        "odd-id": env({"id": "../../etc/passwd", "status": "created"}),
        "odd-id-2": env({"id": "a/b?c#d%2e", "status": "created"}),
        "code-double": {"code": 1e300, "data": {"code": -1e300}},
        "models": env([{"model_id": "alibaba/wan-2.7/reference-to-video", "api_schema": {"api_schemas": [
            {"request_schema": {"properties": {
                "prompt": {"type": "string"}, "videos": {"type": "array", "maxItems": 3},
                "reference_images": {"type": "array", "maxItems": 2},
                "duration": {"type": "integer", "enum": [5, 10]},
                "resolution": {"type": "string", "enum": ["720p", "1080p"]},
                "seed": {"type": "integer", "minimum": -1, "maximum": 2147483647}},
                "required": ["prompt", "videos"]}}]}}]),
        "schema-range": {"properties": {"duration": {"type": "integer", "minimum": 2, "maximum": 1e400},
                                        "image": {"type": "string"}, "videos": {"type": "string"}},
                         "required": ["prompt", "mask", 3]},
        "ticket": env({"upload": {"method": "PUT", "url": "https://storage.example.com/put/x",
                                  "headers": {"Content-Type": "video/mp4", "X-Bad\r\n": "v", "X-A": "b\r\nc"}},
                       "download_url": "https://cdn.example.com/media/x"}),
        "price": env({"model_id": "m", "price": 1.5, "discounted_price": 1.2}),
        "balance": {"balance": "12"},
        "poll-object-output": env({"status": "completed", "outputs": [{"url": "https://cdn.example.com/x.mp4"}]}),
        "not-object": [1, 2, 3],
    },
    "fuzz-dashscope": {
        "create": {"request_id": "r-1", "output": {"task_id": "0385dc79-5ff8-4d82-bcb6-xxxxxx",
                                                    "task_status": "PENDING"}},
        "poll-running": {"request_id": "r", "output": {"task_id": "t", "task_status": "RUNNING"}},
        "poll-succeeded": {"request_id": "r", "output": {"task_id": "t", "task_status": "SUCCEEDED",
                                                          "video_url": "https://dashscope-result.oss.aliyuncs.com/x.mp4?Expires=1"},
                           "usage": {"duration": 20, "input_video_duration": 5, "output_video_duration": 15}},
        "poll-failed": {"request_id": "r", "output": {"task_id": "t", "task_status": "FAILED",
                                                       "code": "DataInspectionFailed", "message": "bad"}},
        "poll-unknown": {"request_id": "r", "output": {"task_status": "UNKNOWN"}},
        "error": {"request_id": "r", "code": "InvalidApiKey", "message": "Invalid API-key provided."},
        "usage-strings": {"usage": {"duration": "20", "input_video_duration": 1.5e300}},
        "policy": {"request_id": "r", "data": {
            "policy": "eyJleHBpcmF0aW9uIjoiMjAyNS0wMS0wMVQwMDowMDowMFoifQ==",
            "signature": "abc=", "upload_dir": "dashscope-instant/xyz/2025-01-01/abcd",
            "upload_host": "https://dashscope-file-mgr.oss-cn-beijing.aliyuncs.com",
            "expire_in_seconds": 300, "max_file_size_mb": 100, "capacity_limit_mb": 999999999,
            "oss_access_key_id": "LTAI5t", "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true"}},
        "policy-http-host": {"data": {"upload_host": "http://evil.example.com", "upload_dir": "a",
                                      "oss_access_key_id": "k", "signature": "s", "policy": "p"}},
        "policy-dotdot": {"data": {"upload_host": "https://h", "upload_dir": "../../x",
                                   "oss_access_key_id": "k", "signature": "s", "policy": "p"}},
        "policy-newline": {"data": {"upload_host": "https://h", "upload_dir": "a",
                                    "oss_access_key_id": "k", "signature": "s\r\nX-Evil: 1", "policy": "p"}},
    },
    "fuzz-comfyui": {
        "upload": {"name": "wanr2v-0123456789abcdef.png", "subfolder": "", "type": "input"},
        "upload-renamed": {"name": "wanr2v-0123456789abcdef (1).png", "subfolder": "sub", "type": "input"},
        "upload-dotdot": {"name": "../../../etc/passwd", "subfolder": "", "type": "input"},
        "upload-absolute": {"name": "/etc/passwd", "subfolder": "/root", "type": "input"},
        "prompt": {"prompt_id": PID, "number": 3, "node_errors": {}},
        "prompt-400": {"error": {"type": "prompt_outputs_failed_validation",
                                 "message": "Prompt outputs failed validation", "details": "",
                                 "extra_info": {}},
                       "node_errors": {"1": {"errors": [{"type": "value_not_in_list",
                                                         "message": "Value not in list",
                                                         "details": "unet_name: 'x' not in []",
                                                         "extra_info": {}}],
                                             "dependent_outputs": ["9"], "class_type": "UNETLoader"}}},
        "history-empty": {},
        "history-done": {PID: {"prompt": [3, PID, {}, {}, ["9"]],
                               "outputs": {"9": {"images": [{"filename": "wanr2v_00001_.mp4",
                                                             "subfolder": "video", "type": "output"}],
                                                 "animated": [True]}},
                               "status": {"status_str": "success", "completed": True,
                                          "messages": [["execution_start", {"prompt_id": PID}],
                                                       ["progress", {"value": 3, "max": 20}],
                                                       ["execution_success", {"prompt_id": PID}]]}}},
        "history-error": {PID: {"outputs": {},
                                "status": {"status_str": "error", "completed": False,
                                           "messages": [["execution_error", {
                                               "prompt_id": PID, "node_id": "9", "node_type": "KSampler",
                                               "exception_message": "CUDA out of memory",
                                               "exception_type": "torch.OutOfMemoryError"}]]}}},
        "history-interrupted": {PID: {"outputs": {}, "status": {"status_str": "error", "completed": False,
                                                                "messages": [["execution_interrupted", {}]]}}},
        "history-hostile-output": {PID: {"outputs": {"9": {"videos": [{"filename": "../../secret.mp4",
                                                                       "subfolder": "/etc", "type": "../x"}]}},
                                         "status": {"status_str": "success", "completed": True}}},
        "history-progress-huge": {PID: {"status": {"messages": [["progress", {"value": 1e300, "max": -1e300}]]},
                                        "outputs": {}}},
        "queue": {"queue_running": [[1, "aaaa-1", {}, {"client_id": CID}, ["9"]]],
                  "queue_pending": [[5, PID, {}, {"client_id": "other"}, ["9"]],
                                    [3, "bbbb-2", {}, {"client_id": CID}, ["9"]],
                                    [4, "../x", {}, {"client_id": CID}, ["9"]]]},
        "queue-running": {"queue_running": [[1, PID, {}, {}, []]], "queue_pending": []},
    },
    "fuzz-store": {
        "result": {"engine": "wavespeed", "job_id": "pred_1", "source_url": "https://cdn.example.com/a.mp4",
                   "created": 1732550000},
        "journal-submitting": {"engine": "wavespeed", "state": "submitting"},
        "journal-submitted": {"engine": "dashscope", "state": "submitted", "job_id": "t-1",
                              "submitted": 1732550000},
        "journal-empty-id": {"engine": "x", "job_id": "", "submitted": "1"},
        "journal-types": {"engine": 1, "job_id": ["a"], "submitted": 1.5},
    },
}

RAW = {
    "fuzz-wavespeed": {
        "truncated": b'{"code":200,"data":{"status":',
        "deep": b"[" * 100 + b"]" * 100,
        "nul-escape": b'{"code":200,"data":{"id":"a\\u0000b","status":"completed","outputs":["https://x/\\u0000"]}}',
        "surrogate": b'{"message":"\\ud800\\udc00 \\ud800 x","data":{"error":"\\udfff"}}',
        "invalid-utf8": b'{"message":"\xff\xfe","data":{"status":"\xc3"}}',
        "empty": b"",
    },
    "fuzz-dashscope": {
        "truncated": b'{"output":{"task_id":',
        "deep-in-string": b'{"message":"' + b"[{" * 80 + b'"}',
    },
    "fuzz-comfyui": {
        "truncated": b'{"' + PID.encode() + b'":{"status":',
        "deep": b'{"a":' * 70 + b"1" + b"}" * 70,
    },
    "fuzz-prompt": {
        "basic": b"\x09Video 1 dances with Video 2 while holding Image 3",
        "spaced": b"\x1aVIDEO  1 and image\t2 and video3, videos 4",
        "numbers": b"\x3fVideo 999999999 Image 0 video 00001 image4294967295",
        "unicode": "\x12Vidéo 1, Video\u00a01, 视频 1 Video 1".encode(),
        "invalid-utf8": b"\x09Video 1 \xff\xfe Image 2",
        "embedded": b"\x09xVideo 1 Video1x Image2 _Video 1",
        "empty": b"\x00",
    },
    "fuzz-store": {
        "not-object": b"[1,2,3]",
        "truncated": b'{"engine":"wavespeed","job_id":',
        "nul": b'{"engine":"a\x00b"}',
    },
    "fuzz-http": {
        "https": b"https://cdn.example.com/a/b.mp4?Expires=1&Signature=abc#frag",
        "userinfo": b"https://user:pw@cdn.example.com/a.mp4",
        "loopback": b"http://127.0.0.1:8080/x",
        "loopback6": b"http://[::1]:9000/x",
        "zone": b"http://[fe80::1%25lo]/x",
        "ipv4-mapped": b"http://[::ffff:127.0.0.1]/x",
        "plain-http": b"http://example.com/x",
        "tricky-host": b"http://127.0.0.1.example.com/",
        "ftp": b"ftp://127.0.0.1/x",
        "file": b"file:///etc/passwd",
        "json": b'{"a":[1,2,{"b":"c"}],"d":"\\u00e9"}',
        "deep": b"[" * 65 + b"]" * 65,
        "deep-ok": b"[" * 64 + b"]" * 64,
        "string-brackets": b'{"a":"[[[[\\"]]]"}',
    },
}


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, obj in seeds.items():
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump(obj, f)
    for target, seeds in RAW.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name + ".bin"), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
