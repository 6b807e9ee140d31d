#!/usr/bin/env bash
# restore.sh: `regsweep restore DIR` against a real registry: a dry run
# changes nothing, manifests come back children first with their tags, a
# tag that moved since is never overwritten, a damaged copy is refused, and
# what garbage collection removed is named as gone.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

tap_noplan
harness_tmpdir
require_regsweep

readonly ACCEPT_ALL='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
readonly T0=2024-01-01T00:00:00Z
cd "$HARNESS_TMP" || bail_out "no temporary directory"
# a cache of our own, not the user's
export REGSWEEP_CACHE_DIR=$HARNESS_TMP/cache

pulls() {
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" "$REG_URL" "$@"
}

gone() {
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" --gone "$REG_URL" "$@"
}

storage_listing() {
	(cd "$REG_ROOT" && find . -type f -printf '%p %s\n' | sort | md5sum)
}

# current REPO TAG: the digest REPO:TAG points at now.
current() {
	reg_curl -I -H "Accept: $ACCEPT_ALL" "$REG_URL/v2/$1/manifests/$2" |
		awk 'tolower($1) == "docker-content-digest:" { sub(/\r$/, "", $2); print $2 }'
}

registry_start
rec=$(
	push_noise -q --repo app --distinct-tags v --created "$T0" --created-step 86400 3
	push_noise -q --repo multi --index --distinct-tags v --created "$T0" --created-step 86400 2
	push_noise -q --repo oci --index --oci --sign --distinct-tags v --created "$T0" --created-step 86400 2
)
v1=$(awk '$1 == "tag" && $2 == "app" && $3 == "v1" { print $4 }' <<<"$rec")

run "$REGSWEEP" apply -r "$REG_URL" --keep-last 1 --backup-dir backup
is "$RUN_STATUS" 0 "apply keeps the newest image of each repository"
check "the dropped tags are gone" gone app:v1 app:v2 multi:v1 oci:v1

# --- usage ---------------------------------------------------------------------------
run "$REGSWEEP" restore -r "$REG_URL"
is "$RUN_STATUS" 2 "restore without a directory is a usage error"
mkdir not-a-backup
run "$REGSWEEP" restore not-a-backup -r "$REG_URL"
is "$RUN_STATUS" 2 "a directory without a backup is refused (exit 2)"
like "$RUN_STDERR" "'not-a-backup' is not a regsweep backup" "and says so"

# --- dry run -------------------------------------------------------------------------
before=$(storage_listing)
run "$REGSWEEP" restore backup -r "$REG_URL" --dry-run
is "$RUN_STATUS" 0 "restore --dry-run succeeds"
like "$RUN_STDOUT" "dry run: 9 can be restored, 0 still present, 0 cannot come back, 0 failed" \
	"it says what it can restore"
is "$(storage_listing)" "$before" "a dry run changes nothing"

# --- a tag pushed again since apply is left alone ----------------------------------
rec2=$(push_noise -q --repo app --tag v1 --created 2025-01-01T00:00:00Z 1)
new_v1=$(awk '$1 == "tag" && $3 == "v1" { print $4 }' <<<"$rec2")
run "$REGSWEEP" restore backup -r "$REG_URL" --json
is "$RUN_STATUS" 3 "restore with a tag that moved is partly done (exit 3)"
printf '%s\n' "$RUN_STDOUT" >restore.json
is "$("$HARNESS_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["restored"], d["tags_left_alone"])' restore.json)" \
	"9 1" "every manifest comes back; one tag is left alone"
like "$(cat restore.json)" "tag 'v1' now points at sha256:${new_v1:7:12}: left alone" \
	"the moved tag is named"
is "$(current app v1)" "$new_v1" "the moved tag still points at the new push"
check "the old image is back by digest" pulls "app@$v1"
check "the other tags are back and pull completely (index children first)" \
	pulls app:v2 app:v3 multi:v1 multi:v2 oci:v1 oci:v2
sig=$(awk '$1 == "tag" && $2 == "oci" && $3 ~ /^sha256-/ { print $3; exit }' <<<"$rec")
check "the signature of the restored image is back" pulls "oci:$sig"

# --- a second restore finds everything present -----------------------------------------
run "$REGSWEEP" restore backup -r "$REG_URL"
like "$RUN_STDOUT" "restore: 0 restored, 9 still present" "a second restore has nothing to do"

# --- a damaged copy is refused ----------------------------------------------------------
run "$REGSWEEP" apply -r "$REG_URL" --repos app --keep-last 1 --backup-dir backup2
is "$RUN_STATUS" 0 "apply again"
victim=$(ls backup2/manifests/sha256 | head -n 1)
printf ' ' >>"backup2/manifests/sha256/$victim"
run "$REGSWEEP" restore backup2 -r "$REG_URL"
is "$RUN_STATUS" 3 "restore with a damaged copy is partly done"
like "$RUN_STDOUT" "failed +app@sha256:${victim:0:12} .*does not match its digest: the backup is damaged" \
	"the damaged copy is refused, never sent"

# --- after garbage collection: say what cannot come back -------------------------------
run "$REGSWEEP" apply -r "$REG_URL" --repos multi --keep-last 1 --backup-dir backup3
is "$RUN_STATUS" 0 "apply drops multi:v1"
registry_restart --readonly
registry_gc >gc.log 2>&1
ok $? "garbage collection runs"
registry_restart
run "$REGSWEEP" restore backup3 -r "$REG_URL"
is "$RUN_STATUS" 3 "restore after GC is partly done (exit 3)"
like "$RUN_STDOUT" "cannot come back +multi@sha256:[0-9a-f]{12} [(]untagged[)]  blob sha256:[0-9a-f]{12} is gone \\(removed by garbage collection\\)" \
	"a child whose blobs are gone cannot come back"
like "$RUN_STDOUT" "cannot come back +multi@sha256:[0-9a-f]{12} v1  child sha256:[0-9a-f]{12} cannot come back" \
	"nor can its index"
check "the kept image still pulls" pulls multi:v2

tap_done
