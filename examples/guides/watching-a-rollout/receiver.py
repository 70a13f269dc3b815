#!/usr/bin/env python3
"""A notification receiver to run locally: prints one line per notification.

Serves POST on every path: a CloudEvent in structured mode
(Content-Type: application/cloudevents+json) prints as
"event <type> <stage> <percentage>% [targets] <reason>", a Slack-style
{"text": "..."} as "chat <text>". Usage: receiver.py --listen 127.0.0.1:8092
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
            print("event", msg["type"], data.get("stage", "-"), f'{data.get("percentage", 0):g}%',
                  "[" + " ".join(data.get("targets", [])) + "]", data.get("reason", ""), flush=True)
        else:
            print("chat", msg.get("text"), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass  # one line per notification, nothing else


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1:8092")
    host, port = parser.parse_args().listen.rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Receiver).serve_forever()
