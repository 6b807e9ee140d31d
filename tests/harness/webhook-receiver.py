#!/usr/bin/python3
"""webhook-receiver.py: a loopback webhook receiver for the notification
tests. Every POST is saved as DIR/N.json (its body) and DIR/N.headers (its
request line and headers), N counting from 1, and answered with STATUS.

usage: webhook-receiver.py --dir DIR --port-file FILE [--status 200]

It listens on 127.0.0.1, on a free port it writes to FILE once it is
listening; it runs until it is killed (the test stops it by PID).
"""
import argparse
import http.server
import os
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--status", type=int, default=200)
    args = ap.parse_args()
    lock = threading.Lock()
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length > 0 else b""
            with lock:
                count[0] += 1
                n = count[0]
            base = os.path.join(args.dir, str(n))
            with open(base + ".headers", "w") as f:
                f.write(self.requestline + "\n" + str(self.headers))
            # the body last, under its final name: a reader never sees half of it
            with open(base + ".tmp", "wb") as f:
                f.write(body)
            os.rename(base + ".tmp", base + ".json")
            self.send_response(args.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, fmt, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
