#!/usr/bin/env bash
# apply.sh: plan and apply against a real registry: every kept tag still
# pulls completely (before and after garbage collection), every dropped tag
# is gone, restore brings them back, a second run completes the job, a tag
# that moves is skipped, and refusals (deletes disabled, read-only, no
# delete permission) stop with a clear message and delete nothing.
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

# pulls REF...: every reference pulls completely (pull-check.py).
pulls() {
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" "$REG_URL" "$@"
}

# gone REF...: every reference answers 404.
gone() {
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" --gone "$REG_URL" "$@"
}

# tag_digest RECORDS REPO TAG: the digest the last `tag` record gives REPO:TAG.
tag_digest() {
	awk -v r="$2" -v t="$3" '$1 == "tag" && $2 == r && $3 == t { d = $4 } END { print d }' <<<"$1"
}

# children_of RECORDS REPO TAG: manifests pushed in the same push, before the
# index tagged TAG (its children), as REPO@DIGEST words.
children_of() {
	awk -v r="$2" -v t="$3" '
		$1 == "tag" && $2 == r { if ($3 == t) { for (i = 1; i < n; i++) print r "@" m[i]; exit } n = 0; next }
		$1 == "manifest" && $2 == r { m[++n] = $3 }' <<<"$1"
}

# referrer_of RECORDS REPO TAG: the untagged manifest pushed right after TAG.
referrer_of() {
	awk -v r="$2" -v t="$3" '
		$1 == "tag" && $2 == r && $3 == t { seen = 1; next }
		seen && $1 == "manifest" && $2 == r { print r "@" $3; exit }' <<<"$1"
}

# retag REPO FROM TO: put the manifest at FROM under tag TO too.
retag() {
	local body type
	body=$HARNESS_TMP/retag-body
	type=$(reg_curl -H "Accept: $ACCEPT_ALL" -o "$body" -w '%{content_type}' \
		"$REG_URL/v2/$1/manifests/$2")
	reg_curl -X PUT -H "Content-Type: $type" --data-binary "@$body" -o /dev/null \
		-w '%{http_code}\n' "$REG_URL/v2/$1/manifests/$3"
}

# storage_listing: every file of the registry's storage with its size.
storage_listing() {
	(cd "$REG_ROOT" && find . -type f -printf '%p %s\n' | sort | md5sum)
}

# json_get JSON PYTHON-EXPR: evaluate EXPR with `d` bound to the parsed JSON.
json_get() {
	"$HARNESS_PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2"
}

# gc: garbage-collect the registry made read-only, then restart it writable.
gc() {
	registry_restart --readonly || return 1
	registry_gc >"$HARNESS_TMP/gc.log" 2>&1 || return 1
	registry_restart
}

# =========================================================================
# The scenarios
registry_start
rec=$(
	push_noise -q --repo ci --distinct-tags b --created "$T0" --created-step 86400 5
	push_noise -q --repo twotags --tag latest --created "$T0" 1
	push_noise -q --repo twotags --tag build-2 --created "$T0" 1
	push_noise -q --repo multi/oci --index --oci --distinct-tags v --created "$T0" --created-step 86400 2
	push_noise -q --repo multi/docker --index --distinct-tags v --created "$T0" --created-step 86400 2
	push_noise -q --repo signed --oci --sign --distinct-tags s --created "$T0" --created-step 86400 2
	push_noise -q --repo refs --oci --referrer --distinct-tags r --created "$T0" --created-step 86400 2
	push_noise -q --repo shared-a --base-layer --layers 1 --distinct-tags v 2
	push_noise -q --repo shared-b --base-layer --layers 1 --distinct-tags v 1
)
is "$(retag twotags latest build-1)" 201 "a second tag on the digest of 'latest'"

s1=$(tag_digest "$rec" signed s1)
s2=$(tag_digest "$rec" signed s2)
sig1=sha256-${s1#sha256:}.sig
sig2=sha256-${s2#sha256:}.sig
kept=(ci:b4 ci:b5 twotags:latest twotags:build-1 multi/oci:v2 multi/docker:v2 signed:s2
	"signed:$sig2" refs:r2 "$(referrer_of "$rec" refs r2)" shared-b:v1
	$(children_of "$rec" multi/oci v2) $(children_of "$rec" multi/docker v2))
dropped=(ci:b1 ci:b2 ci:b3 twotags:build-2 multi/oci:v1 multi/docker:v1 signed:s1 "signed:$sig1"
	refs:r1 shared-a:v1 shared-a:v2
	$(children_of "$rec" multi/oci v1) $(children_of "$rec" multi/docker v1))
is "${#kept[@]}" 15 "the scenario names 15 references to keep"
is "${#dropped[@]}" 15 "and 15 to drop"
check "every reference pulls before anything happens" pulls "${kept[@]}" "${dropped[@]}"

cat >cfg.yml <<'EOF'
# the policy of the scenarios; a dropped tag on a kept digest stays as it
# did before untag existed (untag.sh tests removing it alone)
untag: false
keep_tags: [latest]
rules:
  - name: ci-builds
    repos: ci
    tags: 'b*'
    keep_last: 2
  - name: multi-arch
    repos: 'regex:multi/(oci|docker)'
    keep_last: 1
  - name: signed
    repos: [signed, refs]
    keep_last: 1
  - name: drop-a
    repos: shared-a
    keep: none
  - name: builds
    repos: twotags
    tags: build-*
    keep: none
EOF

# --- plan -------------------------------------------------------------------
before=$(storage_listing)
run "$REGSWEEP" plan -c cfg.yml -r "$REG_URL" --out plan.json
is "$RUN_STATUS" 0 "plan succeeds"
is "$(storage_listing)" "$before" "plan changes nothing in the storage"
is "$(stat -c %a plan.json)" 600 "the plan file is private (0600)"
like "$RUN_STDOUT" "b1 +sha256:[0-9a-f]{12} +2024-01-02T00:00:00Z +delete +rule 'ci-builds': beyond newest 2" \
	"a dropped CI build says which rule and why"
like "$RUN_STDOUT" "build-1 +sha256:[0-9a-f]{12} +[^ ]+ +keep +shares digest with kept tag 'latest'" \
	"a dropped tag on a kept digest stays, and says why"
like "$RUN_STDOUT" "\\(untagged\\) +sha256:[0-9a-f]{12} +[^ ]+ +keep +child of kept index 'v2'" \
	"children of a kept index are kept"
like "$RUN_STDOUT" "keep +signature of kept sha256:${s2:7:12}" "the kept image's signature is kept"
like "$RUN_STDOUT" "delete +signature of deleted sha256:${s1:7:12}" "the dropped image's signature goes"
like "$RUN_STDOUT" "totals: 8 repositories, [0-9]+ tags \\(11 to delete\\), [0-9]+ manifests \\(15 to delete" \
	"the totals count what goes"
is "$(json_get plan.json 'len(d["deletions"])')" 15 "the plan file lists 15 deletions"
is "$(json_get plan.json 'sorted(d["deletions"][0].keys())')" \
	"['children', 'created', 'digest', 'media_type', 'reason', 'repository', 'size', 'stored_at', 'subject', 'tags']" \
	"each deletion has repository, digest, tags, reason and media type"
is "$(json_get plan.json '[r["tags"]["b5"] for r in d["repositories"] if r["name"] == "ci"][0]')" \
	"$(tag_digest "$rec" ci b5)" "the plan file holds the tag map it was decided on"

# --- apply --------------------------------------------------------------------
run "$REGSWEEP" apply plan.json -r "$REG_URL" --backup-dir backup1
is "$RUN_STATUS" 0 "apply succeeds"
like "$RUN_STDOUT" "apply: 15 deleted, 0 already gone, 0 skipped, 0 failed, 0 not attempted" \
	"apply deletes all 15"
check "every kept tag pulls completely after apply" pulls "${kept[@]}"
check "every dropped tag and child is gone" gone "${dropped[@]}"
is "$(stat -c %a backup1)" 700 "the backup directory is private (0700)"
is "$(find backup1 -type f ! -perm 600 | wc -l)" 0 "every backup file is private (0600)"
is "$(json_get backup1/index.json 'len(d["manifests"])')" 15 "the backup holds the 15 manifests"
is "$(json_get backup1/apply-result.json 'd["deleted"]')" 15 "apply records what it did in the backup"

# --- restore brings everything back ----------------------------------------------
run "$REGSWEEP" restore backup1 -r "$REG_URL"
is "$RUN_STATUS" 0 "restore succeeds"
like "$RUN_STDOUT" "restore: 15 restored, 0 still present, 0 cannot come back, 0 failed, 0 not attempted; 11 tags back" \
	"restore puts back 15 manifests and their 11 tags"
check "every deleted tag pulls again after restore" pulls "${dropped[@]}" "${kept[@]}"

# --- the same plan again, then once more: the second run has nothing left ----------
run "$REGSWEEP" apply plan.json -r "$REG_URL" --backup-dir backup2
is "$RUN_STATUS" 0 "the plan applies again to the restored registry"
check "dropped tags are gone again" gone "${dropped[@]}"
run "$REGSWEEP" apply plan.json -r "$REG_URL" --backup-dir backup2
is "$RUN_STATUS" 0 "a second run of the same plan succeeds"
like "$RUN_STDOUT" "apply: 0 deleted, 15 already gone" "a second run finds everything already gone"
is "$(json_get backup2/index.json 'len(d["manifests"])')" 15 \
	"the second run adds to the same backup without losing the copies"

# --- garbage collection: every kept image still pulls ------------------------------
# not through `check`: the restarts must happen in this shell, which tracks the registry
gc
ok $? "garbage collection runs"
check "every kept tag pulls completely after garbage collection" pulls "${kept[@]}"
check "dropped tags stay gone" gone "${dropped[@]}"

# --- restore after GC says what cannot come back ----------------------------------
run "$REGSWEEP" restore backup2 -r "$REG_URL"
is "$RUN_STATUS" 3 "restore after GC is partly done (exit 3)"
like "$RUN_STDOUT" "cannot come back +ci@sha256:[0-9a-f]{12} b1  blob sha256:[0-9a-f]{12} is gone \\(removed by garbage collection\\)" \
	"it names the blob that is gone"
check "kept images still pull after a partial restore" pulls "${kept[@]}"

# --- a tag that moves between plan and apply is skipped ---------------------------
rec=$(push_noise -q --repo moving --distinct-tags m --created "$T0" --created-step 86400 3)
m1=$(tag_digest "$rec" moving m1)
m2=$(tag_digest "$rec" moving m2)
run "$REGSWEEP" plan -r "$REG_URL" --repos moving --keep-last 1 --out moving.json
is "$RUN_STATUS" 0 "plan for the moving repository"
is "$(json_get moving.json 'len(d["deletions"])')" 2 "m1 and m2 would go"
rec2=$(push_noise -q --repo moving --tag m1 --created 2025-01-01T00:00:00Z 1)
is "$(retag moving m2 keepme)" 201 "another tag now points at m2's digest"
run "$REGSWEEP" apply moving.json -r "$REG_URL" --backup-dir moving-backup
is "$RUN_STATUS" 3 "apply with a moved tag is partly done (exit 3)"
like "$RUN_STDOUT" "skipped +moving@sha256:${m1:7:12} m1  tag 'm1' moved since the plan" \
	"the digest whose tag moved is skipped, and says why"
like "$RUN_STDOUT" "skipped +moving@sha256:${m2:7:12} m2  tag 'keepme' now points at it" \
	"the digest a new tag points at is skipped"
check "the moved tag pulls" pulls moving:m1 moving:m2 moving:keepme moving:m3 "moving@$m1"
is "$(tag_digest "$rec2" moving m1)" "$(reg_curl -I -H "Accept: $ACCEPT_ALL" "$REG_URL/v2/moving/manifests/m1" |
	awk 'tolower($1) == "docker-content-digest:" { sub(/\r$/, "", $2); print $2 }')" \
	"m1 points at the new push"

# --- dry run ------------------------------------------------------------------------
before=$(storage_listing)
run "$REGSWEEP" apply --dry-run -r "$REG_URL" --keep-last 0
is "$RUN_STATUS" 0 "apply --dry-run succeeds"
like "$RUN_STDOUT" "would delete +ci@" "it says what it would delete"
like "$RUN_STDOUT" "nothing was changed" "and that nothing changed"
is "$(storage_listing)" "$before" "a dry run changes nothing"
is "$(find . -maxdepth 1 -name 'regsweep-backup-*' | wc -l)" 0 "a dry run writes no backup"

# --- a plan for another registry is refused -----------------------------------------
sed 's#"registry":\t"[^"]*"#"registry":\t"http://127.0.0.1:1"#' plan.json >other.json
run "$REGSWEEP" apply other.json -r "$REG_URL"
is "$RUN_STATUS" 2 "a plan made for another registry is refused (exit 2)"
like "$RUN_STDERR" "the plan was made for 'http://127.0.0.1:1'" "and says so"

# --- read-only: nothing deleted, a clear message --------------------------------------
run "$REGSWEEP" plan -r "$REG_URL" --repos ci --keep-last 0 --out ro.json
registry_restart --readonly
before=$(storage_listing)
run "$REGSWEEP" apply ro.json -r "$REG_URL" --backup-dir ro-backup
is "$RUN_STATUS" 1 "apply on a read-only registry fails (exit 1)"
like "$RUN_STDERR" "read-only mode" "it says the registry is read-only"
like "$RUN_STDOUT" "apply: 0 deleted, 0 already gone, 0 skipped, 1 failed, 1 not attempted" \
	"it stops at the first refusal"
is "$(storage_listing)" "$before" "nothing is deleted on a read-only registry"
registry_restart

# --- deletes disabled -----------------------------------------------------------------
registry_start --no-delete
push_noise -q --repo app --distinct-tags v --created "$T0" --created-step 86400 3 >/dev/null
before=$(storage_listing)
run "$REGSWEEP" apply -r "$REG_URL" --keep-last 1 --backup-dir nodelete-backup
is "$RUN_STATUS" 1 "apply with deletes disabled fails (exit 1)"
like "$RUN_STDERR" "deletes are disabled on this registry: set storage.delete.enabled: true \\(or REGISTRY_STORAGE_DELETE_ENABLED=true\\)" \
	"it says how to enable deletes"
is "$(storage_listing)" "$before" "nothing is deleted when deletes are disabled"
check "every tag still pulls" pulls app:v1 app:v2 app:v3

# --- token auth without the delete scope ------------------------------------------------
registry_start --token-auth --token-withhold-delete
push_noise -q --repo app --distinct-tags v --created "$T0" --created-step 86400 2 >/dev/null
REGSWEEP_PASSWORD=$REG_PASS run "$REGSWEEP" apply -r "$REG_URL" -u "$REG_USER" --keep-last 1 \
	--backup-dir token-backup
is "$RUN_STATUS" 1 "apply without the delete scope fails (exit 1)"
like "$RUN_STDERR" "'app'.* lacks? 'delete'|lacks? 'delete'.*'app'" \
	"it says the credentials lack delete on the repository"
unlike "$RUN_STDOUT$RUN_STDERR$(cat token-backup/*.json)" "$REG_PASS" \
	"the password appears nowhere in output, logs or the backup"

tap_done
