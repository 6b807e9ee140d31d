#!/usr/bin/python3
"""moving-proxy.py: a pass-through proxy in front of a registry that moves a
tag at a chosen moment, to test what regsweep does when the registry changes
between its plan and its deletes.

usage: moving-proxy.py UPSTREAM PORT REPO TAG SOURCE_TAG N

Forwards every request to UPSTREAM unchanged. Just before forwarding the
N-th GET of /v2/REPO/tags/list, it copies SOURCE_TAG's manifest to TAG on
the upstream registry (so TAG now points at SOURCE_TAG's digest). Listens
on 127.0.0.1:PORT.
"""
import http.client
import http.server
import sys
import urllib.parse

UPSTREAM, PORT, REPO, TAG, SOURCE, N = sys.argv[1:7]
N = int(N)
ACCEPT = ("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, "
          "application/vnd.docker.distribution.manifest.v2+json")
up = urllib.parse.urlsplit(UPSTREAM)
lists_seen = 0


def upstream(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def move_tag(auth):
    """Point TAG at SOURCE's manifest, with the client's own credentials."""
    extra = {"Authorization": auth} if auth else {}
    resp, body = upstream("GET", "/v2/%s/manifests/%s" % (REPO, SOURCE),
                          headers=dict(extra, Accept=ACCEPT))
    ctype = resp.getheader("Content-Type")
    resp, _ = upstream("PUT", "/v2/%s/manifests/%s" % (REPO, TAG), body=body,
                       headers=dict(extra, **{"Content-Type": ctype}))
    sys.stderr.write("moving-proxy: %s:%s now -> %s (%d)\n" % (REPO, TAG, SOURCE, resp.status))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        global lists_seen
        if self.command == "GET" and self.path.startswith("/v2/%s/tags/list" % REPO):
            lists_seen += 1
            if lists_seen == N:
                move_tag(self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        resp, data = upstream(self.command, self.path, body, headers)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = forward

    def log_message(self, fmt, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
server.serve_forever()
