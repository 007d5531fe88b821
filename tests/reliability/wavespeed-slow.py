#!/usr/bin/env python3
"""tests/fake-wavespeed.py with slow transfers, for the stop stress and
the crash-and-resume tests: every phase of a job then lasts long enough
for a stop (or a SIGKILL) to land in it.

It runs the fake server unchanged (same routes, faults, /_control and
/_stats) and adds two options:
  --download-rate N   the result MP4 is sent at about N bytes/s
  --upload-delay S    every media upload (binary, or its ticket) answers
                      after S seconds
"""
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_fake():
    path = os.path.join(HERE, "..", "fake-wavespeed.py")
    spec = importlib.util.spec_from_file_location("fake_wavespeed", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def take_option(name, default):
    if name in sys.argv:
        i = sys.argv.index(name)
        value = float(sys.argv[i + 1])
        del sys.argv[i:i + 2]
        return value
    return default


def main():
    rate = take_option("--download-rate", 0)
    upload_delay = take_option("--upload-delay", 0)
    fake = load_fake()
    base = fake.Handler

    class SlowHandler(base):
        def upload(self):
            if upload_delay:
                time.sleep(upload_delay)
            base.upload(self)

        def ticket(self):
            if upload_delay:
                time.sleep(upload_delay)
            base.ticket(self)

        def download(self, job_id):
            if not rate:
                base.download(self, job_id)
                return
            with open(fake.STATE.result_mp4, "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            chunk = max(1024, int(rate / 20))
            try:
                for i in range(0, len(data), chunk):
                    self.wfile.write(data[i:i + chunk])
                    self.wfile.flush()
                    time.sleep(chunk / rate)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    fake.Handler = SlowHandler
    fake.main()


if __name__ == "__main__":
    main()
