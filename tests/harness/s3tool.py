#!/usr/bin/python3
"""s3tool.py: a small S3 client for the tests and the benchmark, written
apart from regsweep (its own Signature Version 4 with hashlib and hmac, its
own XML reading) so that what it lists is an independent oracle.

usage: s3tool.py COMMAND ARGS...
  mb BUCKET                     create a bucket (an existing one is fine)
  ls BUCKET PREFIX              every key under PREFIX: "SIZE KEY" per line
  blobs BUCKET ROOT             "COUNT BYTES" of ROOT/docker/registry/v2/blobs/sha256/XX/HEX/data
  put BUCKET KEY FILE           upload FILE ("-": standard input) as KEY
  get BUCKET KEY                print the object
  rm BUCKET PREFIX              delete every key under PREFIX
  upload BUCKET PREFIX DIR      upload every file under DIR as PREFIX/RELPATH,
                                in parallel (--jobs N, default 8); prints the count

The store and keys come from the environment: S3_ENDPOINT (http://host:port),
S3_REGION (default us-east-1), S3_ACCESS_KEY, S3_SECRET_KEY. Path-style
addressing. Exits 1 with the store's answer on any failure.
"""
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import os
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
UNSIGNED = "UNSIGNED-PAYLOAD"


def quote(text, safe="-_.~"):
    return urllib.parse.quote(text, safe=safe)


class Store:
    def __init__(self):
        ep = urllib.parse.urlsplit(os.environ["S3_ENDPOINT"])
        self.scheme, self.netloc = ep.scheme, ep.netloc
        self.region = os.environ.get("S3_REGION", "us-east-1")
        self.access = os.environ["S3_ACCESS_KEY"]
        self.secret = os.environ["S3_SECRET_KEY"]
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            c = self.local.conn = cls(self.netloc, timeout=60)
        return c

    def sign(self, method, path, query, headers, payload_hash):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = dict(headers, host=self.netloc, **{"x-amz-date": amz_date,
                                                     "x-amz-content-sha256": payload_hash})
        names = sorted(k.lower() for k in headers)
        lower = {k.lower(): str(v).strip() for k, v in headers.items()}
        canonical_query = "&".join("%s=%s" % (quote(k), quote(v)) for k, v in sorted(query.items()))
        canonical = "\n".join([method, quote(path, "-_.~/"), canonical_query,
                               "".join("%s:%s\n" % (n, lower[n]) for n in names),
                               ";".join(names), payload_hash])
        scope = "%s/%s/s3/aws4_request" % (day, self.region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                    "Signature=%s" % (self.access, scope, ";".join(names), signature))
        return headers, canonical_query

    def request(self, method, path, query=None, body=b"", ok=(200,)):
        query = query or {}
        headers, qs = self.sign(method, path, query, {}, UNSIGNED)
        url = quote(path, "-_.~/") + ("?" + qs if qs else "")
        for attempt in range(3):
            c = self.conn()
            try:
                c.request(method, url, body=body, headers=headers)
                resp = c.getresponse()
                data = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                c.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        if resp.status not in ok:
            sys.exit("s3tool: %s %s: %d %s" % (method, url, resp.status, data.decode(errors="replace")))
        return resp.status, data

    def keys(self, bucket, prefix):
        query = {"list-type": "2", "prefix": prefix, "encoding-type": "url"}
        while True:
            _, data = self.request("GET", "/" + bucket, query)
            root = ET.fromstring(data)
            for c in root.findall(NS + "Contents"):
                yield (urllib.parse.unquote_plus(c.findtext(NS + "Key")),
                       int(c.findtext(NS + "Size")))
            if root.findtext(NS + "IsTruncated") != "true":
                return
            query["continuation-token"] = root.findtext(NS + "NextContinuationToken")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    store, cmd, args = Store(), argv[1], argv[2:]
    jobs = 8
    if "--jobs" in args:
        i = args.index("--jobs")
        jobs = int(args[i + 1])
        del args[i:i + 2]
    if cmd == "mb":
        store.request("PUT", "/" + args[0], ok=(200, 409))
    elif cmd == "ls":
        for key, size in store.keys(args[0], args[1]):
            print(size, key)
    elif cmd == "blobs":
        root = args[1].strip("/")
        prefix = (root + "/" if root else "") + "docker/registry/v2/blobs/sha256/"
        count = total = 0
        for key, size in store.keys(args[0], prefix):
            parts = key[len(prefix):].split("/")
            if len(parts) == 3 and parts[2] == "data" and len(parts[1]) == 64 and \
                    parts[0] == parts[1][:2] and all(c in "0123456789abcdef" for c in parts[1]):
                count += 1
                total += size
        print(count, total)
    elif cmd == "put":
        data = sys.stdin.buffer.read() if args[2] == "-" else open(args[2], "rb").read()
        store.request("PUT", "/%s/%s" % (args[0], args[1]), body=data)
    elif cmd == "get":
        _, data = store.request("GET", "/%s/%s" % (args[0], args[1]))
        sys.stdout.buffer.write(data)
    elif cmd == "rm":
        for key, _ in list(store.keys(args[0], args[1])):
            store.request("DELETE", "/%s/%s" % (args[0], key), ok=(204, 200, 404))
    elif cmd == "upload":
        bucket, prefix, top = args[0], args[1].strip("/"), args[2]
        files = []
        for dirpath, _, names in os.walk(top):
            for name in names:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, top)
                files.append((path, (prefix + "/" if prefix else "") + rel))

        def put(item):
            with open(item[0], "rb") as f:
                store.request("PUT", "/%s/%s" % (bucket, item[1]), body=f.read())

        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            for _ in pool.map(put, files):
                pass
        print(len(files))
    else:
        sys.exit("s3tool: unknown command '%s'" % cmd)


if __name__ == "__main__":
    main(sys.argv)
