#!/usr/bin/env bash
# index.sh: --index-from-storage. Every tag's digest comes from the storage's
# tag links (one remote find over SSH, or a local walk) instead of one HTTP
# request per tag; the manifests are then read by digest. The figures and
# the plan must be the ones the API gives, across more tags than one batch
# of by-digest requests, and a warm run must send a single request.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
# libssh2 1.10 leaks in ECDSA signing: keep --enable-asan runs about our code
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

sshd_start || bail_out "cannot start sshd"
registry_start || bail_out "cannot start the registry"
SSH_ARGS=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS"
	--storage-root "$REG_ROOT")

# pushed through the API: untagged history, a multi-arch index, OCI
push_noise -q --repo noise --tag latest 4 >/dev/null || bail_out "push failed"
push_noise -q --repo multi --index --tag v1 2 >/dev/null || bail_out "push failed"
push_noise -q --repo team/app --oci --tag v1 2 >/dev/null || bail_out "push failed"
# and 3,000 tags written into the storage: more than one batch of 2,048
registry_stop
/usr/bin/python3 "$HARNESS_SRCDIR/scripts/bench-fill.py" "$REG_ROOT" 3 1000 --prefix bulk \
	>/dev/null || bail_out "cannot fill the storage"
registry_restart >/dev/null || bail_out "cannot restart the registry"

run "$REGSWEEP" stats --json --no-cache -r "$REG_URL" "${SSH_ARGS[@]}"
is "$RUN_STATUS" 0 "stats through the API"
api=$RUN_STDOUT
like "$api" '"tags":3003' "it sees every tag"

run "$REGSWEEP" stats --json --no-cache -r "$REG_URL" "${SSH_ARGS[@]}" --index-from-storage -v
is "$RUN_STATUS" 0 "stats with --index-from-storage over SSH"
is "$RUN_STDOUT" "$api" "gives the API's figures, over two batches of requests"
like "$RUN_STDERR" 'storage: 3003 tags of 6 repositories' "the tags came from one remote pass"
unlike "$RUN_STDERR" 'GET [^ ]*/manifests/(t[0-9]|latest|v1)' "no manifest is asked for by tag"
unlike "$RUN_STDERR" '/tags/list' "no tag list is read"

run "$REGSWEEP" stats --json --no-cache -r "$REG_URL" --storage-root "$REG_ROOT" \
	--index-from-storage
is "$RUN_STATUS" 0 "stats with --index-from-storage on a local storage root"
is "$RUN_STDOUT" "$api" "gives the same figures"

cache=$HARNESS_TMP/cache
run "$REGSWEEP" stats --json --cache-dir "$cache" -r "$REG_URL" "${SSH_ARGS[@]}" \
	--index-from-storage
is "$RUN_STDOUT" "$api" "a cold run with the cache gives the same figures"
run "$REGSWEEP" stats --json --cache-dir "$cache" -r "$REG_URL" "${SSH_ARGS[@]}" \
	--index-from-storage -v
is "$RUN_STDOUT" "$api" "and so does the warm run"
is "$(grep -cE '^(GET|HEAD) ' <<<"$RUN_STDERR")" 1 "which sends one request in all"

# the plan is the API's plan
plan_text() {
	run "$REGSWEEP" plan --no-cache --keep-last 3 --untagged-grace 0s -r "$REG_URL" \
		"${SSH_ARGS[@]}" "$@"
	# the first line carries the time, and an untagged manifest's age in
	# minutes may tick over between two plans
	tail -n +2 <<<"$RUN_STDOUT" | sed -E 's/stored [0-9]+[mhd] ago/stored N ago/'
}
api_plan=$(plan_text)
is "$RUN_STATUS" 0 "plan through the API"
like "$api_plan" 'to delete' "it deletes something"
is "$(plan_text --index-from-storage)" "$api_plan" "the plan from the storage index is the same"

# a tag link that does not hold a digest: that repository is not read
# completely, so nothing is deleted in it, and the run says so
link=$REG_ROOT/docker/registry/v2/repositories/bulk/r0001/_manifests/tags/t0007/current/link
printf 'garbage' >"$link"
run "$REGSWEEP" plan --no-cache --keep-last 3 -r "$REG_URL" "${SSH_ARGS[@]}" --index-from-storage
is "$RUN_STATUS" 3 "a bad tag link makes the plan partial (exit 3)"
like "$RUN_STDERR" "'bulk/r0001': a tag link" "naming the repository and the cause"
like "$(sed -n '/^bulk\/r0001:/,/^$/p' <<<"$RUN_STDOUT")" '0 to delete' \
	"in which nothing is deleted"

tap_done
