#!/usr/bin/python3
"""pull-check.py: does an image still pull completely? Independently of
regsweep, over the registry API, like a client would.

usage: pull-check.py URL REPO:REF [REPO:REF ...]
       pull-check.py --gone URL REPO:REF [...]

REF is a tag or a digest. For each reference: GET the manifest (all four
media types accepted), check its bytes against Docker-Content-Digest (and
the digest asked for); for an index, every child the same way; for an
image, the config blob and every layer, each checked against its digest and
size. Exits 0 when everything pulls, 1 otherwise, naming what failed.
With --gone, passes when every reference answers 404 instead.

Only plain http to 127.0.0.1 and no credentials: the tests' registries.
"""
import hashlib
import json
import sys
import urllib.error
import urllib.request

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


class Missing(Exception):
    pass


def fetch(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        raise Missing("%s: HTTP %d" % (url, e.code))


def check_digest(what, digest, body):
    algo, _, want = digest.partition(":")
    if algo != "sha256":
        raise Missing("%s: cannot verify %s" % (what, digest))
    got = hashlib.sha256(body).hexdigest()
    if got != want:
        raise Missing("%s: body is sha256:%s, not %s" % (what, got, digest))


def pull_blob(base, repo, desc):
    body, _ = fetch("%s/v2/%s/blobs/%s" % (base, repo, desc["digest"]))
    what = "%s blob %s" % (repo, desc["digest"])
    check_digest(what, desc["digest"], body)
    if "size" in desc and desc["size"] != len(body):
        raise Missing("%s: %d bytes, descriptor says %d" % (what, len(body), desc["size"]))


def pull_manifest(base, repo, ref, depth=0):
    if depth > 8:
        raise Missing("%s@%s: index nesting too deep" % (repo, ref))
    body, headers = fetch("%s/v2/%s/manifests/%s" % (base, repo, ref), ACCEPT)
    digest = headers.get("Docker-Content-Digest", "")
    what = "%s:%s" % (repo, ref)
    if not digest:
        raise Missing("%s: no Docker-Content-Digest" % what)
    check_digest(what, digest, body)
    if ref.startswith("sha256:") and ref != digest:
        raise Missing("%s: served %s" % (what, digest))
    doc = json.loads(body)
    media_type = doc.get("mediaType") or headers.get("Content-Type", "")
    if media_type in INDEX_TYPES or "manifests" in doc:
        for child in doc.get("manifests", []):
            pull_manifest(base, repo, child["digest"], depth + 1)
        return
    if "config" not in doc:
        raise Missing("%s: neither an index nor an image" % what)
    pull_blob(base, repo, doc["config"])
    for layer in doc.get("layers", []):
        pull_blob(base, repo, layer)


def is_gone(base, repo, ref):
    req = urllib.request.Request("%s/v2/%s/manifests/%s" % (base, repo, ref), method="HEAD")
    req.add_header("Accept", ACCEPT)
    try:
        with urllib.request.urlopen(req, timeout=30):
            return False
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return True
        raise


def split_ref(arg):
    if "@" in arg:
        return arg.split("@", 1)
    repo, _, ref = arg.rpartition(":")
    return repo, ref


def main(argv):
    gone = False
    if argv and argv[0] == "--gone":
        gone = True
        argv = argv[1:]
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    base = argv[0].rstrip("/")
    if not base.startswith("http://127.0.0.1:"):
        print("pull-check.py: only http://127.0.0.1 registries", file=sys.stderr)
        return 2
    failed = 0
    for arg in argv[1:]:
        repo, ref = split_ref(arg)
        try:
            if gone:
                if not is_gone(base, repo, ref):
                    print("still there: %s" % arg)
                    failed += 1
            else:
                pull_manifest(base, repo, ref)
        except (Missing, urllib.error.URLError, ValueError, KeyError) as e:
            print("does not pull: %s: %s" % (arg, e))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
