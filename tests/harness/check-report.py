#!/usr/bin/python3
"""check-report.py: validate a regsweep run report against its documented
shape (README, "The JSON report"), version 1. Prints what is wrong and exits
1, or prints "ok".

usage: check-report.py REPORT.json
"""
import json
import sys

FIGURES = {"repositories": int, "tags": int, "manifests": int, "blobs": int, "bytes": int}
OPTIONAL_FIGURES = {"storage_blobs": int, "storage_bytes": int}
ITEM = {"action": str, "repository": str, "digest": str, "tags": list, "reason": str,
        "outcome": str}
problems = []


def need(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        problems.append("%s: missing '%s'" % (where, key))
        return None
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        problems.append("%s.%s: %r is not %s" % (where, key, value, kind))
    return value


def figures(obj, where, nullable=False):
    if obj is None and nullable:
        return
    if not isinstance(obj, dict):
        problems.append("%s: not an object" % where)
        return
    for k, t in FIGURES.items():
        v = need(obj, k, t, where)
        if isinstance(v, int) and v < 0 and where != "change":
            problems.append("%s.%s is negative" % (where, k))
    for k, t in OPTIONAL_FIGURES.items():
        if k in obj and not isinstance(obj[k], t):
            problems.append("%s.%s: not %s" % (where, k, t))


def main():
    with open(sys.argv[1]) as f:
        r = json.load(f)
    if need(r, "report_version", int, "report") != 1:
        problems.append("report_version is not 1")
    need(r, "tool", str, "report")
    need(r, "tool_version", str, "report")
    need(r, "registry", str, "report")
    need(r, "dry_run", bool, "report")
    need(r, "started", str, "report")
    need(r, "finished", str, "report")
    need(r, "success", bool, "report")
    code = need(r, "exit_code", int, "report")
    if code not in (0, 1, 3):
        problems.append("exit_code %r is not 0, 1 or 3" % code)
    figures(need(r, "before", None, "report"), "before", nullable=True)
    figures(need(r, "after", None, "report"), "after", nullable=True)
    figures(need(r, "change", None, "report"), "change", nullable=True)
    for i, st in enumerate(need(r, "stages", list, "report") or []):
        need(st, "name", str, "stages[%d]" % i)
        if need(st, "status", str, "stages[%d]" % i) not in ("ok", "failed", "skipped", "partial"):
            problems.append("stages[%d].status is not ok/failed/skipped/partial" % i)
        need(st, "seconds", (int, float), "stages[%d]" % i)
        need(st, "error", (str, type(None)), "stages[%d]" % i)
    for key in ("deletions", "skips"):
        for i, item in enumerate(need(r, key, list, "report") or []):
            for k, t in ITEM.items():
                need(item, k, t, "%s[%d]" % (key, i))
    need(r, "apply", (dict, type(None)), "report")
    need(r, "gc", (dict, type(None)), "report")
    for i, e in enumerate(need(r, "errors", list, "report") or []):
        if not isinstance(e, str):
            problems.append("errors[%d] is not a string" % i)
    in_use = need(r, "in_use", (dict, type(None)), "report")
    if isinstance(in_use, dict):
        for k in ("references", "this_registry", "other_registries", "image_ids"):
            need(in_use, k, int, "in_use")
        for key in ("kept", "missing"):
            for i, ref in enumerate(need(in_use, key, list, "in_use") or []):
                for k in ("repository", "reference", "source"):
                    need(ref, k, str, "in_use.%s[%d]" % (key, i))
                need(ref, "digest", (str, type(None)), "in_use.%s[%d]" % (key, i))
    if "per_repo" in r:
        for i, pr in enumerate(r["per_repo"]):
            need(pr, "name", str, "per_repo[%d]" % i)
            figures(pr.get("before"), "per_repo[%d].before" % i)
            figures(pr.get("after"), "per_repo[%d].after" % i, nullable=True)
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
