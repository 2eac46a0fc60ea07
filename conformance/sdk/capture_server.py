#!/usr/bin/env python3
"""A loopback stand-in for Novita, ModelsLab and GPTProto's unified API that records every request,
for debugging the SDK checks and for capturing what the official SDKs really send.

It is not an emulator: it validates nothing and answers just enough of each provider's shapes for
an SDK to finish a job. Every request is appended to the log file as one JSON line
(method, path, query, headers, body), keys and all: use a fake key.

    python3 capture_server.py --port 8765 --api-key sk-test --log captured.jsonl

Routes (both the paths the SDKs call and the paths of specs/*.yaml):
  POST /v3/async/img2img                     Novita create: {"task_id"}
  GET  /v3/async/task-result?task_id=        Novita result: PROCESSING on the first poll, then SUCCEED
  POST /api/v1/enterprise/images/img2img     ModelsLab create (modelslab-py's path); also
  POST /api/v1/enterprise/img2img            (the spec's path): `processing` (--modelslab-mode queued,
                                             the default) or `success`
  POST /api/v1/enterprise/images/fetch/{id}  ModelsLab fetch (modelslab-py's path, body {key}); also
  POST /api/v1/enterprise/fetch              (the spec's path, body {key, request_id})
  POST /api/v3/images, /api/v3/images/edit   GPTProto unified create (the gptproto SDK's paths): 202
                                             with a `pending` task
  GET  /api/v3/tasks/result/{id}             GPTProto unified task: `in_progress` on the first poll,
                                             then `completed` (or `failed` with the fault's reason)
  GET  /images/{name}                        the output images, in the format asked for

The `x-emulator-fault: fail=<reason>` header makes the job fail with that reason, and
`--fault fail=<reason>` makes every job fail, as the emulator's header and flag do.
Needs Pillow for JPEG and WebP outputs (the SDK venv has it).
"""

import argparse
import io
import itertools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

try:
    from PIL import Image
except ImportError:  # PNG only
    Image = None

LOCK = threading.Lock()
IDS = itertools.count(1)
TASKS = {}  # id -> dict(kind, polls, count, fmt, width, height, fail)
IMAGES = {}  # name -> (content type, bytes)
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def png_bytes(width, height):
    """A solid grey PNG, with the standard library only."""
    import struct
    import zlib

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def encode(fmt, width, height):
    if fmt == "png" or Image is None:
        return "png", png_bytes(width, height)
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (128, 128, 128)).save(buffer, "JPEG" if fmt == "jpeg" else "WEBP")
    return fmt, buffer.getvalue()


def as_int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class Handler(BaseHTTPRequestHandler):
    server_version = "capture/1"

    def log_message(self, *args):  # the JSON log replaces the access log
        pass

    def record(self, body_text):
        url = urlsplit(self.path)
        try:
            body = json.loads(body_text) if body_text else None
        except ValueError:
            body = body_text
        entry = {
            "time": round(time.time(), 3),
            "method": self.command,
            "path": url.path,
            "query": parse_qs(url.query),
            "headers": dict(self.headers.items()),
            "body": body,
        }
        with LOCK, open(self.server.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        return url, body

    def send_json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        return "http://" + (self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_port)

    def fault(self):
        for part in (self.headers.get("x-emulator-fault") or "").split(","):
            name, _, value = part.strip().partition("=")
            if name == "fail" and value:
                return value
        return self.server.fail

    def new_task(self, kind, count, fmt, width, height):
        task_id = "t%d" % next(IDS)
        with LOCK:
            TASKS[task_id] = dict(kind=kind, polls=0, count=max(1, count), fmt=fmt, width=width,
                                  height=height, fail=self.fault())
        return task_id

    def outputs(self, task_id):
        task = TASKS[task_id]
        names = []
        for i in range(task["count"]):
            fmt, data = encode(task["fmt"], task["width"], task["height"])
            name = "%s-%d.%s" % (task_id, i, fmt)
            IMAGES[name] = (CONTENT_TYPES[fmt], data)
            names.append(self.base() + "/images/" + name)
        return names

    # ------------------------------------------------------------------ Novita

    def novita_key_ok(self):
        sent = (self.headers.get("Authorization") or "").strip()
        if sent.lower().startswith("bearer "):
            sent = sent[7:].strip()
        if not sent:
            self.send_json(401, {"code": 401, "reason": "FAILED_TO_AUTH", "message": "missing key", "metadata": {}})
            return False
        if sent != self.server.api_key:
            self.send_json(403, {"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api key", "metadata": {}})
            return False
        return True

    def novita_create(self, body):
        if not self.novita_key_ok():
            return
        request = (body or {}).get("request") or {}
        extra = (body or {}).get("extra") or {}
        fmt = extra.get("response_image_type") or "png"
        task_id = self.new_task("novita", as_int(request.get("image_num"), 1), fmt,
                                as_int(request.get("width"), 512), as_int(request.get("height"), 512))
        self.send_json(200, {"task_id": task_id})

    def novita_result(self, query):
        if not self.novita_key_ok():
            return
        task_id = (query.get("task_id") or [""])[0]
        task = TASKS.get(task_id)
        if task is None:
            self.send_json(404, {"code": 404, "reason": "TASK_NOT_FOUND", "message": "task not found", "metadata": {}})
            return
        task["polls"] += 1
        images, status, reason = [], "TASK_STATUS_PROCESSING", ""
        if task["polls"] > 1 and task["fail"]:
            status, reason = "TASK_STATUS_FAILED", task["fail"]
        elif task["polls"] > 1:
            status = "TASK_STATUS_SUCCEED"
            images = [{"image_url": url, "image_url_ttl": 3600, "image_type": task["fmt"],
                       "nsfw_detection_result": None} for url in self.outputs(task_id)]
        now = int(time.time() * 1000)
        self.send_json(200, {
            "extra": {"seed": 1234, "enable_nsfw_detection": False,
                      "debug_info": {"request_info": "", "submit_time_ms": now, "execute_time_ms": now,
                                     "complete_time_ms": now}},
            "task": {"task_id": task_id, "task_type": "IMG_TO_IMG", "status": status, "reason": reason,
                     "eta": 0 if status != "TASK_STATUS_PROCESSING" else 1,
                     "progress_percent": 100 if status == "TASK_STATUS_SUCCEED" else 50},
            "images": images, "videos": [], "audios": [],
        })

    # --------------------------------------------------------------- ModelsLab

    def modelslab_key_ok(self, body):
        key = (body or {}).get("key") if isinstance(body, dict) else None
        if key != self.server.api_key:
            self.send_json(401, {"status": "error", "message": "Invalid API key"})
            return False
        return True

    def modelslab_answer(self, task_id):
        task = TASKS[task_id]
        numeric = int(task_id[1:])
        if task["fail"]:
            return {"status": "failed", "id": numeric, "message": task["fail"]}
        if self.server.modelslab_mode == "queued" and task["polls"] == 0:
            return {"status": "processing", "tip": "", "eta": 1.5,
                    "message": "Try to fetch request after given estimated time",
                    "fetch_result": self.base() + "/api/v1/enterprise/fetch", "id": numeric, "output": [],
                    "meta": {}, "future_links": []}
        urls = self.outputs(task_id)
        return {"status": "success", "generationTime": 0.5, "id": numeric, "output": urls, "proxy_links": urls,
                "meta": {"W": task["width"], "H": task["height"], "n_samples": task["count"]},
                "nsfw_content_detected": False, "webhook_status": "", "tip": ""}

    def modelslab_create(self, body):
        if not self.modelslab_key_ok(body):
            return
        task_id = self.new_task("modelslab", as_int(body.get("samples"), 1), "png",
                                as_int(body.get("width"), 512), as_int(body.get("height"), 512))
        self.send_json(200, self.modelslab_answer(task_id))

    def modelslab_fetch(self, body, path_id):
        if not self.modelslab_key_ok(body):
            return
        task_id = "t%s" % (path_id if path_id is not None else body.get("request_id"))
        if task_id not in TASKS:
            self.send_json(200, {"status": "error", "message": "Request not found"})
            return
        TASKS[task_id]["polls"] += 1
        self.send_json(200, self.modelslab_answer(task_id))

    # -------------------------------------------------------- GPTProto unified

    def gptproto_key_ok(self):
        sent = (self.headers.get("Authorization") or "").strip()
        if sent.lower().startswith("bearer "):
            sent = sent[7:].strip()
        if sent != self.server.api_key:
            self.send_json(401, {"error": {"message": "Invalid token", "code": 401}})
            return False
        return True

    def gptproto_task(self, task_id, status, urls=None, error=None):
        task = {"id": task_id, "status": status, "polling_url": "/api/v3/tasks/result/" + task_id,
                "model": TASKS[task_id]["model"], "native_status": status, "unsigned_urls": urls or []}
        if error:
            task["error"] = error
        return task

    def gptproto_create(self, body, edit):
        if not self.gptproto_key_ok():
            return
        body = body if isinstance(body, dict) else {}
        width, _, height = str(body.get("size") or "832x1216").partition("x")
        count = 1 if edit else as_int(body.get("n"), 1)
        task_id = self.new_task("gptproto", count, "png", as_int(width, 832), as_int(height, 1216))
        TASKS[task_id]["model"] = body.get("model")
        self.send_json(202, self.gptproto_task(task_id, "pending"))

    def gptproto_result(self, task_id):
        if not self.gptproto_key_ok():
            return
        task = TASKS.get(task_id)
        if task is None or task["kind"] != "gptproto":
            self.send_json(404, {"error": {"message": "task not found", "code": 404}})
            return
        task["polls"] += 1
        if task["polls"] == 1:
            return self.send_json(200, self.gptproto_task(task_id, "in_progress"))
        if task["fail"]:
            return self.send_json(200, self.gptproto_task(task_id, "failed", error=task["fail"]))
        self.send_json(200, self.gptproto_task(task_id, "completed", urls=self.outputs(task_id)))

    # ------------------------------------------------------------------ routes

    def do_GET(self):
        url, _ = self.record("")
        if url.path == "/v3/async/task-result":
            return self.novita_result(parse_qs(url.query))
        if url.path.startswith("/api/v3/tasks/result/"):
            return self.gptproto_result(url.path.rsplit("/", 1)[1])
        if url.path.startswith("/images/") and url.path[len("/images/"):] in IMAGES:
            kind, data = IMAGES[url.path[len("/images/"):]]
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_json(404, {"message": "no route " + url.path})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        text = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        url, body = self.record(text)
        if url.path == "/v3/async/img2img":
            return self.novita_create(body)
        if url.path in ("/api/v1/enterprise/images/img2img", "/api/v1/enterprise/img2img"):
            return self.modelslab_create(body if isinstance(body, dict) else {})
        if url.path.startswith("/api/v1/enterprise/images/fetch/"):
            return self.modelslab_fetch(body, url.path.rsplit("/", 1)[1])
        if url.path == "/api/v1/enterprise/fetch":
            return self.modelslab_fetch(body if isinstance(body, dict) else {}, None)
        if url.path in ("/api/v3/images", "/api/v3/images/edit"):
            return self.gptproto_create(body, edit=url.path.endswith("/edit"))
        self.send_json(404, {"status": "error", "message": "no route " + url.path})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="sk-test")
    parser.add_argument("--log", default="captured.jsonl")
    parser.add_argument("--modelslab-mode", choices=["queued", "sync"], default="queued")
    parser.add_argument("--fault", default="", help="fail=<reason>: every job fails")
    args = parser.parse_args()
    name, _, reason = args.fault.partition("=")
    if args.fault and (name != "fail" or not reason):
        parser.error("--fault takes fail=<reason>")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.api_key, server.log_path, server.modelslab_mode = args.api_key, args.log, args.modelslab_mode
    server.fail = reason or None
    print("capture server on http://127.0.0.1:%d, logging to %s" % (server.server_port, args.log), file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
