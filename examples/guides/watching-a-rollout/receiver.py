#!/usr/bin/env python3
"""A notification receiver to run locally: prints one line per notification.

Serves POST on every path: a CloudEvent in structured mode
(Content-Type: application/cloudevents+json) prints as
"event <type> <stage> <percentage>% [targets] <reason>", a Slack-style
{"text": "..."} as "chat <text>". Usage: receiver.py --listen 127.0.0.1:8092
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Requests are served on several threads: one write per line, under a lock,
# keeps the lines whole.
lock = threading.Lock()


def say(*words):
    with lock:
        sys.stdout.write(" ".join(str(w) for w in words) + "\n")
        sys.stdout.flush()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            msg = json.loads(body)
        except ValueError:
            self.send_error(400, "not JSON")
            return
        if self.headers.get("Content-Type", "").startswith("application/cloudevents+json"):
            data = msg.get("data", {})
            say("event", msg["type"], data.get("stage", "-"), f'{data.get("percentage", 0):g}%',
                "[" + " ".join(data.get("targets", [])) + "]", data.get("reason", ""))
        else:
            say("chat", msg.get("text"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass  # one line per notification, nothing else


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1:8092")
    host, port = parser.parse_args().listen.rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Receiver).serve_forever()
