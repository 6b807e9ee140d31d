#!/usr/bin/env bash
# Faults: regsweep against a registry that misbehaves on purpose
# (tests/fault/fault-server.c) and against a real registry stopped in the
# middle of an apply. For every fault regsweep must end, within its
# timeouts, with a clear error (exit 1, a message naming the problem) or a
# correct result: never a crash (exit >= 128), never a hang (`timeout`
# answering 124), and never a DELETE on the strength of a failed or
# suspect read.
#
# FAULTS_ONLY=REGEX runs only the scenarios whose name matches.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

require_regsweep
FAULT_SERVER=${FAULT_SERVER:-${top_builddir:-$here/../..}/fault-server}
if [[ ! -x $FAULT_SERVER ]]; then
	bail_out "fault-server not built: install libmicrohttpd-dev and run ./configure again"
fi

tap_noplan
harness_tmpdir
# Copies of the binaries: a rebuild while the tests run must not pull them
# from under us.
cp "$REGSWEEP" "$HARNESS_TMP/regsweep"
cp "$FAULT_SERVER" "$HARNESS_TMP/fault-server"
REGSWEEP=$HARNESS_TMP/regsweep
FAULT_SERVER=$HARNESS_TMP/fault-server
# a private manifest cache: no run may lean on another's
export XDG_CACHE_HOME=$HARNESS_TMP/cache
unset REGSWEEP_REGISTRY REGSWEEP_USERNAME REGSWEEP_PASSWORD REGSWEEP_TOKEN REGSWEEP_CONFIG

# The options every run uses: short timeouts, two retries.
OPTS=(--timeout 2s --connect-timeout 2s --retries 2 --no-cache)
# The baseline registry's figures, and the policy that deletes its tag 'old'.
GOOD_SUMMARY=$'Repositories: 1\nTags: 3\nManifests: 4\nBlobs: 6'
POLICY=(--keep-last 2 --untagged keep)
FAULT_USER=fault
FAULT_PASSWORD=pw-$(_harness_random_hex 12)
FAULT_TOKEN=tok-$(_harness_random_hex 12)
export FAULT_SERVER_USER=$FAULT_USER FAULT_SERVER_PASSWORD=$FAULT_PASSWORD
export FAULT_SERVER_TOKEN=$FAULT_TOKEN

# ---------------------------------------------------------------------------
# The fault server

_FAULT_N=0
FAULT_PID=

# fault_start SCENARIO [SERVER-ARGS...]: start it; sets FAULT_URL, FAULT_PORT,
# FAULT_OTHER_PORT, FAULT_LOG, FAULT_DIR. Its standard output is a FIFO we
# hold open: the first line is the ports, its end means the server exited.
fault_start() {
	_FAULT_N=$((_FAULT_N + 1))
	FAULT_DIR=$HARNESS_TMP/fault$_FAULT_N
	mkdir -p "$FAULT_DIR"
	FAULT_LOG=$FAULT_DIR/server.log
	mkfifo "$FAULT_DIR/stdout"
	"$FAULT_SERVER" "$@" --log "$FAULT_LOG" --lifetime 600 --stall-seconds 60 \
		>"$FAULT_DIR/stdout" 2>>"$FAULT_LOG" </dev/null &
	FAULT_PID=$!
	exec {FAULT_FD}<"$FAULT_DIR/stdout"
	if ! read -r -t 10 -u "$FAULT_FD" FAULT_PORT FAULT_OTHER_PORT; then
		cat "$FAULT_LOG" >&2 || true
		bail_out "fault-server $* did not start"
	fi
	FAULT_URL=http://127.0.0.1:$FAULT_PORT
}

# fault_stop: SIGTERM, then wait (at most 20 s) for its stdout to close.
fault_stop() {
	local line
	[[ -n $FAULT_PID ]] || return 0
	kill -TERM "$FAULT_PID" 2>/dev/null || true
	read -r -t 20 -u "$FAULT_FD" line || true
	kill -KILL "$FAULT_PID" 2>/dev/null || true
	wait "$FAULT_PID" 2>/dev/null || true
	exec {FAULT_FD}<&-
	FAULT_PID=
}
harness_defer fault_stop

# Requests the fault server saw, by pattern.
requests_matching() {
	grep -c -E "$1" "$FAULT_LOG" || true
}

# ---------------------------------------------------------------------------
# Running regsweep

# rs CMD ARGS...: run regsweep under `timeout LIMIT` (RS_LIMIT, default 60);
# sets RUN_STATUS, RUN_STDOUT, RUN_STDERR and RUN_SECONDS.
rs() {
	local t0 t1
	t0=$(date +%s%N)
	run timeout "${RS_LIMIT:-60}" "$REGSWEEP" "$@"
	t1=$(date +%s%N)
	RUN_SECONDS=$(((t1 - t0) / 1000000000))
}

# Sanitizer reports, should the binary be built with them.
no_sanitizer_report() {
	unlike "$RUN_STDERR" 'AddressSanitizer|LeakSanitizer|runtime error:' "$1: no sanitizer report"
}

scenario_wanted() {
	[[ -z ${FAULTS_ONLY:-} || $1 =~ $FAULTS_ONLY ]]
}

# split_args: SERVER-ARGS... [-- REGSWEEP-ARGS...] into SERVER and EXTRA.
split_args() {
	SERVER=()
	EXTRA=()
	while [[ $# -gt 0 && $1 != -- ]]; do
		SERVER+=("$1")
		shift
	done
	if [[ $# -gt 0 ]]; then
		shift
		EXTRA=("$@")
	fi
}

# apply_refuses NAME: `apply` with a policy that would delete tag 'old'
# stops short (exit 1 or 3) and the server saw no DELETE.
apply_refuses() {
	local name=$1
	fault_start "${SERVER[@]}"
	rs apply -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --backup-dir "$FAULT_DIR/backup" \
		"${EXTRA[@]}"
	ok "$((RUN_STATUS != 1 && RUN_STATUS != 3))" "$name: apply stops short (exit $RUN_STATUS)"
	[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
	is "$(requests_matching '^main DELETE')" 0 "$name: apply deleted nothing on a failed read"
	no_sanitizer_report "$name (apply)"
	fault_stop
}

# expect_error NAME REGEX MAX_SECONDS SERVER-ARGS... [-- REGSWEEP-ARGS...]:
# `stats`, plain and with -v -v, fails with exit 1 and a message matching
# REGEX within MAX_SECONDS; then `apply` deletes nothing.
expect_error() {
	local name=$1 regex=$2 max=$3 verbose label
	shift 3
	split_args "$@"
	scenario_wanted "$name" || return 0
	diag "scenario $name: fault-server ${SERVER[*]} (at ${SECONDS}s)"
	for verbose in "" "-v -v"; do
		fault_start "${SERVER[@]}"   # fresh counters for each run
		# shellcheck disable=SC2086
		rs stats -r "$FAULT_URL" "${OPTS[@]}" $verbose "${EXTRA[@]}"
		label="$name${verbose:+ (-v -v)}"
		is "$RUN_STATUS" 1 "$label: exit 1 (not a crash, not a hang)"
		[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
		like "$RUN_STDERR" "$regex" "$label: the message names the problem"
		ok "$((RUN_SECONDS > max))" "$label: done in ${RUN_SECONDS}s (at most ${max}s)"
		no_sanitizer_report "$label"
		is "$(requests_matching '^main DELETE')" 0 "$label: nothing deleted"
		fault_stop
	done
	apply_refuses "$name"
}

# expect_good NAME MAX_SECONDS SERVER-ARGS... [-- REGSWEEP-ARGS...]: `stats`
# rides out the fault and prints the baseline's exact figures; `apply`
# deletes tag 'old' and nothing else.
expect_good() {
	local name=$1 max=$2 verbose label
	shift 2
	split_args "$@"
	scenario_wanted "$name" || return 0
	diag "scenario $name: fault-server ${SERVER[*]} (at ${SECONDS}s)"
	for verbose in "" "-v -v"; do
		label="$name${verbose:+ (-v -v)}"
		fault_start "${SERVER[@]}"   # fresh counters for each run
		# shellcheck disable=SC2086
		rs stats -r "$FAULT_URL" "${OPTS[@]}" $verbose "${EXTRA[@]}"
		is "$RUN_STATUS" 0 "$label: exit 0"
		[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
		like "$RUN_STDOUT" "$GOOD_SUMMARY" "$label: the exact figures"
		ok "$((RUN_SECONDS > max))" "$label: done in ${RUN_SECONDS}s (at most ${max}s)"
		no_sanitizer_report "$label"
		is "$(requests_matching '^main DELETE')" 0 "$label: nothing deleted"
		fault_stop
	done
	fault_start "${SERVER[@]}"
	rs apply -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --backup-dir "$FAULT_DIR/backup" \
		"${EXTRA[@]}"
	is "$RUN_STATUS" 0 "$name: apply completes"
	[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
	is "$(grep -E '^main DELETE' "$FAULT_LOG" | awk '{ print $3 }')" "$OLD_DELETE" \
		"$name: apply deleted tag 'old' and nothing else"
	fault_stop
}

# ---------------------------------------------------------------------------
diag "the baseline: a registry that behaves"
# What the policy deletes when every read succeeds: tag 'old' by digest.
fault_start ok
rs apply -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --backup-dir "$FAULT_DIR/backup"
is "$RUN_STATUS" 0 "ok: apply completes"
OLD_DELETE=$(grep -E '^main DELETE' "$FAULT_LOG" | awk '{ print $3 }')
like "$OLD_DELETE" '^/v2/app/manifests/sha256:[0-9a-f]{64}$' "ok: apply deletes one manifest"
OLD_DIGEST=${OLD_DELETE##*/}
rs stats -r "$FAULT_URL" "${OPTS[@]}"
like "$RUN_STDOUT" $'Tags: 2\nManifests: 3' "ok: the kept tags and manifests are all there"
fault_stop
expect_good ok 10 ok
export REGSWEEP_PASSWORD=$FAULT_PASSWORD
expect_good basic-auth 10 ok --auth basic -- -u "$FAULT_USER"
expect_good bearer-auth 10 ok --auth bearer -- -u "$FAULT_USER"
unset REGSWEEP_PASSWORD

diag "garbage where JSON should be"
expect_error catalog-truncated 'not valid JSON' 10 catalog-truncated
expect_error catalog-malformed 'not valid JSON' 10 catalog-malformed
expect_error tags-truncated 'not valid JSON' 10 tags-truncated
expect_error tags-malformed 'not valid JSON' 10 tags-malformed
expect_error manifest-truncated 'not valid JSON' 10 manifest-truncated
expect_error manifest-malformed 'not valid JSON' 10 manifest-malformed
expect_error manifest-empty 'not valid JSON' 10 manifest-empty
expect_error deep-json 'not valid JSON' 10 deep-json
expect_error bad-names "invalid entry '\.\./" 10 bad-names
expect_error bad-tags "invalid entry '\.\./" 10 bad-tags
expect_error bad-child-digest 'invalid digest' 10 bad-child-digest
expect_error bad-size 'invalid size' 10 bad-size
expect_error not-registry 'not a registry' 10 not-registry

diag "digests that lie"
expect_error digest-mismatch 'does not match' 10 digest-mismatch
expect_error child-mismatch 'does not match' 10 child-mismatch
expect_error index-self 'does not match' 10 index-self
expect_error index-cycle 'does not match' 10 index-cycle

diag "pagination that loops or leaves"
expect_error catalog-link-loop 'loops' 10 catalog-link-loop
expect_error tags-link-loop 'loops' 10 tags-link-loop
expect_error link-endless 'loops|never ends' 45 link-endless
expect_error link-other-host 'another server' 10 link-other-host
if scenario_wanted link-other-host; then
	fault_start link-other-host
	rs stats -r "$FAULT_URL" "${OPTS[@]}"
	is "$(requests_matching '^other ')" 0 "link-other-host: the other server got no request"
	fault_stop
fi

diag "bodies far larger than any manifest"
expect_error huge-manifest 'larger than' 10 huge-manifest
expect_error huge-manifest-chunked 'larger than' 10 huge-manifest-chunked
expect_error huge-catalog 'larger than' 15 huge-catalog
expect_error gzip-bomb 'larger than' 10 gzip-bomb

diag "error storms"
expect_error storm-500 'server error 500' 10 storm --status 500
expect_error storm-502 'server error 502' 10 storm --status 502
expect_error storm-503 'server error 503' 10 storm --status 503
expect_error storm-503-retry-after 'server error 503' 15 storm --status 503 --retry-after 1
expect_error storm-429 '429' 10 storm --status 429
expect_error storm-429-retry-after '429' 15 storm --status 429 --retry-after 1
expect_error storm-503-catalog 'server error 503' 10 storm --status 503 --on catalog
expect_error storm-502-tags 'server error 502' 10 storm --status 502 --on tags
expect_error storm-503-past-retries 'server error 503' 15 storm --status 503 --on catalog --recover-after 3
expect_good storm-503-recovers 15 storm --status 503 --recover-after 2
expect_good storm-502-recovers-retry-after 15 storm --status 502 --recover-after 2 --retry-after 1
expect_good storm-429-recovers-retry-after 15 storm --status 429 --recover-after 2 --retry-after 1
expect_good storm-503-everywhere-recovers 15 storm --status 503 --on all --recover-after 2
if scenario_wanted storm-429-retry-after-huge; then
	# A hostile Retry-After must not hold regsweep past its own timeouts.
	fault_start storm --status 429 --retry-after 100000
	RS_LIMIT=75 rs stats -r "$FAULT_URL" --timeout 2s --connect-timeout 2s --retries 1 --no-cache
	is "$RUN_STATUS" 1 "storm-429-retry-after-huge: exit 1"
	like "$RUN_STDERR" '429' "storm-429-retry-after-huge: the message names the problem"
	ok "$((RUN_SECONDS > 15))" "storm-429-retry-after-huge: done in ${RUN_SECONDS}s (at most 15s)"
	is "$(requests_matching '^main DELETE')" 0 "storm-429-retry-after-huge: nothing deleted"
	fault_stop
fi

diag "connections that break"
expect_error reset 'closed|reset|cannot reach' 15 reset
expect_error reset-everywhere 'closed|reset|cannot reach' 15 reset --on all
expect_good reset-recovers 15 reset --recover-after 2
expect_error stall-headers 'too slow|timed out|stall' 15 stall-headers
expect_good stall-recovers 20 stall --recover-after 1
if scenario_wanted '^stall$'; then
	diag "scenario stall (at ${SECONDS}s)"
	for verbose in "" "-v -v"; do
		fault_start stall
		# shellcheck disable=SC2086
		rs stats -r "$FAULT_URL" "${OPTS[@]}" $verbose
		label="stall${verbose:+ (-v -v)}"
		is "$RUN_STATUS" 1 "$label: exit 1 (not a crash, not a hang)"
		like "$RUN_STDERR" 'too slow|timed out|stall' "$label: the message names the problem"
		# --timeout 2s and two retries: three stalls of 2 s, give or take backoff
		ok "$((RUN_SECONDS > 12))" "$label: done in ${RUN_SECONDS}s (at most 12s)"
		is "$(requests_matching '^main DELETE')" 0 "$label: nothing deleted"
		fault_stop
	done
fi
if scenario_wanted drip; then
	# One byte every half second: slow enough to be a stall, never silent.
	diag "scenario drip (at ${SECONDS}s)"
	fault_start drip
	RS_LIMIT=30 rs stats -r "$FAULT_URL" "${OPTS[@]}"
	is "$RUN_STATUS" 1 "drip: exit 1 (not a crash, not a hang)"
	like "$RUN_STDERR" 'too slow|timed out|stall' "drip: the message names the problem"
	ok "$((RUN_SECONDS > 30))" "drip: done in ${RUN_SECONDS}s (at most 30s)"
	is "$(requests_matching '^main DELETE')" 0 "drip: nothing deleted"
	fault_stop
fi

diag "redirects and authentication"
export REGSWEEP_PASSWORD=$FAULT_PASSWORD
expect_error manifest-redirect '307|redirect' 10 manifest-redirect --auth basic -- -u "$FAULT_USER"
if scenario_wanted manifest-redirect; then
	fault_start manifest-redirect --auth basic
	rs stats -r "$FAULT_URL" "${OPTS[@]}" -u "$FAULT_USER"
	is "$(requests_matching '^other ')" 0 "manifest-redirect: a manifest redirect is not followed"
	fault_stop
fi
if scenario_wanted blob-redirect; then
	# Blobs are read, and their redirects followed, when dates matter: a
	# keep-last policy. The other server must never see the credentials.
	diag "scenario blob-redirect (at ${SECONDS}s)"
	fault_start blob-redirect --auth basic
	rs plan -r "$FAULT_URL" "${OPTS[@]}" -u "$FAULT_USER" "${POLICY[@]}"
	is "$RUN_STATUS" 0 "blob-redirect: plan reads the configs through the redirect"
	[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
	isnt "$(requests_matching '^other GET /blobs/')" 0 "blob-redirect: the other server served the blobs"
	is "$(grep -c -i -E '^other-header (authorization|cookie|proxy-authorization):' "$FAULT_LOG" || true)" 0 \
		"blob-redirect: no Authorization reached the other server"
	unlike "$(cat "$FAULT_LOG")" "$FAULT_PASSWORD" "blob-redirect: the password reached no server log"
	fault_stop
fi
expect_error token-malformed 'sent no token|not valid JSON|not a JSON object' 10 token-malformed -- -u "$FAULT_USER"
expect_error token-huge 'larger than' 15 token-huge -- -u "$FAULT_USER"
expect_error challenge-malformed 'malformed WWW-Authenticate' 10 challenge-malformed -- -u "$FAULT_USER"
expect_error always-401 'credentials|401' 10 always-401 --auth basic -- -u "$FAULT_USER"
unset REGSWEEP_PASSWORD
expect_error always-401-anonymous 'user name and password|credentials|401' 10 always-401 --auth basic

# ---------------------------------------------------------------------------
# Deleting: faults that only start after the plan's reads, a registry that
# answers 202 to a DELETE it does not honour, and a tag that moves.

# read_failure_told NAME: after apply_case NAME, the deletions are "not
# attempted" because a read failed, never "skipped" as if the registry had
# changed.
read_failure_told() {
	scenario_wanted "$1" || return 0
	like "$RUN_STDOUT" '0 skipped, 0 failed, [1-9][0-9]* not attempted' \
		"$1: the deletion counts as not attempted"
	unlike "$RUN_STDOUT$RUN_STDERR" 'changed since the plan' "$1: a failed read is not told as a change"
	like "$RUN_STDERR" 'not attempted: a read failed' "$1: the message says a read failed"
}

# apply_case NAME STATUS REGEX SERVER-ARGS...: `apply` with the policy exits
# STATUS, its output matches REGEX, and DELETE requests are as listed
# (DELETES: a regex the DELETE paths, joined by spaces, must match).
apply_case() {
	local name=$1 status=$2 regex=$3 deletes=$4
	shift 4
	scenario_wanted "$name" || return 0
	diag "scenario $name: fault-server $* (at ${SECONDS}s)"
	fault_start "$@"
	rs apply -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --backup-dir "$FAULT_DIR/backup"
	is "$RUN_STATUS" "$status" "$name: apply exits $status"
	like "$RUN_STDOUT$RUN_STDERR" "$regex" "$name: apply says what happened"
	like "$(grep -E '^main DELETE' "$FAULT_LOG" | awk '{ print $3 }' | tr '\n' ' ')" "$deletes" \
		"$name: the DELETEs sent"
	no_sanitizer_report "$name"
	fault_stop
}
apply_case tag-moves 3 "moved" '^$' tag-moves
apply_case recheck-storm 3 'could not (list|read)|server error' '^$' \
	storm --status 503 --on tags --fault-after 1
read_failure_told recheck-storm
apply_case recheck-reset 3 'could not (list|read)|closed|cannot reach' '^$' \
	reset --on tags --fault-after 1
read_failure_told recheck-reset
apply_case backup-read-fails 3 'could not back up|server error' '^$' \
	storm --status 503 --on manifest --fault-after 4
read_failure_told backup-read-fails
apply_case delete-lie 3 'still serves|not deleted|failed' "^$OLD_DELETE \$" delete-lie

# Writes are retried like reads: a DELETE answered 503 is sent again; one
# whose answer was lost (it happened) answers 404 when sent again, which
# counts as deleted once a HEAD confirms it is gone.
apply_case delete-503-retried 0 '1 deleted, 0 already gone' "^$OLD_DELETE $OLD_DELETE $OLD_DELETE \$" \
	storm --status 503 --on delete --recover-after 2
apply_case delete-502-retry-after 0 '1 deleted, 0 already gone' "^$OLD_DELETE $OLD_DELETE \$" \
	storm --status 502 --on delete --recover-after 1 --retry-after 1
apply_case delete-answer-lost 0 'earlier try went through' "^$OLD_DELETE $OLD_DELETE \$" \
	storm --status 503 --on delete --recover-after 1 --delete-anyway 1
if scenario_wanted delete-answer-lost; then
	like "$RUN_STDOUT" '1 deleted, 0 already gone, 0 skipped, 0 failed' \
		"delete-answer-lost: the lost delete counts as deleted"
fi

# ---------------------------------------------------------------------------
# A registry that fails half of all requests, reads and writes alike (503
# with Retry-After: 0; half the failed DELETEs happen anyway): regsweep
# backs off, rides it out and deletes exactly what the policy drops, run
# after run. FLAKY_RUNS runs (default 5), each with its own dice.
if scenario_wanted flaky; then
	diag "scenario flaky (at ${SECONDS}s)"
	fault_start flaky --seed 7
	rs stats -r "$FAULT_URL" "${OPTS[@]}"
	is "$RUN_STATUS" 0 "flaky: stats exits 0"
	[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
	like "$RUN_STDOUT" "$GOOD_SUMMARY" "flaky: stats gives the exact figures"
	isnt "$(requests_matching '^flaky 503 GET ')" 0 "flaky: reads failed on the way"
	fault_stop
	deletes_failed=0 times=()
	for ((i = 1; i <= ${FLAKY_RUNS:-5}; i++)); do
		fault_start flaky --seed "$i"
		rs apply -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --backup-dir "$FAULT_DIR/backup"
		times+=("${RUN_SECONDS}s")
		is "$RUN_STATUS" 0 "flaky run $i: apply exits 0"
		[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
		like "$RUN_STDOUT" '1 deleted, 0 already gone, 0 skipped, 0 failed, 0 not attempted' \
			"flaky run $i: one deletion, done"
		is "$(grep -E '^deleted ' "$FAULT_LOG" | awk '{ print $2 }' | sort -u | tr '\n' ' ')" "$OLD_DIGEST " \
			"flaky run $i: exactly tag 'old' was deleted"
		ok "$((RUN_SECONDS > 30))" "flaky run $i: done in ${RUN_SECONDS}s (at most 30s)"
		deletes_failed=$((deletes_failed + $(requests_matching '^flaky 503 DELETE ')))
		no_sanitizer_report "flaky run $i"
		fault_stop
	done
	diag "flaky: apply took ${times[*]}; $deletes_failed DELETE answers were 503"
fi

# A transfer that stops after 10 bytes and never resumes: given up after
# --timeout and one retry, never more.
if scenario_wanted stall-forever; then
	diag "scenario stall-forever (at ${SECONDS}s)"
	fault_start stall-forever
	rs stats -r "$FAULT_URL" --timeout 2s --connect-timeout 2s --retries 4 --no-cache
	is "$RUN_STATUS" 1 "stall-forever: stats exits 1"
	like "$RUN_STDERR" 'too slow|timed out' "stall-forever: the message names the stall"
	# two tries of 2 s (+1 s for libcurl's once-a-second speed check each), backoff
	ok "$((RUN_SECONDS > 8))" "stall-forever: done in ${RUN_SECONDS}s (at most 8s: --timeout, one retry)"
	is "$(requests_matching '^main GET /v2/app/manifests/v1 ')" 2 \
		"stall-forever: the stalled manifest was tried twice (one retry), not five times"
	fault_stop
	fault_start stall-forever
	rs apply -r "$FAULT_URL" --timeout 2s --connect-timeout 2s --retries 4 --no-cache \
		"${POLICY[@]}" --backup-dir "$FAULT_DIR/backup"
	ok "$((RUN_STATUS != 1 && RUN_STATUS != 3))" "stall-forever: apply stops short (exit $RUN_STATUS)"
	ok "$((RUN_SECONDS > 8))" "stall-forever: apply done in ${RUN_SECONDS}s (at most 8s)"
	is "$(requests_matching '^main DELETE')" 0 "stall-forever: apply deleted nothing"
	fault_stop
fi

# --deadline: past it nothing new starts; the run ends done in part (exit 3).
if scenario_wanted deadline; then
	diag "scenario deadline (at ${SECONDS}s)"
	fault_start ok
	# two requests a second: the scan needs about 5 s, the deadline is 2 s
	rs apply -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --rate 2 --deadline 2s \
		--backup-dir "$FAULT_DIR/backup"
	is "$RUN_STATUS" 3 "deadline: apply exits 3"
	like "$RUN_STDERR" 'deadline \(--deadline 2s\) passed' "deadline: the message names the deadline"
	ok "$((RUN_SECONDS > 4))" "deadline: done in ${RUN_SECONDS}s (at most 4s)"
	is "$(requests_matching '^main DELETE')" 0 "deadline: nothing deleted"
	fault_stop
	fault_start ok
	REGSWEEP_DEADLINE=1s rs run -r "$FAULT_URL" "${OPTS[@]}" "${POLICY[@]}" --rate 2 \
		--backup-dir "$FAULT_DIR/backup" --report "$FAULT_DIR/report.json"
	is "$RUN_STATUS" 3 "deadline: run (REGSWEEP_DEADLINE) exits 3"
	check "deadline: run writes its report" test -s "$FAULT_DIR/report.json"
	like "$(cat "$FAULT_DIR/report.json" 2>/dev/null)" '"exit_code":[[:space:]]*3,' "deadline: the report says exit 3"
	like "$(cat "$FAULT_DIR/report.json" 2>/dev/null)" 'deadline \(--deadline 1s\) passed' \
		"deadline: the report says why"
	fault_stop
fi

# ---------------------------------------------------------------------------
# A real registry stopped in the middle of an apply, then started again.
if scenario_wanted registry-killed; then
	diag "scenario registry-killed (at ${SECONDS}s)"
	registry_start
	push_noise -q --repo app --distinct-tags t --created 2024-01-01T00:00:00Z --created-step 3600 \
		30 >"$HARNESS_TMP/noise.out" 2>"$HARNESS_TMP/noise.err" ||
		bail_out "push_noise failed: $(tail -n 5 "$HARNESS_TMP/noise.err")"
	run "$REGSWEEP" stats -r "$REG_URL" --no-cache
	before=$RUN_STDOUT
	# Slow apply down (--rate) so that the kill lands between deletes; its
	# -v log on stderr says when the first DELETE went through.
	mkfifo "$HARNESS_TMP/apply.err"
	timeout 120 "$REGSWEEP" apply -r "$REG_URL" --no-cache --rate 4 --retries 1 \
		--connect-timeout 2s --timeout 5s --keep-last 5 --untagged keep -v \
		--backup-dir "$HARNESS_TMP/killed-backup" \
		>"$HARNESS_TMP/apply.out" 2>"$HARNESS_TMP/apply.err" </dev/null &
	apply_pid=$!
	exec {apply_fd}<"$HARNESS_TMP/apply.err"
	seen=0
	: >"$HARNESS_TMP/apply.log"
	while IFS= read -r -t 60 -u "$apply_fd" line; do
		printf '%s\n' "$line" >>"$HARNESS_TMP/apply.log"
		if [[ $line =~ ^DELETE\ .*\ 202 ]]; then
			seen=1
			registry_stop
			break
		fi
	done
	ok "$((seen == 0))" "registry-killed: the registry was stopped after the first delete"
	cat <&"$apply_fd" >>"$HARNESS_TMP/apply.log" || true
	exec {apply_fd}<&-
	status=0
	wait "$apply_pid" || status=$?
	ok "$((status == 0 || status >= 124))" "registry-killed: apply stops with a failure (exit $status)"
	# the manifest whose DELETE the registry accepted just before it went away
	gone=$(grep -m 1 -E '^DELETE .* 202' "$HARNESS_TMP/apply.log" |
		sed -n 's|.*/manifests/sha256:\([0-9a-f]\{12\}\).*|\1|p')
	like "$(grep -F "$gone" "$HARNESS_TMP/apply.out" || true)" 'deleted' \
		"registry-killed: apply reports the manifest it deleted ($gone)"
	like "$(grep '^apply:' "$HARNESS_TMP/apply.out" || true)" ' [1-9][0-9]* (failed|not attempted)' \
		"registry-killed: apply reports what it did not delete"
	like "$(grep '^apply:' "$HARNESS_TMP/apply.out" || true)" ' [1-9][0-9]* deleted' \
		"registry-killed: the summary counts the accepted delete as deleted"
	ok "$(($(grep -c 'cannot reach' "$HARNESS_TMP/apply.out" || true) > 2))" \
		"registry-killed: apply stops once the registry is unreachable"
	registry_restart
	run timeout 120 "$REGSWEEP" apply -r "$REG_URL" --no-cache --keep-last 5 --untagged keep \
		--backup-dir "$HARNESS_TMP/second-backup"
	is "$RUN_STATUS" 0 "registry-killed: a second apply completes"
	[[ $TAP_LAST -eq 0 ]] || diag "$(tail -n 5 <<<"$RUN_STDERR")"
	run "$REGSWEEP" stats -r "$REG_URL" --no-cache
	like "$RUN_STDOUT" 'Tags: 5' "registry-killed: the five newest tags are kept"
	tags=$(reg_curl "$REG_URL/v2/app/tags/list" | tr -d '\n')
	kept_ok=0
	for tag in $(awk '$1 == "tag" && $2 == "app" { print $3 }' "$HARNESS_TMP/noise.out" | tail -n 5); do
		[[ $tags == *"\"$tag\""* ]] || kept_ok=1
		code=$(reg_curl -o /dev/null -w '%{http_code}' -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
			"$REG_URL/v2/app/manifests/$tag")
		[[ $code == 200 ]] || kept_ok=1
	done
	ok "$kept_ok" "registry-killed: every kept tag still resolves to its manifest"
	diag "before: $(tr '\n' ' ' <<<"$before")"
	registry_stop
fi
