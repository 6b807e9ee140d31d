#!/usr/bin/env bash
# run.sh: `regsweep run`, the whole job, end to end against a real registry
# and a real sshd: the seed's experiment (25 pushes to one tag), the report's
# figures against `stats` run independently, the JSON against its documented
# shape, exit code 3 when a tag moves under the run, and no secret printed;
# --deadline passing during GC (which finishes, after-GC command included).
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
T=$HARNESS_TMP
export XDG_CACHE_HOME=$T/cache

sshd_start || bail_out "cannot start sshd"
registry_start --htpasswd ops:run-secret-pass || bail_out "cannot start the registry"
export REGSWEEP_USERNAME=ops REGSWEEP_PASSWORD=run-secret-pass

# The before/after-GC commands run on the "host" through the test's control script.
CTL=$HARNESS_DIR/registry-ctl.sh
STATE=$T/regstate
mkdir -p "$STATE"
printf '%s\n' "$REG_CONFIG" >"$STATE/config"
printf '%s\n' "$REG_URL" >"$STATE/url"
printf '%s\n' "$REG_PID" >"$STATE/pid"
printf '%s\n' "$HARNESS_REGISTRY_BIN" >"$STATE/bin"
ln -s "$REG_LOG" "$STATE/log"
harness_defer sh "$CTL" "$STATE" stop

SSH_ARGS=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS"
	--storage-root "$REG_ROOT"
	--before-gc "sh '$CTL' '$STATE' restart --readonly"
	--after-gc "sh '$CTL' '$STATE' restart"
	--gc-command "'$HARNESS_REGISTRY_BIN' garbage-collect '$REG_CONFIG'")

json_get() {
	/usr/bin/python3 -c 'import json,sys
v = json.load(open(sys.argv[1])) if sys.argv[1].endswith(".json") else json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) else ("null" if v is None else v))' "$@"
}

stats_storage() {
	"$REGSWEEP" stats --json -r "$REG_URL" --storage-root "$REG_ROOT" --no-cache
}

# The blobs on disk are exactly what the tags reach (manifests, children,
# configs, layers): prints "ok" or what differs.
disk_is_reachable() {
	/usr/bin/python3 - "$REG_ROOT" <<'PY'
import json, os, sys
root = os.path.join(sys.argv[1], "docker/registry/v2")
def data(d):
    return os.path.join(root, "blobs/sha256", d[7:9], d[7:], "data")
on_disk = set()
for dirpath, _, files in os.walk(os.path.join(root, "blobs/sha256")):
    if "data" in files:
        on_disk.add("sha256:" + os.path.basename(dirpath))
need = set()
repos = os.path.join(root, "repositories")
for dirpath, dirnames, _ in os.walk(repos):
    if dirpath.endswith("/_manifests/tags"):
        for tag in dirnames:
            todo = [open(os.path.join(dirpath, tag, "current/link")).read().strip()]
            while todo:
                d = todo.pop()
                if d in need:
                    continue
                need.add(d)
                doc = json.load(open(data(d)))
                todo += [m["digest"] for m in doc.get("manifests", [])]
                if "config" in doc:
                    need.add(doc["config"]["digest"])
                    need.update(l["digest"] for l in doc.get("layers", []))
extra, missing = on_disk - need, need - on_disk
print("ok" if not extra and not missing else "extra %d missing %d" % (len(extra), len(missing)))
PY
}

# --- the seed's experiment ----------------------------------------------------
push_noise -q --repo noise --tag latest --layers 2 25 >/dev/null
push_noise -q --repo multi/arch --index --tag v1 2 >/dev/null
before=$(stats_storage)
like "$before" '"manifests":' "stats with the storage view works"

run "$REGSWEEP" run -r "$REG_URL" "${SSH_ARGS[@]}" --untagged-grace 0s --dry-run --report "$T/dry.json"
is "$RUN_STATUS" 0 "run --dry-run succeeds"
like "$RUN_STDOUT" 'dry run: 27 manifests would be deleted' \
	"the dry run counts 24 untagged noise manifests, the untagged index and its 2 children"
is "$(stats_storage)" "$before" "run --dry-run changes nothing"
is "$(json_get "$T/dry.json" gc dry_run)" "True" "the dry run ran GC's dry run only"
check "the dry-run report has the documented shape" /usr/bin/python3 "$HARNESS_DIR/check-report.py" "$T/dry.json"

run "$REGSWEEP" run -r "$REG_URL" "${SSH_ARGS[@]}" --untagged-grace 0s -v -v \
	--report "$T/run.json" --metrics "$T/run.prom" --backup-dir "$T/backup-run"
is "$RUN_STATUS" 0 "run succeeds"
printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >"$T/run.out"
after=$(stats_storage)
like "$RUN_STDOUT" '\[ Data summary \] +before +after +change' "the summary is before, after and change"
like "$RUN_STDOUT" 'On disk' "and includes the bytes on disk"
is "$(json_get "$after" tags)" 2 "every tag is still there"
is "$(json_get "$after" manifests)" 4 "noise keeps one manifest; the tagged index keeps its two children"
is "$(disk_is_reachable)" ok "only the kept manifests' blobs are left on disk"
check "the registry is read-write and serving after GC" \
	reg_curl -f -o /dev/null -u ops:run-secret-pass "$REG_URL/v2/noise/manifests/latest" \
	-H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
is "$(reg_curl -s -o /dev/null -w '%{http_code}' -u ops:run-secret-pass -X DELETE \
	"$REG_URL/v2/noise/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000")" \
	404 "deletes are accepted again (not read-only)"

# the report's figures equal what stats gives independently
is "$(json_get "$T/run.json" before)" "$(json_get "$before")" "the report's 'before' equals stats before"
is "$(json_get "$T/run.json" after)" "$(json_get "$after")" "the report's 'after' equals stats after"
check "the report has the documented shape" /usr/bin/python3 "$HARNESS_DIR/check-report.py" "$T/run.json"
is "$(json_get "$T/run.json" exit_code)" 0 "the report records exit code 0"
is "$(json_get "$T/run.json" apply deleted)" 27 "the report lists 27 deletions"
like "$(cat "$T/run.prom")" $'regsweep_last_run_success 1' "metrics say the run succeeded"
like "$(cat "$T/run.prom")" 'regsweep_bytes_freed [1-9]' "metrics count the bytes freed"
like "$(cat "$T/run.prom")" 'regsweep_tags\{when="after"\} 2' "metrics carry the figures"
is "$(stat -c %a "$T/run.json")" 600 "the report file is private (0600)"

# --- nothing printed or written holds the password ------------------------------
leaks=$(grep -l 'run-secret-pass' "$T/run.out" "$T/run.json" "$T/run.prom" "$T/dry.json" 2>/dev/null || true)
is "$leaks" "" "no output, report or metrics file holds the password"

# --- exit code 3: a tag moves between the plan and the deletes --------------------
push_noise -q --repo app --distinct-tags v --created 2024-01-01T00:00:00Z --created-step 3600 4 >/dev/null
# the proxy points app:pinned at v1 (which the plan drops) when apply re-lists app's tags
port=$(_harness_free_port)
/usr/bin/python3 "$HARNESS_DIR/moving-proxy.py" "$REG_URL" "$port" app pinned v1 2 \
	2>"$T/proxy.log" &
_harness_track $!
proxy=http://127.0.0.1:$port
curl -s -o /dev/null --retry 30 --retry-connrefused --retry-max-time 15 "$proxy/v2/"
run "$REGSWEEP" run -r "$proxy" --repos app --keep-last 2 --report "$T/moved.json" \
	--backup-dir "$T/backup-moved"
is "$RUN_STATUS" 3 "a delete skipped because a tag moved exits 3"
like "$(cat "$T/proxy.log")" 'app:pinned now' "the tag did move during the run"
is "$(json_get "$T/moved.json" exit_code)" 3 "the report records exit code 3"
like "$(json_get "$T/moved.json" skips)" 'sha256:' "and lists the skipped deletion"
check "the moved tag still pulls" reg_curl -f -o /dev/null -u ops:run-secret-pass \
	-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "$REG_URL/v2/app/manifests/pinned"

# --- without SSH: a clear note that space is freed only after GC ------------------
run "$REGSWEEP" run -r "$REG_URL" --repos app --keep-last 1 --backup-dir "$T/backup-nossh"
is "$RUN_STATUS" 0 "run without --ssh succeeds"
like "$RUN_STDERR" 'no garbage collection' "and says that space is freed only after GC"

# --- a stage failure names the stage ------------------------------------------------
run "$REGSWEEP" run -r "$REG_URL" --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS_WRONG" --storage-root "$REG_ROOT" --report "$T/fail.json"
is "$RUN_STATUS" 1 "a storage view that cannot connect fails the run"
like "$RUN_STDERR" 'regsweep: stats-before: .*CHANGED' "the error names the stage and the reason"
is "$(json_get "$T/fail.json" success)" False "the report says it failed"
is "$(json_get "$T/fail.json" apply)" null "and nothing was deleted on a registry it could not read"

run "$REGSWEEP" run -r "$REG_URL" --repos app --keep-last 1 --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --gc-command false \
	--before-gc "sh '$CTL' '$STATE' restart --readonly" --after-gc "sh '$CTL' '$STATE' restart" \
	--report "$T/gcfail.json" --backup-dir "$T/backup-gcfail"
is "$RUN_STATUS" 1 "a failing garbage collection fails the run"
like "$RUN_STDERR" 'regsweep: gc: ' "the error names the gc stage"
is "$(json_get "$T/gcfail.json" stages 3 status)" failed "the report marks the gc stage failed"
check "the after-GC command still ran: the registry is read-write" \
	test "$(reg_curl -s -o /dev/null -w '%{http_code}' -u ops:run-secret-pass -X DELETE \
	"$REG_URL/v2/noise/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000")" = 404

# --- --deadline: GC in flight when it passes runs to its end, after-GC included ---
# The before-GC command holds GC until 10 s after the start; the deadline is
# 8 s: the stages before GC end well within it, GC is under way when it
# passes, and the run ends done in part without the figures after.
start=$(date +%s)
run "$REGSWEEP" run -r "$REG_URL" --repos app --keep-last 1 --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --storage-root "$REG_ROOT" --deadline 8s \
	--before-gc "sh '$CTL' '$STATE' restart --readonly && while [ \$(date +%s) -lt $((start + 10)) ]; do sleep 0.2; done" \
	--after-gc "sh '$CTL' '$STATE' restart" \
	--gc-command "'$HARNESS_REGISTRY_BIN' garbage-collect '$REG_CONFIG'" \
	--report "$T/deadline.json" --backup-dir "$T/backup-deadline"
is "$RUN_STATUS" 3 "a run past its deadline exits 3"
like "$RUN_STDERR" 'deadline \(--deadline 8s\) passed' "and says the deadline passed"
is "$(json_get "$T/deadline.json" exit_code)" 3 "the report records exit code 3"
is "$(json_get "$T/deadline.json" stages 3 name) $(json_get "$T/deadline.json" stages 3 status)" \
	"gc ok" "the GC under way when the deadline passed ran to its end"
is "$(json_get "$T/deadline.json" stages 4 name) $(json_get "$T/deadline.json" stages 4 status)" \
	"stats-after skipped" "nothing new started after it"
like "$(json_get "$T/deadline.json" stages 4 error)" 'deadline' "the report says why"
is "$(tail -n 2 "$STATE/actions" 2>/dev/null | tr '\n' ' ')" "stop start rw " \
	"the after-GC command ran last: the registry restarted read-write"
check "the registry is read-write after it" \
	test "$(reg_curl -s -o /dev/null -w '%{http_code}' -u ops:run-secret-pass -X DELETE \
	"$REG_URL/v2/noise/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000")" = 404

tap_done
