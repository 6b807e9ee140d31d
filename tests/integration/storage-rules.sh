#!/usr/bin/env bash
# storage-rules.sh: one set of rules for every storage backend. A storage
# broken the ways crashes and hands break it (an empty or malformed tag
# link, a tag without its link, an empty revision link, names outside the
# registry's grammar) is read through every backend — the local walk, the
# one remote find over SSH, and SFTP (the fallback for a host whose find
# cannot print, emulated by a second sshd whose `find` refuses -printf) —
# and each must judge it alike: the run ends in part (exit 3) with the same
# message, nothing is deleted in the repository concerned, and the sound
# repository beside it is planned as usual.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export XDG_CACHE_HOME=$HARNESS_TMP/cache

# a find that cannot print, as busybox's: the storage view must fall back
mkdir -p "$HARNESS_TMP/busybox"
cat >"$HARNESS_TMP/busybox/find" <<'EOF'
#!/bin/sh
for a in "$@"; do
	case $a in -printf|-fprintf) echo "find: unrecognized: $a" >&2; exit 1 ;; esac
done
exec /usr/bin/find "$@"
EOF
chmod +x "$HARNESS_TMP/busybox/find"

sshd_start --path "$HARNESS_TMP/busybox" || bail_out "cannot start the busybox-like sshd"
SFTP_ARGS=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS")
sshd_start || bail_out "cannot start sshd"
FIND_ARGS=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS")
registry_start || bail_out "cannot start the registry"

DATED=(--created 2024-01-01T00:00:00Z --created-step 3600)
push_noise -q --repo good --distinct-tags g "${DATED[@]}" 3 >/dev/null || bail_out "push failed"
push_noise -q --repo bad --distinct-tags b "${DATED[@]}" 3 >/dev/null || bail_out "push failed"
V2=$REG_ROOT/docker/registry/v2
REPOS=$V2/repositories
registry_stop
cp -a "$REG_ROOT" "$HARNESS_TMP/pristine"
registry_restart >/dev/null || bail_out "cannot restart the registry"

# plan BACKEND: the plan with every tag read from the storage
plan() {
	local backend=$1
	local args=(plan --no-cache --keep-last 1 -r "$REG_URL" --index-from-storage
		--storage-root "$REG_ROOT")
	case $backend in
	local) ;;
	find) args+=("${FIND_ARGS[@]}" -v) ;;
	sftp) args+=("${SFTP_ARGS[@]}" -v) ;;
	esac
	run "$REGSWEEP" "${args[@]}"
}

# The sound storage first: every backend reads it, and the find one really
# ran find while the other fell back to SFTP.
for backend in local find sftp; do
	plan "$backend"
	is "$RUN_STATUS" 0 "$backend: a sound storage plans cleanly"
	like "$RUN_STDOUT" 'good: 3 tags \(2 to delete\)' "$backend: and deletes the old tags"
	eval "sound_$backend=\$RUN_STDOUT"
done
is "$(tail -n +2 <<<"$sound_find")" "$(tail -n +2 <<<"$sound_local")" "find and the local walk agree"
is "$(tail -n +2 <<<"$sound_sftp")" "$(tail -n +2 <<<"$sound_local")" "SFTP and the local walk agree"
plan sftp
like "$RUN_STDERR" "reading over SFTP instead" "the busybox-like host is read over SFTP"
plan find
unlike "$RUN_STDERR" "over SFTP" "the other host with one find"

# case NAME WANT COMMAND...: restore the storage, break it with COMMAND, and
# check every backend against WANT (the message that names the problem).
case_check() {
	local name=$1 want=$2 first= backend message
	shift 2
	rm -rf "$REG_ROOT" && cp -a "$HARNESS_TMP/pristine" "$REG_ROOT"
	"$@"
	for backend in local find sftp; do
		plan "$backend"
		is "$RUN_STATUS" 3 "$name, $backend: the plan is partial (exit 3)"
		message=$(grep '^regsweep: ' <<<"$RUN_STDERR" | grep -m1 -F "$want")
		isnt "$message" "" "$name, $backend: the message names it"
		[[ $TAP_LAST -eq 0 ]] || diag "stderr: $(tail -n 5 <<<"$RUN_STDERR")"
		if [[ -z $first ]]; then
			first=$message
		else
			is "$message" "$first" "$name, $backend: the same message as the local walk"
		fi
		like "$RUN_STDOUT" 'bad: [0-9]+ tags? \(0 to delete\)' \
			"$name, $backend: nothing is deleted in the repository concerned"
		like "$RUN_STDOUT" 'good: 3 tags \(2 to delete\)' "$name, $backend: the sound one is planned"
	done
}

empty_tag_link() { : >"$REPOS/bad/_manifests/tags/b2/current/link"; }
malformed_tag_link() { printf 'garbage' >"$REPOS/bad/_manifests/tags/b2/current/link"; }
tag_without_link() { rm -f "$REPOS/bad/_manifests/tags/b2/current/link"; }
odd_tag_name() { mv "$REPOS/bad/_manifests/tags/b2" "$REPOS/bad/_manifests/tags/b 2"; }
empty_revision_link() {
	local link
	link=$(find "$REPOS/bad/_manifests/revisions" -name link | head -n 1)
	: >"$link"
}

case_check "an empty tag link" "the tag 'b2' of 'bad' has an empty link" empty_tag_link
case_check "a malformed tag link" "the tag 'b2' of 'bad' has a link that does not hold a digest" \
	malformed_tag_link
case_check "a tag without its link" "the tag 'b2' of 'bad' has no current link" tag_without_link
case_check "a tag name with a space" "'bad' holds a tag or revision whose name has characters" \
	odd_tag_name
case_check "an empty revision link" "in 'bad' is empty" empty_revision_link

# A repository name outside the grammar: it is not a repository anyone can
# reach through the API; the run says so (exit 3) and deletes elsewhere.
rm -rf "$REG_ROOT" && cp -a "$HARNESS_TMP/pristine" "$REG_ROOT"
cp -a "$REPOS/bad" "$REPOS/Bad"
first=
for backend in local find sftp; do
	plan "$backend"
	is "$RUN_STATUS" 3 "an invalid repository name, $backend: partial (exit 3)"
	message=$(grep '^regsweep: ' <<<"$RUN_STDERR" | grep -m1 -F "is not a valid repository name")
	isnt "$message" "" "an invalid repository name, $backend: the message names it"
	if [[ -z $first ]]; then first=$message; else
		is "$message" "$first" "an invalid repository name, $backend: the same message"
	fi
	like "$RUN_STDOUT" 'good: 3 tags \(2 to delete\)' "an invalid repository name, $backend: the rest is planned"
done

tap_done
