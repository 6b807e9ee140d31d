#!/usr/bin/python3
"""expected-stats.py: the data summary computed straight from a registry's
filesystem storage, independently of regsweep: an oracle for the tests.

usage: expected-stats.py ROOT [--all]

ROOT is the registry's storage rootdirectory. Counts what the API can reach:
every repository, its current tags, the manifests those tags name and (for
an index) their children, once per repository; blobs (configs and layers)
once per digest across the registry, bytes as the descriptors declare them.
With --all, every stored manifest revision counts (the storage view).
Prints one JSON object like `regsweep stats --json`.
"""
import json
import os
import sys


def blob_path(root, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(root, "docker/registry/v2/blobs", algo, hexd[:2], hexd, "data")


def read_link(path):
    with open(path) as f:
        return f.read().strip()


def main():
    root = sys.argv[1]
    every = "--all" in sys.argv[2:]
    repos_dir = os.path.join(root, "docker/registry/v2/repositories")
    repos = []
    for dirpath, dirnames, _ in os.walk(repos_dir):
        if "_manifests" in dirnames:
            repos.append(os.path.relpath(dirpath, repos_dir))
        dirnames[:] = [d for d in dirnames if not d.startswith("_")]
    tags = manifests = 0
    blobs = {}
    for repo in sorted(repos):
        mdir = os.path.join(repos_dir, repo, "_manifests")
        tag_dir = os.path.join(mdir, "tags")
        todo = []
        for tag in sorted(os.listdir(tag_dir)) if os.path.isdir(tag_dir) else []:
            link = os.path.join(tag_dir, tag, "current/link")
            if os.path.exists(link):
                tags += 1
                todo.append(read_link(link))
        if every:
            rev = os.path.join(mdir, "revisions/sha256")
            for hexd in os.listdir(rev) if os.path.isdir(rev) else []:
                if os.path.exists(os.path.join(rev, hexd, "link")):
                    todo.append("sha256:" + hexd)
        seen = set()
        while todo:
            digest = todo.pop()
            if digest in seen:
                continue
            seen.add(digest)
            with open(blob_path(root, digest), "rb") as f:
                doc = json.load(f)
            for child in doc.get("manifests", []):
                todo.append(child["digest"])
            if "config" in doc:
                for d in [doc["config"]] + doc.get("layers", []):
                    blobs[d["digest"]] = d.get("size", 0)
        manifests += len(seen)
    print(json.dumps({"repositories": len(repos), "tags": tags, "manifests": manifests,
                      "blobs": len(blobs), "bytes": sum(blobs.values())},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()
