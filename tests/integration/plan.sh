#!/usr/bin/env bash
# plan.sh: `regsweep plan` against a real registry: it changes nothing, says
# why for every tag, writes the plan as JSON, reads the YAML config file
# (errors name file, line and key), and deletes nothing in a repository it
# could not read completely.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

tap_noplan
harness_tmpdir
require_regsweep

readonly T0=2024-01-01T00:00:00Z
cd "$HARNESS_TMP" || bail_out "no temporary directory"
# a cache of our own, not the user's
export REGSWEEP_CACHE_DIR=$HARNESS_TMP/cache

storage_listing() {
	(cd "$REG_ROOT" && find . -type f -printf '%p %s\n' | sort | md5sum)
}

# json_get FILE PYTHON-EXPR: evaluate EXPR with `d` bound to the parsed JSON.
json_get() {
	"$HARNESS_PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2"
}

registry_start --htpasswd alice:plan-secret-42
export REGSWEEP_USERNAME=alice REGSWEEP_PASSWORD=plan-secret-42
rec=$(
	push_noise -q --repo app/web --distinct-tags v --created "$T0" --created-step 86400 4
	push_noise -q --repo app/api --distinct-tags pr- --created "$T0" --created-step 86400 3
	push_noise -q --repo tools --tag latest --created none 1
	push_noise -q --repo broken --distinct-tags x --created "$T0" 2
)

# --- no policy: every tag stays ------------------------------------------------------
before=$(storage_listing)
run "$REGSWEEP" plan -r "$REG_URL"
is "$RUN_STATUS" 0 "plan without rules succeeds"
like "$RUN_STDOUT" "policy: no rules \\(every tag kept\\); untagged: delete after 24h" \
	"with no rules every tag stays and only untagged history goes"
like "$RUN_STDOUT" "totals: 4 repositories, 10 tags \\(0 to delete\\), 10 manifests \\(0 to delete" \
	"nothing would be deleted"
is "$(storage_listing)" "$before" "plan changes nothing"

# --- the command-line rule -----------------------------------------------------------
run "$REGSWEEP" plan -r "$REG_URL" --repos 'app/*' --tags 'v*' --keep-last 2 --keep-tags v1
is "$RUN_STATUS" 0 "plan with a command-line rule succeeds"
like "$RUN_STDOUT" "v1 +sha256:[0-9a-f]{12} +2024-01-02T00:00:00Z +keep +always kept \\(keep_tags 'v1'\\)" \
	"keep_tags keeps a tag whatever its age"
like "$RUN_STDOUT" "v2 +sha256:[0-9a-f]{12} +2024-01-03T00:00:00Z +delete +rule 'command line': beyond newest 2" \
	"an old tag goes, with the rule and the reason"
like "$RUN_STDOUT" "v4 +sha256:[0-9a-f]{12} +2024-01-05T00:00:00Z +keep +rule 'command line': among newest 2" \
	"the newest stay"
like "$RUN_STDOUT" "pr-1 +sha256:[0-9a-f]{12} +[^ ]+ +keep +no rule claims it" \
	"a tag no rule claims stays"
run "$REGSWEEP" --keep-last 2 --repos 'app/*' -r "$REG_URL" --tags 'v*' --keep-tags v1 plan
a=$(grep -v '^plan for' <<<"$RUN_STDOUT")
run "$REGSWEEP" plan -r "$REG_URL" --repos 'app/*' --tags 'v*' --keep-last 2 --keep-tags v1
is "$a" "$(grep -v '^plan for' <<<"$RUN_STDOUT")" "options work before and after the command name"

run "$REGSWEEP" plan -r "$REG_URL" --repos 'app/*'
is "$RUN_STATUS" 2 "a rule that does not say what it keeps is a usage error (exit 2)"
like "$RUN_STDERR" "say what it keeps with --keep-last or --keep-newer-than" "and says what is missing"

# --- the config file ---------------------------------------------------------------
cat >policy.yml <<'EOF'
registry_unused_placeholder: 1
EOF
run "$REGSWEEP" plan -r "$REG_URL" -c policy.yml
is "$RUN_STATUS" 2 "an unknown key in the config file is a usage error (exit 2)"
like "$RUN_STDERR" "policy.yml:1: unknown key 'registry_unused_placeholder'" \
	"the error names the file, the line and the key"

cat >policy.yml <<'EOF'
untagged_grace: 48h
rules:
  - name: pull-requests
    repos: app/api
    tags: 'regex:pr-[0-9]+'
    keep_newer_than: 1d
    color: blue
EOF
run "$REGSWEEP" plan -r "$REG_URL" -c policy.yml
is "$RUN_STATUS" 2 "an unknown rule key is a usage error"
like "$RUN_STDERR" "policy.yml:7: unknown key 'color' in a rule" "it names the line of the key"

cat >policy.yml <<EOF
registry: $REG_URL
password: plan-secret-42
untagged_grace: 48h
keep_tags: [v1]
rules:
  - name: pull-requests
    repos: app/api
    tags: 'regex:pr-[0-9]+'
    keep: none
  - name: web
    repos: [app/web]
    keep_newer_than: 30d
    keep_last: 1
EOF
chmod 644 policy.yml
run env -u REGSWEEP_PASSWORD "$REGSWEEP" plan -c policy.yml --out plan.json
is "$RUN_STATUS" 0 "plan with rules from the config file succeeds"
like "$RUN_STDERR" "warning: config file 'policy.yml' holds a secret and is readable by group or others" \
	"a readable config file holding a secret draws a warning"
like "$RUN_STDOUT" "policy: rule 'pull-requests' \\(repos app/api, tags regex:pr-\\[0-9\\]\\+\\): keep none; rule 'web' \\(repos app/web, all tags\\): keep_last 1, keep_newer_than 30d; keep_tags v1; untagged: delete after 48h" \
	"the policy summary comes from the file"
like "$RUN_STDOUT" "pr-2 +sha256:[0-9a-f]{12} +[^ ]+ +delete +rule 'pull-requests': keep none" \
	"a keep: none rule drops what it claims"
like "$RUN_STDOUT" "v3 +sha256:[0-9a-f]{12} +[^ ]+ +delete +rule 'web': beyond newest 1 and older than 30d" \
	"keep_last and keep_newer_than together"
like "$RUN_STDOUT" "latest +sha256:[0-9a-f]{12} +unknown +keep +no rule claims it" \
	"an image without a date is listed with an unknown date"
unlike "$RUN_STDOUT$RUN_STDERR$(cat plan.json)" "plan-secret-42" \
	"the password appears nowhere in output or the plan file"
is "$(stat -c %a plan.json)" 600 "the plan file is private"

# --- a repository that cannot be read completely --------------------------------------
broken=$(awk '$1 == "tag" && $2 == "broken" && $3 == "x1" { print $4 }' <<<"$rec")
rm -f "$REG_ROOT/docker/registry/v2/blobs/sha256/${broken:7:2}/${broken:7}/data"
registry_restart
# without the cache: a cached copy would stand in for what the registry lost
run "$REGSWEEP" plan -r "$REG_URL" --keep-last 0 --json --no-cache
is "$RUN_STATUS" 3 "a registry with an unreadable manifest is planned in part (exit 3)"
like "$RUN_STDERR" "some repositories could not be read completely, so nothing is deleted in them" \
	"it says nothing is deleted there"
printf '%s\n' "$RUN_STDOUT" >partial.json
is "$(json_get partial.json '[r["complete"] for r in d["repositories"] if r["name"] == "broken"][0]')" \
	False "the plan marks the repository incomplete"
is "$(json_get partial.json 'len([x for x in d["deletions"] if x["repository"] == "broken"])')" 0 \
	"and deletes nothing in it"
is "$(json_get partial.json '[r["note"] for r in d["repositories"] if r["name"] == "broken"][0]')" \
	"repository could not be read completely: nothing is deleted there" "the plan says why"
is "$(json_get partial.json 'len([x for x in d["deletions"] if x["repository"] == "app/web"])')" 4 \
	"other repositories are planned as usual"
run "$REGSWEEP" plan -r "$REG_URL" --keep-last 0 --no-cache
like "$RUN_STDOUT" "broken: 2 tags \\(0 to delete\\)" "the text plan deletes nothing there either"
like "$RUN_STDOUT" "x2 +sha256:[0-9a-f]{12} +[^ ]+ +keep +repository could not be read completely" \
	"each of its tags says why it stays"

# --- a stored schema 1 manifest -------------------------------------------------------
# Registries upgraded from old ones still hold Docker schema 1 manifests;
# distribution 3.x cannot read them (500), 2.x serves them re-signed. Either
# way regsweep cannot verify the tag: the repository is named and keeps all.
s1='{"schemaVersion":1,"name":"old","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}'
s1d=$(printf '%s' "$s1" | sha256sum | cut -c1-64)
v2=$REG_ROOT/docker/registry/v2
mkdir -p "$v2/blobs/sha256/${s1d:0:2}/$s1d" "$v2/repositories/old/_manifests/revisions/sha256/$s1d" \
	"$v2/repositories/old/_manifests/tags/v1/current" "$v2/repositories/old/_layers"
printf '%s' "$s1" >"$v2/blobs/sha256/${s1d:0:2}/$s1d/data"
printf 'sha256:%s' "$s1d" >"$v2/repositories/old/_manifests/revisions/sha256/$s1d/link"
printf 'sha256:%s' "$s1d" >"$v2/repositories/old/_manifests/tags/v1/current/link"
run "$REGSWEEP" plan -r "$REG_URL" --keep-last 0 --json --no-cache
is "$RUN_STATUS" 3 "a registry holding a schema 1 manifest is planned in part (exit 3)"
printf '%s\n' "$RUN_STDOUT" >schema1.json
is "$(json_get schema1.json '[(r["complete"], len(r["decisions"])) for r in d["repositories"] if r["name"] == "old"][0]')" \
	"(False, 1)" "its repository is marked incomplete"
is "$(json_get schema1.json 'len([x for x in d["deletions"] if x["repository"] == "old"])')" 0 \
	"and keeps everything"
failure=$(json_get schema1.json '[r.get("failure", "") for r in d["repositories"] if r["name"] == "old"][0]')
like "$failure" "^reading manifest 'old:v1': " "the plan names the manifest that could not be read"
if registry_is 3; then
	like "$failure" "cannot serve this schema 1 manifest \\(500 'unrecognized manifest schema version 1'\\)" \
		"3.x: and says it is schema 1, which 3.x no longer reads"
	like "$RUN_STDERR" "'old:v1'.*schema 1" "so does the error"
fi
run "$REGSWEEP" plan -r "$REG_URL" --keep-last 0 --no-cache
like "$RUN_STDOUT" "old: 1 tag \\(0 to delete\\).*  failure: reading manifest 'old:v1'" \
	"the text plan shows the failure under the repository"

# --- no registry ---------------------------------------------------------------------
run env -u REGSWEEP_REGISTRY "$REGSWEEP" plan
is "$RUN_STATUS" 2 "plan without a registry is a usage error"

tap_done
