#!/usr/bin/env bash
# gc.sh: `regsweep gc` over SSH against a real registry whose storage is on
# this machine. The before/after-GC commands restart the registry read-only
# and read-write through tests/harness/registry-ctl.sh. Deletes free nothing
# until GC; after it the blobs are gone from the disk, the kept images pull
# completely and the registry answers read-write again. A failing GC, a
# killed regsweep, a cut SSH connection and a time limit all still end with
# the after-GC command run and the registry read-write. Last, the seed's
# experiment: 25 pushes to one tag, `apply --ssh` and `gc` leave one manifest
# and only the blobs tags reach on disk.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
# libssh2 1.10 leaks in ECDSA signing: keep --enable-asan runs about our code
# (the suppression needs full stacks through libcrypto)
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
unset SSH_AUTH_SOCK

T=$HARNESS_TMP
CTL=$HARNESS_DIR/registry-ctl.sh
STATE=$T/regstate

sshd_start || bail_out "cannot start sshd"
registry_start || bail_out "cannot start the registry"
mkdir -p "$STATE"
printf '%s\n' "$REG_CONFIG" >"$STATE/config"
printf '%s\n' "$REG_URL" >"$STATE/url"
printf '%s\n' "$REG_PID" >"$STATE/pid"
printf '%s\n' "$HARNESS_REGISTRY_BIN" >"$STATE/bin"
ln -s "$REG_LOG" "$STATE/log"
harness_defer sh "$CTL" "$STATE" stop

BEFORE="sh '$CTL' '$STATE' restart --readonly"
AFTER="sh '$CTL' '$STATE' restart"
GC="'$HARNESS_REGISTRY_BIN' garbage-collect '$REG_CONFIG'"

# gc ARGS...: regsweep gc on the test host with the test's key and known_hosts.
gc() {
	run "$REGSWEEP" gc --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" \
		--ssh-known-hosts "$SSH_KNOWN_HOSTS" "$@"
}

json_get() {
	/usr/bin/python3 -c 'import json,sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[k] if v is not None else None
print("null" if v is None else v)' "$@"
}

storage_json() {
	"$REGSWEEP" stats --json -r "$REG_URL" --storage-root "$REG_ROOT" 2>/dev/null
}

# http_code METHOD PATH: the registry's answer.
http_code() {
	reg_curl -o /dev/null -w '%{http_code}' -X "$1" "$REG_URL$2" 2>/dev/null
}

# writable / read_only: how the registry answers a DELETE of a manifest that
# does not exist: 404 when it is read-write, 405 when read-only (no change
# either way).
ABSENT=sha256:0000000000000000000000000000000000000000000000000000000000000000
writable() {
	[[ $(http_code DELETE "/v2/noise/manifests/$ABSENT") == 404 ]]
}
read_only() {
	[[ $(http_code DELETE "/v2/noise/manifests/$ABSENT") == 405 ]]
}

runner_dirs() {
	find "$SSH_DIR/tmp" -maxdepth 1 -name 'regsweep-gc.*' 2>/dev/null | wc -l
}

# pull_ok REPO REF: every manifest, child, config and layer of REPO:REF
# downloads with the digest it is named by.
pull_ok() {
	/usr/bin/python3 - "$REG_URL" "$1" "$2" <<'EOF'
import hashlib, json, sys, urllib.request
base, repo, ref = sys.argv[1:4]
accept = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(path, want=None):
    req = urllib.request.Request(base + path, headers={"Accept": accept})
    body = opener.open(req, timeout=30).read()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if want and digest != want:
        sys.exit("%s: got %s" % (path, digest))
    return body, digest
todo = [(ref, None)]
while todo:
    r, want = todo.pop()
    body, digest = get("/v2/%s/manifests/%s" % (repo, r), want)
    doc = json.loads(body)
    for child in doc.get("manifests", []):
        todo.append((child["digest"], child["digest"]))
    for blob in ([doc["config"]] if "config" in doc else []) + doc.get("layers", []):
        get("/v2/%s/blobs/%s" % (repo, blob["digest"]), blob["digest"])
EOF
}

# --- content: history on one tag, a kept image, a multi-arch index ----------
noise=$(push_noise -q --repo noise --tag latest 5)
push_noise -q --repo keep --tag v1 1 >/dev/null
push_noise -q --repo multi --index --tag v1 1 >/dev/null
current=$(awk '$1 == "tag" { d = $4 } END { print d }' <<<"$noise")
mapfile -t untagged < <(awk -v cur="$current" '$1 == "manifest" && $3 != cur { print $3 }' <<<"$noise")
is "${#untagged[@]}" 4 "5 pushes to one tag leave 4 untagged manifests"

dirs_before=$(runner_dirs)
before_json=$(storage_json)
blobs_before=$(json_get "$before_json" storage_blobs)
bytes_before=$(json_get "$before_json" storage_bytes)

# --- usage errors --------------------------------------------------------------
run "$REGSWEEP" gc --gc-command true
is "$RUN_STATUS" 2 "gc without --ssh is a usage error"
gc --before-gc "$BEFORE" --gc-command "$GC"
is "$RUN_STATUS" 2 "a before-GC command without an after-GC command is refused"
like "$RUN_STDERR" "would leave the registry read-only or stopped" "saying why"
gc --delete-untagged --gc-command "$GC" --before-gc "$BEFORE" --after-gc "$AFTER"
is "$RUN_STATUS" 2 "--delete-untagged without -r is refused"
gc -r "$REG_URL" --delete-untagged --gc-command "$GC" --before-gc "$BEFORE" --after-gc "$AFTER"
if [[ $HARNESS_REGISTRY == 2.8 ]]; then
	is "$RUN_STATUS" 2 "--delete-untagged is refused when the registry holds a multi-arch index"
	like "$RUN_STDERR" "'multi' holds the multi-arch index .* deletes the children of tagged indexes" \
		"with the reason (2.x deletes an index's children)"
else
	is "$RUN_STATUS" 2 "--delete-untagged on 3.x is refused without the storage view"
	like "$RUN_STDERR" "deletes untagged OCI referrers .* only the storage view lists them" \
		"with the reason (3.x deletes referrers whose subject stays)"
fi
ok "$([[ ! -e $STATE/actions ]]; echo $?)" "and nothing ran on the host but the version question"

# --- deletes free nothing until GC ---------------------------------------------
deleted=0
for d in "${untagged[@]}"; do
	[[ $(http_code DELETE "/v2/noise/manifests/$d") == 202 ]] && deleted=$((deleted + 1))
done
is "$deleted" 4 "the untagged manifests are deleted through the API"
is "$(json_get "$(storage_json)" storage_bytes)" "$bytes_before" "the disk holds as much as before"

gc --dry-run --json --gc-command "$GC" --before-gc "$BEFORE" --after-gc "$AFTER"
is "$RUN_STATUS" 0 "gc --dry-run succeeds"
is "$(json_get "$RUN_STDOUT" dry_run_figures blobs_eligible)" 16 \
	"it finds the 4 manifests and their 12 blobs eligible"
is "$(json_get "$RUN_STDOUT" figures)" null "and collects nothing"
is "$(json_get "$RUN_STDOUT" steps before state)" not_run "without running the before-GC command"
ok "$([[ ! -e $STATE/actions ]]; echo $?)" "the registry was not touched"

# --- the collection --------------------------------------------------------------
gc -v --gc-command "$GC" --before-gc "$BEFORE" --after-gc "$AFTER" --storage-root "$REG_ROOT"
is "$RUN_STATUS" 0 "gc succeeds"
like "$RUN_STDOUT" $'Before-GC command: exit status 0\nDry run: [0-9]+ blobs marked, 16 blobs and 0 manifests eligible for deletion\nCollected: [0-9]+ blobs marked, 16 blobs and 0 manifests eligible for deletion\nAfter-GC command: exit status 0' \
	"it reports each step and the figures"
like "$RUN_STDOUT" "Storage before: $blobs_before blobs" "and the storage before"
like "$RUN_STDOUT" "Storage after: $((blobs_before - 16)) blobs" "and after"
like "$RUN_STDOUT" $'Remote exit status: 0\nFailed step: none' "with the remote exit status"
like "$RUN_STDERR" "gc\\| noise: marking manifest" "-v streams the remote output"
is "$(tr '\n' ' ' <"$STATE/actions")" "stop start ro stop start rw " \
	"the registry was read-only during GC and read-write after"
after_json=$(storage_json)
is "$(json_get "$after_json" storage_blobs)" "$((blobs_before - 16))" "16 blobs left the disk"
ok "$(($(json_get "$after_json" storage_bytes) < bytes_before ? 0 : 1))" \
	"storage bytes dropped ($bytes_before -> $(json_get "$after_json" storage_bytes))"
is "$(http_code GET /v2/)" 200 "the registry answers after the restart"
ok "$(writable; echo $?)" "and accepts writes again"
check "the tagged image still pulls completely" pull_ok noise latest
check "the kept image still pulls completely" pull_ok keep v1
check "the multi-arch image and its children still pull" pull_ok multi v1
is "$(http_code GET "/v2/noise/manifests/${untagged[0]}")" 404 "a deleted manifest is gone"
is "$(runner_dirs)" "$dirs_before" "a finished run leaves no directory on the host"

# --- a failing GC still runs the after-GC command --------------------------------
: >"$STATE/actions"
gc --gc-command "'$HARNESS_REGISTRY_BIN' garbage-collect '$T/missing.yml'" --before-gc "$BEFORE" \
	--after-gc "$AFTER"
is "$RUN_STATUS" 1 "a GC with a broken config fails"
like "$RUN_STDOUT" "Failed step: gc-dry-run" "at the dry run"
like "$RUN_STDOUT" "Collected: skipped" "which skips the collection"
like "$RUN_STDERR" "step 'gc-dry-run' exited with status 1 \\(the after-GC command ran and succeeded\\)" \
	"the message names the step and the after-GC command"
is "$(tr '\n' ' ' <"$STATE/actions")" "stop start ro stop start rw " "the after-GC command ran"
ok "$(writable; echo $?)" "the registry is read-write"

cat >"$T/failing-gc.sh" <<EOF
case "\$*" in *--dry-run*) exec '$HARNESS_REGISTRY_BIN' garbage-collect '$REG_CONFIG' "\$@" ;; esac
echo "garbage-collect: simulated failure" >&2
exit 3
EOF
: >"$STATE/actions"
gc --json --gc-command "sh '$T/failing-gc.sh'" --before-gc "$BEFORE" --after-gc "$AFTER"
is "$RUN_STATUS" 1 "a collection that fails fails regsweep"
is "$(json_get "$RUN_STDOUT" failed_step)" gc "the JSON names the failed step"
is "$(json_get "$RUN_STDOUT" steps gc exit_status)" 3 "and its exit status"
is "$(json_get "$RUN_STDOUT" exit_status)" 3 "and the remote exit status"
is "$(json_get "$RUN_STDOUT" steps after exit_status)" 0 "the after-GC command ran"
ok "$(writable; echo $?)" "the registry is read-write"

# --- losing the connection in the middle of GC ---------------------------------
# The GC command waits at a gate the test opens; the after-GC command
# reports through a FIFO once the registry is back.
mkfifo "$T/reached" "$T/gate" "$T/after-done"
cat >"$T/gated-gc.sh" <<EOF
case "\$*" in *--dry-run*) ;; *) echo reached >'$T/reached'; read -r x <'$T/gate' ;; esac
exec '$HARNESS_REGISTRY_BIN' garbage-collect '$REG_CONFIG' "\$@"
EOF
GATED="sh '$T/gated-gc.sh'"
AFTER_SIGNAL="$AFTER; rc=\$?; echo done >'$T/after-done'; exit \$rc"

# remote_dir OUTPUT: the runner's directory named by "Remote log: DIR/log".
remote_dir() {
	sed -n 's|^Remote log: \(.*\)/log (kept on the host)$|\1|p' <<<"$1"
}

# lost_run NAME KILL_CMD [GC ARGS]: start gc in the background, wait until GC
# runs, call KILL_CMD, then open the gate and wait for the after-GC command.
lost_run() {
	local name=$1 kill_cmd=$2 pid out err
	shift 2
	: >"$STATE/actions"
	out=$T/$name.out err=$T/$name.err
	"$REGSWEEP" gc --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS" \
		--gc-command "$GATED" --before-gc "$BEFORE" --after-gc "$AFTER_SIGNAL" "$@" \
		>"$out" 2>"$err" </dev/null &
	pid=$!
	if ! timeout 60 cat "$T/reached" >/dev/null; then
		ok 1 "$name: GC started"
		kill "$pid"
		return
	fi
	ok "$(read_only; echo $?)" "$name: the registry is read-only during GC"
	# regsweep relays the remote log every 0.2 s: wait until it has seen GC start
	timeout 60 tail -n +1 -f "$err" | grep -q -m1 "step 'gc' started on the host"
	$kill_cmd "$pid"
	wait "$pid"
	LOST_STATUS=$?
	timeout 60 sh -c "echo go >'$T/gate'"
	ok "$(timeout 120 cat "$T/after-done" >/dev/null; echo $?)" \
		"$name: the after-GC command still ran on the host"
	ok "$(writable; echo $?)" "$name: the registry is read-write again"
	is "$(tr '\n' ' ' <"$STATE/actions")" "stop start ro stop start rw " \
		"$name: it was restarted read-write"
	LOST_OUT=$(<"$out") LOST_ERR=$(<"$err")
	# the runner keeps its log; wait for it to end, then tidy up
	local dir
	dir=$(remote_dir "$LOST_OUT")
	if [[ -n $dir && -s $dir/pid ]]; then
		timeout 60 tail --pid="$(cat "$dir/pid")" -f /dev/null
		like "$(cat "$dir/log")" "step gc rc=0" "$name: the collection itself completed"
		rm -rf "$dir"
	else
		ok 1 "$name: the output names the remote log"
		diag "$LOST_OUT"
	fi
}

kill_regsweep() {
	kill -TERM "$1"
}

# the SSH connection's server side: the sshd processes below the listener
kill_connection() {
	local child
	for child in $(pgrep -P "$SSH_PID"); do
		kill -KILL "$child"
	done
}

lost_run "killed regsweep" kill_regsweep
isnt "$LOST_STATUS" 0 "killed regsweep: regsweep fails"
like "$LOST_ERR" "lost the GC script on .* \\(step: gc\\); it goes on on the host, and its after-GC command will run regardless" \
	"killed regsweep: and says the after-GC command will still run"

lost_run "cut connection" kill_connection
isnt "$LOST_STATUS" 0 "cut connection: regsweep fails"
like "$LOST_ERR" "the connection dropped" "cut connection: saying the connection dropped"
like "$LOST_OUT" "Collected: started, end not seen" "cut connection: the report says where it stopped"

lost_run "time limit" : --command-timeout 2s
is "$LOST_STATUS" 1 "time limit: regsweep gives up after --command-timeout"
like "$LOST_ERR" "did not end within 2s \\(--command-timeout\\)" "time limit: saying so"

check "after all that, the tagged image still pulls" pull_ok noise latest
check "and the multi-arch image too" pull_ok multi v1

# --- the seed's experiment: 25 pushes to one tag, then apply and gc --------
# disk_is_reachable: every blob on disk is a manifest, config or layer that
# a tag reaches (following index children), and every such blob is there.
disk_is_reachable() {
	/usr/bin/python3 - "$REG_ROOT" <<'PY'
import json, os, sys
v2 = os.path.join(sys.argv[1], "docker/registry/v2")
def data(d):
    return os.path.join(v2, "blobs/sha256", d[7:9], d[7:], "data")
want = set()
for dirpath, dirnames, _ in os.walk(os.path.join(v2, "repositories")):
    if "_manifests" in dirnames:
        tags = os.path.join(dirpath, "_manifests/tags")
        links = [os.path.join(tags, t, "current/link") for t in os.listdir(tags)]
        todo = [open(l).read().strip() for l in links if os.path.exists(l)]
        while todo:
            d = todo.pop()
            if d in want:
                continue
            want.add(d)
            doc = json.load(open(data(d)))
            todo += [c["digest"] for c in doc.get("manifests", [])]
            refs = ([doc["config"]] if "config" in doc else []) + doc.get("layers", [])
            want.update(b["digest"] for b in refs)
    dirnames[:] = [d for d in dirnames if not d.startswith("_")]
have = set()
for dirpath, _, files in os.walk(os.path.join(v2, "blobs/sha256")):
    if "data" in files:
        have.add("sha256:" + os.path.basename(dirpath))
if have != want:
    sys.exit("on disk, not reachable: %s; reachable, not on disk: %s"
             % (sorted(have - want), sorted(want - have)))
PY
}

push_noise -q --repo seed --tag latest 25 >/dev/null
run "$REGSWEEP" apply -r "$REG_URL" --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --storage-root "$REG_ROOT" --untagged-grace 0s \
	--backup-dir "$T/seed-backup"
is "$RUN_STATUS" 0 "apply with --ssh removes the 24 untagged pushes"
like "$RUN_STDOUT$RUN_STDERR" "apply: 24 deleted, 0 already gone, 0 skipped, 0 failed" "all 24 of them"
: >"$STATE/actions"
gc --json --gc-command "$GC" --before-gc "$BEFORE" --after-gc "$AFTER"
is "$RUN_STATUS" 0 "gc after apply succeeds"
case $HARNESS_REGISTRY in
2.8) want_version=2.8.2+ds1 ;;
3.0) want_version=v3.0.0 ;;
esac
is "$(json_get "$RUN_STDOUT" registry_version)" "$want_version" \
	"the report names the registry's version, asked on the host"
is "$(json_get "$RUN_STDOUT" figures blobs_eligible)" 96 "it frees the 24 manifests and their 72 blobs"
check "only blobs that tags reach are left on disk" disk_is_reachable
run "$REGSWEEP" stats --json -v -r "$REG_URL" --storage-root "$REG_ROOT"
like "$RUN_STDERR" "manifest revisions \\(0 not reached through tags\\)" "no untagged manifest is left"
is "$(find "$REG_ROOT/docker/registry/v2/repositories/seed/_manifests/revisions/sha256" -name link | wc -l)" 1 \
	"seed holds one manifest"
is "$(tr '\n' ' ' <"$STATE/actions")" "stop start ro stop start rw " "the registry went read-only and back"
ok "$(writable; echo $?)" "the registry is read-write"
check "and serves the image completely" pull_ok seed latest
check "and the multi-arch image with its children" pull_ok multi v1

if [[ $HARNESS_REGISTRY == 3.0 ]]; then
	# an untagged OCI referrer of a kept image: 3.x's --delete-untagged would take it
	signed=$(push_noise -q --repo signed --oci --tag v1 --referrer 1) ||
		bail_out "cannot push a referrer"
	signed_tag=$(awk '$1 == "tag" { print $4 }' <<<"$signed")
	referrer=$(awk -v t="$signed_tag" '$1 == "manifest" && $3 != t { print $3 }' <<<"$signed")
	: >"$STATE/actions"
	gc -r "$REG_URL" --delete-untagged --storage-root "$REG_ROOT" --gc-command "$GC" \
		--before-gc "$BEFORE" --after-gc "$AFTER"
	is "$RUN_STATUS" 2 "--delete-untagged on 3.x is refused for an untagged referrer of a kept image"
	like "$RUN_STDERR" "'signed' holds the untagged referrer .* deletes it although its subject stays" \
		"naming it"
	is "$(cat "$STATE/actions")" "" "and the registry was not touched"
	# without it, 3.x's --delete-untagged takes nothing a kept image needs:
	# it is allowed, and the index keeps its children
	is "$(http_code DELETE "/v2/signed/manifests/$referrer")" 202 "the referrer is deleted"
	: >"$STATE/actions"
	gc -r "$REG_URL" --json --delete-untagged --storage-root "$REG_ROOT" --gc-command "$GC" \
		--before-gc "$BEFORE" --after-gc "$AFTER"
	is "$RUN_STATUS" 0 "--delete-untagged on 3.x runs when nothing a kept image needs is untagged"
	[[ $TAP_LAST -eq 0 ]] || diag "$RUN_STDERR"
	check "the multi-arch image still pulls completely, children and all" pull_ok multi v1
	check "and so does the signed image" pull_ok signed v1
	ok "$(writable; echo $?)" "the registry is read-write"
fi

tap_done
