#!/usr/bin/env bash
# untag.sh: a tag the policy drops whose digest a kept tag (or a kept index)
# needs goes alone: on distribution 3.x by a tag DELETE, on 2.x through a
# placeholder of regsweep's own pushed over the tag and deleted by digest.
# After apply the dropped tags are gone, every kept tag pulls completely and
# a dropped tag on its own digest is deleted; restore puts every tag back on
# its old digest; garbage collection takes the placeholder's blobs; untag:
# false (--no-untag, REGSWEEP_UNTAG) keeps the old behaviour; and a token
# without 'push' leaves the tag on 2.x, saying why (exit 3).
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
export REGSWEEP_CACHE_DIR=$HARNESS_TMP/cache

pulls() {
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" "$REG_URL" "$@"
}

gone() {
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" --gone "$REG_URL" "$@"
}

tag_digest() {
	awk -v r="$2" -v t="$3" '$1 == "tag" && $2 == r && $3 == t { d = $4 } END { print d }' <<<"$1"
}

# head_digest REPO REF: the digest REPO:REF resolves to now ("" when 404).
head_digest() {
	reg_curl -I -H "Accept: $ACCEPT_ALL" "$REG_URL/v2/$1/manifests/$2" |
		awk 'tolower($1) == "docker-content-digest:" { sub(/\r$/, "", $2); print $2 }'
}

# retag REPO FROM TO: put the manifest at FROM (tag or digest) under tag TO.
retag() {
	local body type
	body=$HARNESS_TMP/retag-body
	type=$(reg_curl -H "Accept: $ACCEPT_ALL" -o "$body" -w '%{content_type}' \
		"$REG_URL/v2/$1/manifests/$2")
	reg_curl -X PUT -H "Content-Type: $type" --data-binary "@$body" -o /dev/null \
		-w '%{http_code}\n' "$REG_URL/v2/$1/manifests/$3"
}

json_get() {
	"$HARNESS_PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2"
}

# blob_file DIGEST: the storage's data file of a blob (it may not exist).
blob_file() {
	printf '%s/docker/registry/v2/blobs/sha256/%s/%s/data\n' "$REG_ROOT" "${1:7:2}" "${1:7}"
}

gc() {
	registry_restart --readonly || return 1
	registry_gc >"$HARNESS_TMP/gc.log" 2>&1 || return 1
	registry_restart
}

# =========================================================================
registry_start || bail_out "cannot start the registry"
rec=$(
	push_noise -q --repo app --tag release-1.0 --created "$T0" 1
	push_noise -q --repo app --tag pr-18 --created "$T0" 1
	push_noise -q --repo multi --index --tag v2 --created "$T0" 1
)
shared=$(tag_digest "$rec" app release-1.0)
alone=$(tag_digest "$rec" app pr-18)
index=$(tag_digest "$rec" multi v2)
child=$(awk '$1 == "manifest" && $2 == "multi" { print $3; exit }' <<<"$rec")
is "$(retag app release-1.0 pr-17)" 201 "pr-17 shares the digest of release-1.0"
is "$(retag multi "$child" amd64-pr-3)" 201 "amd64-pr-3 tags a child of the kept index v2"
check "everything pulls before anything happens" pulls app:release-1.0 app:pr-17 app:pr-18 \
	multi:v2 multi:amd64-pr-3

cat >cfg.yml <<'EOF'
rules:
  - name: pr
    tags: 'regex:(amd64-)?pr-[0-9]+'
    keep: none
EOF

# --- plan ---------------------------------------------------------------------------
run "$REGSWEEP" plan -c cfg.yml -r "$REG_URL" --out plan.json
is "$RUN_STATUS" 0 "plan succeeds"
like "$RUN_STDOUT" "pr-17 +sha256:${shared:7:12} +[^ ]+ +untag +rule 'pr': keep none; its image stays \\(kept tag 'release-1.0'\\): the tag goes alone" \
	"a dropped tag on a kept digest is untagged, and says why"
like "$RUN_STDOUT" "amd64-pr-3 +sha256:${child:7:12} +[^ ]+ +untag +rule 'pr': keep none; its image stays \\(child of kept index 'v2'\\)" \
	"so is a dropped tag on a child of a kept index"
like "$RUN_STDOUT" "pr-18 +sha256:${alone:7:12} +[^ ]+ +delete +rule 'pr': keep none" \
	"a dropped tag on its own digest goes with it"
like "$RUN_STDOUT" "app: 3 tags \\(1 to delete, 1 to untag\\)" "the repository counts its untags"
like "$RUN_STDOUT" "totals: 2 repositories, 5 tags \\(1 to delete, 2 to untag\\)" "and so do the totals"
is "$(json_get plan.json '[x["decision"] for r in d["repositories"] for x in r["decisions"] if x["tag"] == "pr-17"][0]')" \
	untag "the plan file says untag"
is "$(json_get plan.json 'd["totals"]["tags_untagged"]')" 2 "and counts two"
is "$(json_get plan.json '[x["digest"] for x in d["deletions"]]')" "['$alone']" \
	"the only manifest it deletes is pr-18's"

# --- --no-untag, REGSWEEP_UNTAG and untag: false: the old behaviour -----------------
run "$REGSWEEP" plan -c cfg.yml -r "$REG_URL" --no-untag
like "$RUN_STDOUT" "pr-17 +sha256:${shared:7:12} +[^ ]+ +keep +shares digest with kept tag 'release-1.0'" \
	"--no-untag keeps a dropped tag on a kept digest"
unlike "$RUN_STDOUT" " untag " "and untags nothing"
run env REGSWEEP_UNTAG=false "$REGSWEEP" plan -c cfg.yml -r "$REG_URL" --json
is "$(printf '%s' "$RUN_STDOUT" | "$HARNESS_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["totals"]["tags_untagged"])')" \
	0 "REGSWEEP_UNTAG=false untags nothing"
printf 'untag: false\n' >>cfg.yml
run "$REGSWEEP" plan -c cfg.yml -r "$REG_URL"
like "$RUN_STDOUT" "amd64-pr-3 +sha256:${child:7:12} +[^ ]+ +keep +child of kept index 'v2'" \
	"untag: false in the config file does the same"
run "$REGSWEEP" plan -c cfg.yml -r "$REG_URL" --untag
like "$RUN_STDOUT" "pr-17 +sha256:${shared:7:12} +[^ ]+ +untag " "--untag overrides the file"
sed -i '/^untag: false$/d' cfg.yml

# --- dry run --------------------------------------------------------------------------
run "$REGSWEEP" apply plan.json -r "$REG_URL" --dry-run
is "$RUN_STATUS" 0 "apply --dry-run succeeds"
like "$RUN_STDOUT" "would untag +app:pr-17 \\(sha256:${shared:7:12}\\)" "it says what it would untag"
like "$RUN_STDOUT" "dry run: 1 would be deleted, 2 would be untagged" "and counts it"
is "$(head_digest app pr-17)" "$shared" "a dry run untags nothing"

# --- apply ----------------------------------------------------------------------------
run "$REGSWEEP" apply plan.json -r "$REG_URL" --backup-dir backup1 -v
is "$RUN_STATUS" 0 "apply succeeds"
like "$RUN_STDOUT" "untagged +app:pr-17 \\(sha256:${shared:7:12}\\)" "it untags pr-17"
like "$RUN_STDOUT" "untagged +multi:amd64-pr-3 \\(sha256:${child:7:12}\\)" "and amd64-pr-3"
like "$RUN_STDOUT" "apply: 1 deleted, 2 untagged, 0 already gone, 0 skipped, 0 failed" \
	"one manifest deleted, two tags removed alone"
check "the dropped tags are gone" gone app:pr-17 multi:amd64-pr-3 app:pr-18
check "the dropped tag on its own digest took its digest" gone "app@$alone"
check "every kept tag pulls completely (every blob verified)" pulls app:release-1.0 multi:v2
check "the untagged digests stay" pulls "app@$shared" "multi@$child"
is "$(json_get backup1/apply-result.json 'd["untagged"]')" 2 "the record in the backup counts the untags"
is "$(json_get backup1/apply-result.json '[i["action"] for i in d["items"]]')" \
	"['delete', 'untag', 'untag']" "and lists them as untag items"
is "$(json_get backup1/index.json 'sorted(m["tags"][0] for m in d["manifests"] if m.get("untag"))')" \
	"['amd64-pr-3', 'pr-17']" "the backup holds each untagged tag with its digest"
if registry_is 3; then
	like "$RUN_STDERR" "DELETE /v2/app/manifests/regsweep-probe-[0-9a-f]+ 404" \
		"the probe finds that 3.x deletes a tag alone"
	like "$RUN_STDERR" "DELETE /v2/app/manifests/pr-17 202" "3.x deletes the tag alone"
	unlike "$RUN_STDERR" "blobs/uploads" "and pushes nothing"
	placeholder='' config=''
else
	like "$RUN_STDERR" "DELETE /v2/app/manifests/regsweep-probe-[0-9a-f]+ 400" \
		"the probe finds that 2.x deletes only by digest"
	like "$RUN_STDERR" "PUT /v2/app/manifests/pr-17 201" "2.x: a placeholder is pushed over the tag"
	placeholder=$(grep -oE 'DELETE /v2/app/manifests/sha256:[0-9a-f]{64} 202' <<<"$RUN_STDERR" |
		grep -v "$alone" | head -n 1 | grep -oE 'sha256:[0-9a-f]{64}')
	config=$(grep -oE 'PUT /v2/app/blobs/uploads/[^ ]*digest=sha256%3A[0-9a-f]{64}' <<<"$RUN_STDERR" |
		head -n 1 | grep -oE '[0-9a-f]{64}$')
	config=${config:+sha256:$config}
	isnt "$placeholder" "" "and deleted by digest"
	isnt "$config" "" "its config blob was uploaded"
	check "the placeholder is gone by digest" gone "app@$placeholder"
	ok "$([[ -f $(blob_file "$config") ]] && echo 0 || echo 1)" \
		"its config blob stays in the storage until garbage collection"
fi

# --- apply again: nothing left ------------------------------------------------------
run "$REGSWEEP" apply plan.json -r "$REG_URL" --backup-dir backup1
is "$RUN_STATUS" 0 "the same plan again succeeds"
like "$RUN_STDOUT" "apply: 0 deleted, 0 untagged, 3 already gone" "finding everything already gone"

# --- restore ------------------------------------------------------------------------
run "$REGSWEEP" restore backup1 -r "$REG_URL"
is "$RUN_STATUS" 0 "restore succeeds"
is "$(head_digest app pr-17)" "$shared" "pr-17 resolves to its old digest again"
is "$(head_digest multi amd64-pr-3)" "$child" "amd64-pr-3 too"
is "$(head_digest app pr-18)" "$alone" "pr-18 is back on its digest"
is "$(head_digest app release-1.0) $(head_digest multi v2)" "$shared $index" \
	"the kept tags did not move"
check "everything pulls after restore" pulls app:release-1.0 app:pr-17 app:pr-18 multi:v2 \
	multi:amd64-pr-3

# --- garbage collection -------------------------------------------------------------
gc
ok $? "garbage collection runs"
check "every tag pulls completely after garbage collection" pulls app:release-1.0 app:pr-17 \
	app:pr-18 multi:v2 multi:amd64-pr-3
if [[ -n $config ]]; then
	ok "$([[ ! -e $(blob_file "$config") && ! -e $(blob_file "$placeholder") ]] && echo 0 || echo 1)" \
		"garbage collection took the placeholder's blobs"
	is "$(reg_curl -o /dev/null -w '%{http_code}' -I "$REG_URL/v2/app/blobs/$config")" 404 \
		"its config blob is gone"
fi

# --- a tag that moves between plan and apply stays -------------------------------------
run "$REGSWEEP" plan -c cfg.yml -r "$REG_URL" --out moved.json
is "$(json_get moved.json 'd["totals"]["tags_untagged"]')" 2 "a plan that untags pr-17 again"
moved=$(push_noise -q --repo app --tag pr-17 --created 2025-01-01T00:00:00Z 1 | awk '$1 == "tag" { print $4 }')
run "$REGSWEEP" apply moved.json -r "$REG_URL" --backup-dir backup-moved
is "$RUN_STATUS" 3 "apply with an untagged tag that moved is done in part (exit 3)"
like "$RUN_STDOUT" "skipped +app:pr-17 \\(sha256:${shared:7:12}\\)  tag 'pr-17' moved since the plan \\(now sha256:${moved:7:12}\\)" \
	"the moved tag is skipped, and says why"
is "$(head_digest app pr-17)" "$moved" "it still points at the new push"
check "and the new push pulls" pulls app:pr-17 app:release-1.0
like "$RUN_STDOUT" "apply: 1 deleted, 1 untagged" "the rest of the plan went"
is "$(retag app release-1.0 pr-17)" 201 "pr-17 back on release-1.0's digest"
run "$REGSWEEP" restore backup-moved -r "$REG_URL"
is "$RUN_STATUS $(head_digest app pr-18) $(head_digest multi amd64-pr-3)" "0 $alone $child" \
	"and the rest back from the backup"

# --- a token without 'push' ---------------------------------------------------------
root=$REG_ROOT
registry_stop
registry_start --root "$root" --token-auth --token-withhold push || bail_out "no token registry"
creds=(-r "$REG_URL" -u "$REG_USER")
REGSWEEP_PASSWORD=$REG_PASS run "$REGSWEEP" plan -c cfg.yml "${creds[@]}" --out nopush.json
is "$RUN_STATUS" 0 "plan with a token without 'push' succeeds"
if registry_is 3; then
	like "$RUN_STDOUT" "pr-17 +sha256:${shared:7:12} +[^ ]+ +untag " \
		"3.x needs no 'push' to untag: the plan untags"
else
	like "$RUN_STDOUT" "pr-17 +sha256:${shared:7:12} +[^ ]+ +keep +rule 'pr': keep none; .*; but it stays: the credentials lack 'push' on 'app'" \
		"2.x: the plan says the tag stays, and why"
	like "$RUN_STDOUT" "2 that cannot be untagged here" "and counts it"
	like "$(json_get nopush.json '[x.get("untag_blocked", "") for r in d["repositories"] for x in r["decisions"] if x["tag"] == "pr-17"][0]')" \
		"lack 'push' on 'app'" "the plan file says why too"
fi
REGSWEEP_PASSWORD=$REG_PASS run "$REGSWEEP" apply -c cfg.yml "${creds[@]}" --backup-dir backup2 \
	--report report.json
pass=$REG_PASS
if registry_is 3; then
	is "$RUN_STATUS" 0 "3.x: apply with a token without 'push' untags (exit 0)"
else
	is "$RUN_STATUS" 3 "2.x: apply with a token without 'push' is done in part (exit 3)"
	like "$RUN_STDOUT" "skipped +app:pr-17 \\(sha256:${shared:7:12}\\)  the credentials lack 'push' on 'app'" \
		"it says why the tag stays"
	like "$RUN_STDERR" "a tag that stays: 'app:pr-17': the credentials lack 'push'" \
		"and so does the error"
	is "$(json_get report.json '[i["detail"] for i in d["items"] if i["action"] == "untag"][0][:40]')" \
		"the credentials lack 'push' on 'app', wh" "the report gives the untag's outcome, with why"
	is "$(json_get report.json '[i["outcome"] for i in d["items"]]')" \
		"['deleted', 'skipped', 'skipped']" "pr-18 is deleted, both untags skipped"
fi
unlike "$RUN_STDOUT$RUN_STDERR$(cat backup2/*.json report.json)" "$pass" \
	"the password appears nowhere"
# look without credentials
registry_stop
registry_start --root "$root" || bail_out "cannot restart the registry without auth"
if registry_is 3; then
	check "the dropped tags are gone" gone app:pr-17 multi:amd64-pr-3
else
	is "$(head_digest app pr-17) $(head_digest multi amd64-pr-3)" "$shared $child" \
		"the tags that cannot be untagged stay where they were"
fi
check "nothing else changes: pr-18 is deleted" gone app:pr-18 "app@$alone"
check "and the kept tags pull" pulls app:release-1.0 multi:v2

tap_done
