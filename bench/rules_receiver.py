"""A webhook receiver for bench/callgrind_rules.sh and bench/rules_cost.sh: answers 204
to every POST, keep-alive. With a second argument, appends one line per POST to that file
("<entries in it>"), so a run can count POSTs and check that batches add up.
Usage: rules_receiver.py PORT [POSTS_FILE]"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = open(sys.argv[2], "a", buffering=1) if len(sys.argv) > 2 else None
LOCK = threading.Lock()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if LOG:
            with LOCK:
                LOG.write(self.headers.get("X-Sluice-Count", "1") + "\n")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
