#!/usr/bin/env bash
# retention.sh: retention for real fleets against a real registry. Jib-style
# images all dated 1970 and buildpacks-style images all dated 1980, pushed
# out of version order: ranked by created date nothing can be told apart
# (the plan says so), by version (--order version) and by push time
# (--order pushed, the storage view's tag links, read locally and over SSH)
# exactly the expected tags remain. An in-use list as kubectl prints it
# keeps an old tag and an old digest; a garbled one stops the run; orphaned
# signatures go. After each apply, every remaining tag pulls completely.
#
# The assertions marked NEEDS-TAG-PUSH-TIMES need the storage view to give
# every tag its push time (rs_tag.pushed_at and inv->tag_times): until the
# storage side does, `--order pushed` stops with a usage error there and
# those assertions fail.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

tap_noplan
harness_tmpdir
require_regsweep
# libssh2 1.10 leaks in ECDSA signing: keep --enable-asan runs about our code
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

readonly ACCEPT_ALL='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
readonly JIB_DATE=1970-01-01T00:00:00Z
readonly BUILDPACKS_DATE=1980-01-01T00:00:01Z
cd "$HARNESS_TMP" || bail_out "no temporary directory"
export REGSWEEP_CACHE_DIR=$HARNESS_TMP/cache

sshd_start || bail_out "cannot start sshd"
registry_start || bail_out "cannot start the registry"
V2=$REG_ROOT/docker/registry/v2/repositories
LOCAL=(--storage-root "$REG_ROOT")
OVER_SSH=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS"
	--storage-root "$REG_ROOT")
NOW=$(date +%s)

# tags REPO: the repository's tags, sorted, on one line.
tags() {
	reg_curl "$REG_URL/v2/$1/tags/list" |
		"$HARNESS_PYTHON" -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin).get("tags") or [])))'
}

# pulls REPO: every tag of REPO pulls completely (pull-check.py).
pulls() {
	local repo=$1 t refs=()
	for t in $(tags "$repo"); do
		refs+=("$repo:$t")
	done
	[[ ${#refs[@]} -gt 0 ]] || return 1
	"$HARNESS_PYTHON" "$HARNESS_DIR/pull-check.py" "$REG_URL" "${refs[@]}"
}

# push REPO TAG CREATED: one image at REPO:TAG; prints its digest.
push() {
	push_noise -q --repo "$1" --tag "$2" --created "$3" 1 |
		awk '$1 == "tag" { print $4 }'
}

# pushed_at REPO TAG MINUTES-AGO: the tag's link says it was pushed then
# (the storage's time is what `--order pushed` reads; pushes within one
# second would otherwise tie).
pushed_at() {
	touch -m -d "@$((NOW - $3 * 60))" "$V2/$1/_manifests/tags/$2/current/link"
}

# stored_days_ago REPO DAYS: every manifest revision of REPO stored DAYS ago.
stored_days_ago() {
	find "$V2/$1/_manifests/revisions" -name link -type f \
		-exec touch -m -d "@$((NOW - $2 * 86400))" {} +
}

storage_listing() {
	(cd "$REG_ROOT" && find . -type f -printf '%p %s\n' | sort | md5sum)
}

# --- the fleets -------------------------------------------------------------
# Jib, ko, rules_oci and Nix write 1970; pushed in version order.
for repo in jib/app jib/ssh; do
	for i in 1 2 3 4 5 6; do
		push "$repo" "1.0.$i" "$JIB_DATE" >/dev/null || bail_out "push failed"
		pushed_at "$repo" "1.0.$i" $((100 - i))
	done
done
# Buildpacks write 1980-01-01T00:00:01Z; pushed out of version order.
BP_ORDER=(1.2.10 1.2.8 1.3.0 1.2.9 1.2.11 1.3.0-rc.1)
declare -A BP_DIGEST
for repo in bp/version bp/pushed; do
	n=0
	for t in "${BP_ORDER[@]}"; do
		d=$(push "$repo" "$t" "$BUILDPACKS_DATE") || bail_out "push failed"
		[[ $repo != bp/version ]] || BP_DIGEST[$t]=$d
		n=$((n + 1))
		pushed_at "$repo" "$t" $((100 - n))
	done
done
is "$(tags bp/version)" "1.2.10 1.2.11 1.2.8 1.2.9 1.3.0 1.3.0-rc.1" "the buildpacks fleet is pushed"

# --- order: created cannot tell them apart, and says so -----------------------
before=$(storage_listing)
run "$REGSWEEP" plan -r "$REG_URL" --repos 'jib/app,bp/version' --keep-last 2 --json
is "$RUN_STATUS" 0 "plan --keep-last 2 by created date"
printf '%s\n' "$RUN_STDOUT" >created.json
json() {
	"$HARNESS_PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}
is "$(json created.json 'd["totals"]["tags_deleted"]')" 0 \
	"nothing goes: the dates say nothing (and an unknown date never justifies a delete)"
like "$(json created.json '[r["note"] for r in d["repositories"] if r["name"] == "jib/app"][0]')" \
	"none of the 6 images it ranks has a creation date .*--order pushed.*--order version" \
	"the plan says why for the Jib repository and names the orders that can rank it"
like "$(json created.json '[r["note"] for r in d["repositories"] if r["name"] == "bp/version"][0]')" \
	"all have the creation date 1980-01-01T00:00:01Z .*--order pushed.*--order version" \
	"and for the buildpacks repository"
is "$(json created.json '[x["reason"] for r in d["repositories"] if r["name"] == "bp/version" for x in r["decisions"] if x["tag"] == "1.2.8"][0]')" \
	"rule 'command line': tied with the 2nd newest (6 images have the same date)" \
	"ties are reported as ties, not as 'among newest 2'"
is "$(storage_listing)" "$before" "plan changes nothing"

# --- order: pushed needs the storage view -------------------------------------
run "$REGSWEEP" plan -r "$REG_URL" --keep-last 2 --order pushed
is "$RUN_STATUS" 2 "--order pushed without a storage view is a usage error"
like "$RUN_STDERR" "orders by push time .*add --storage-root DIR" "saying what to add"

# --- images in use -----------------------------------------------------------
# as `kubectl get pods -A -o jsonpath='{..image} {..imageID}'` prints them
printf '%s %s docker.io/library/nginx:1.25\ndocker-pullable://%s/bp/version@%s %s/gone:1\n' \
	"$REG_HOSTPORT/bp/version:1.2.8" "$REG_HOSTPORT/bp/version:1.3.0" "$REG_HOSTPORT" \
	"${BP_DIGEST[1.2.9]}" "$REG_HOSTPORT" >pods.txt
printf '%s/bp/version:1.2.8\n%s/bp/version:1.3.0 {"items": []}\n' "$REG_HOSTPORT" \
	"$REG_HOSTPORT" >garbled.txt
before=$(storage_listing)
run "$REGSWEEP" apply -r "$REG_URL" --repos 'bp/version' --keep-last 2 --order version \
	--in-use garbled.txt --backup-dir backup-garbled
is "$RUN_STATUS" 2 "a garbled in-use list is a usage error"
like "$RUN_STDERR" "garbled.txt:2: '\\{\"items\":' is not an image reference" \
	"naming the list, the line and what is wrong"
is "$(storage_listing)" "$before" "and nothing is deleted"
: >empty.txt
run "$REGSWEEP" plan -r "$REG_URL" --keep-last 2 --order version --in-use empty.txt
is "$RUN_STATUS" 2 "an empty in-use list (a failed kubectl leaves one) is refused"

run bash -c "'$REGSWEEP' plan -r '$REG_URL' --repos bp/version --keep-last 2 --order version --in-use - <pods.txt"
is "$RUN_STATUS" 0 "the in-use list can come on standard input"
like "$RUN_STDOUT" "1\\.2\\.8 +sha256:[0-9a-f]{12} +[^ ]+ +keep +in use" "an old tag in use is kept"
like "$RUN_STDOUT" "1\\.2\\.9 +sha256:[0-9a-f]{12} +[^ ]+ +keep +in use" \
	"and the tag on an old digest in use"
like "$RUN_STDOUT" "1\\.3\\.0 +sha256:[0-9a-f]{12} +[^ ]+ +keep +in use" \
	"the newest tag in use says so, and still takes its place among the newest 2"
like "$RUN_STDOUT" "1\\.2\\.11 +sha256:[0-9a-f]{12} +[^ ]+ +delete +rule 'command line': beyond newest 2 by version" \
	"so the list does not change what the rules decide for the others"
like "$RUN_STDOUT" "1\\.2\\.10 +sha256:[0-9a-f]{12} +[^ ]+ +delete +rule 'command line': beyond newest 2 by version" \
	"the others go by version"
like "$RUN_STDOUT" "in use: 5 references, 4 naming this registry \\(3 found, kept\\), 1 naming others" \
	"the plan lists what the in-use list kept"
like "$RUN_STDERR" "warning: standard input:2: gone:1 is in use but not in the registry" \
	"a reference to this registry that does not exist is a warning"

# --- order: version, applied ------------------------------------------------------
run "$REGSWEEP" run -r "$REG_URL" --repos 'bp/version' --keep-last 2 --order version \
	--in-use pods.txt --backup-dir backup-version --report version-report.json
is "$RUN_STATUS" 0 "run --order version --in-use pods.txt"
is "$(tags bp/version)" "1.2.8 1.2.9 1.3.0 1.3.0-rc.1" \
	"exactly the two highest versions and the two in use remain"
check "they all pull completely" pulls bp/version
is "$(json version-report.json '[(k["repository"], k["reference"]) for k in d["in_use"]["kept"]]')" \
	"[('bp/version', '1.2.8'), ('bp/version', '1.3.0'), ('bp/version', '${BP_DIGEST[1.2.9]}')]" \
	"the report lists what was kept because it is in use"
check "the report has the documented shape" \
	"$HARNESS_PYTHON" "$HARNESS_DIR/check-report.py" version-report.json

# --- orphaned signatures --------------------------------------------------------
signed=$(push_noise -q --repo signed/app --distinct-tags v --sign 3) || bail_out "push failed"
v2=$(awk '$1 == "tag" && $3 == "v2" { print $4 }' <<<"$signed")
v1=$(awk '$1 == "tag" && $3 == "v1" { print $4 }' <<<"$signed")
# the image of v2 deleted behind the tool's back: its signature is orphaned
code=$(reg_curl -o /dev/null -w '%{http_code}' -X DELETE "$REG_URL/v2/signed/app/manifests/$v2")
is "$code" 202 "v2's image is deleted through the API"
# and a signature of an image that never existed
sigbody=$HARNESS_TMP/sig.json
reg_curl -H "Accept: $ACCEPT_ALL" -o "$sigbody" "$REG_URL/v2/signed/app/manifests/sha256-${v1#sha256:}.sig"
"$HARNESS_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1])); d["annotations"] = {"org.example.never": "existed"}
open(sys.argv[1], "w").write(json.dumps(d))' "$sigbody"
never=sha256-$(printf never-existed | sha256sum | cut -c1-64).sig
code=$(reg_curl -o /dev/null -w '%{http_code}' -X PUT \
	-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$sigbody" \
	"$REG_URL/v2/signed/app/manifests/$never")
is "$code" 201 "a signature of an image that never existed is pushed"
stored_days_ago signed/app 3
is "$(tags signed/app | wc -w)" 6 "v1, v3, three signatures and the one of nothing"
run "$REGSWEEP" plan -r "$REG_URL" "${LOCAL[@]}"
like "$RUN_STDOUT" "sha256-${v2:7:17}[^ ]* +sha256:[0-9a-f]{12} +[^ ]+ +delete +subject gone \\(signature of missing sha256:${v2:7:12}\\), stored 3d ago \\(grace 24h\\)" \
	"a signature whose image is gone goes, like untagged history"
run "$REGSWEEP" apply -r "$REG_URL" "${LOCAL[@]}" --backup-dir backup-orphans
is "$RUN_STATUS" 0 "apply with the storage view"
v3=$(awk '$1 == "tag" && $3 == "v3" { print $4 }' <<<"$signed")
is "$(tags signed/app)" "$(printf '%s\n' "sha256-${v1#sha256:}.sig" "sha256-${v3#sha256:}.sig" v1 v3 | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" \
	"exactly the images and the signatures of images that exist remain"
check "they all pull completely" pulls signed/app

# --- order: pushed, applied (NEEDS-TAG-PUSH-TIMES) ----------------------------------
# jib/app was pushed 1.0.1 .. 1.0.6 in order; the storage read locally
run "$REGSWEEP" apply -r "$REG_URL" "${LOCAL[@]}" --repos 'jib/app' --keep-last 2 \
	--order pushed --backup-dir backup-jib
is "$RUN_STATUS" 0 "apply --order pushed, storage read locally (NEEDS-TAG-PUSH-TIMES)"
[[ $TAP_LAST -eq 0 ]] || diag "$RUN_STDERR"
is "$(tags jib/app)" "1.0.5 1.0.6" \
	"Jib images dated 1970: the two pushed last remain (NEEDS-TAG-PUSH-TIMES)"
check "they pull completely" pulls jib/app
# the same over SSH, for a Jib fleet and a buildpacks one pushed out of version order
run "$REGSWEEP" apply -r "$REG_URL" "${OVER_SSH[@]}" --repos 'jib/ssh,bp/pushed' --keep-last 2 \
	--order pushed --backup-dir backup-ssh
is "$RUN_STATUS" 0 "apply --order pushed, storage read over SSH (NEEDS-TAG-PUSH-TIMES)"
[[ $TAP_LAST -eq 0 ]] || diag "$RUN_STDERR"
is "$(tags jib/ssh)" "1.0.5 1.0.6" "Jib over SSH: the two pushed last remain (NEEDS-TAG-PUSH-TIMES)"
is "$(tags bp/pushed)" "1.2.11 1.3.0-rc.1" \
	"buildpacks pushed out of version order: the two pushed last remain (NEEDS-TAG-PUSH-TIMES)"
check "they pull completely" pulls jib/ssh
check "they pull completely" pulls bp/pushed
is "$(tags bp/version) | $(tags signed/app | wc -w)" "1.2.8 1.2.9 1.3.0 1.3.0-rc.1 | 4" \
	"other repositories are left alone"

tap_done
