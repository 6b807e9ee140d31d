#!/usr/bin/python3
"""bench-fill.py: fill a registry's filesystem storage directly, fast, for
benchmarks: REPOS repositories x TAGS tags of distinct images (a config with
a real `created` date and one small layer each), laid out exactly as
distribution's filesystem driver stores pushed images.

usage: bench-fill.py ROOT REPOS TAGS [--prefix NAME] [--urls FILE]

Run it while the registry is stopped (or before it starts): the registry
reads the storage on demand and keeps no index of its own. Prints the
number of tags written. With --urls, writes the request paths a scan needs,
one per line: "manifest /v2/NAME/manifests/TAG", "config /v2/NAME/blobs/DIGEST"
and "digest /v2/NAME/manifests/DIGEST" (the manifest again, by digest).
"""
import hashlib
import json
import os
import sys
import time

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def put_blob(v2, data):
    hexd = hashlib.sha256(data).hexdigest()
    d = os.path.join(v2, "blobs/sha256", hexd[:2], hexd)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "data"), "wb") as f:
        f.write(data)
    return "sha256:" + hexd


def link(path, digest):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(digest)


def main():
    root, repos, tags = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    prefix = sys.argv[sys.argv.index("--prefix") + 1] if "--prefix" in sys.argv else "bench"
    v2 = os.path.join(root, "docker/registry/v2")
    urls = open(sys.argv[sys.argv.index("--urls") + 1], "w") if "--urls" in sys.argv else None
    base = int(time.time()) - tags * 3600
    count = 0
    for r in range(repos):
        name = "%s/r%04d" % (prefix, r)
        rdir = os.path.join(v2, "repositories", name)
        for t in range(tags):
            layer = hashlib.sha256(b"%s:%d:layer" % (name.encode(), t)).digest() * 16
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + t * 3600))
            diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
            config = json.dumps({"architecture": "amd64", "os": "linux", "created": created,
                                 "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                                 "config": {}}, separators=(",", ":")).encode()
            ld, cd = put_blob(v2, layer), put_blob(v2, config)
            manifest = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                                   "config": {"mediaType": MT_CONFIG, "size": len(config), "digest": cd},
                                   "layers": [{"mediaType": MT_LAYER, "size": len(layer), "digest": ld}]},
                                  indent=3).encode()
            md = put_blob(v2, manifest)
            for d in (ld, cd):
                link(os.path.join(rdir, "_layers/sha256", d[7:], "link"), d)
            link(os.path.join(rdir, "_manifests/revisions/sha256", md[7:], "link"), md)
            tag = "t%04d" % t
            link(os.path.join(rdir, "_manifests/tags", tag, "current/link"), md)
            link(os.path.join(rdir, "_manifests/tags", tag, "index/sha256", md[7:], "link"), md)
            count += 1
            if urls:
                urls.write("manifest /v2/%s/manifests/%s\nconfig /v2/%s/blobs/%s\n"
                           "digest /v2/%s/manifests/%s\n" % (name, tag, name, cd, name, md))
    if urls:
        urls.close()
    print(count)


if __name__ == "__main__":
    main()
