#!/usr/bin/env bash
# s3.sh: the storage view on object storage. An S3-compatible store from
# Debian's packages (Swift with s3api, tests/harness/lib-s3.sh), a registry
# with its s3 driver on it, and a registry on the filesystem driver beside
# it, both pushed the same content: stats, plan, apply, --index-from-storage
# and run with GC over SSH give the same figures and decisions on both, the
# bucket's bytes are reported exactly (against a lister of the tests' own),
# untagged history goes while an index's untagged children stay, and every
# kept tag pulls after garbage-collect. Then the broken storages of
# test_storage.c, uploaded to a bucket, judged as on disk; the settings and
# credentials from each of their sources; and the store's secret key and a
# session token in nothing regsweep prints or writes.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
# libssh2 1.10 leaks in ECDSA signing: keep --enable-asan runs about our code
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
T=$HARNESS_TMP
PROBE=${top_builddir:-$HARNESS_SRCDIR}/storage_probe
[[ -x $PROBE ]] || bail_out "storage_probe is not built (make check builds it)"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
	AWS_SHARED_CREDENTIALS_FILE REGSWEEP_S3_ENDPOINT REGSWEEP_S3_REGION REGSWEEP_S3_CREDENTIALS
# Everything regsweep prints and writes goes under $W, searched for the
# secrets at the end; regsweep's own home and cache too.
W=$T/work
mkdir -p "$W/logs" "$W/out" "$W/home"
export HOME=$W/home XDG_CACHE_HOME=$W/cache

s3_start || bail_out "cannot start the S3 store"
sshd_start || bail_out "cannot start sshd"
SECRETS=("$S3_SECRET_KEY")

N=0
# sweep NAME [ENV=VALUE...] -- ARGS...: regsweep -v -v with ARGS, its output
# kept in $W/logs; sets RUN_STATUS, RUN_STDOUT, RUN_STDERR.
sweep() {
	local name=$1 envs=()
	shift
	while [[ $# -gt 0 && $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	N=$((N + 1))
	RUN_STATUS=0
	env "${envs[@]}" timeout 300 "$REGSWEEP" "$@" -v -v </dev/null >"$W/logs/$N-$name.out" \
		2>"$W/logs/$N-$name.err" || RUN_STATUS=$?
	RUN_STDOUT=$(<"$W/logs/$N-$name.out")
	RUN_STDERR=$(<"$W/logs/$N-$name.err")
}

json_field() {
	/usr/bin/python3 -c 'import json,sys
v = json.loads(sys.argv[1]) if not sys.argv[1].endswith(".json") else json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v.get(k, "absent") if isinstance(v, dict) else v[int(k)]
print(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)' "$@"
}

# --- two registries, one on S3 and one on a disk -----------------------------
diag "registry: $HARNESS_REGISTRY_BIN"
s3_bucket main || bail_out "cannot make a bucket"
registry_start --s3 main --s3-root /lab || bail_out "cannot start the registry on S3"
S3R_URL=$REG_URL S3R_CONFIG=$REG_CONFIG S3R_PID=$REG_PID S3R_LOG=$REG_LOG
registry_start || bail_out "cannot start the registry on a disk"
FSR_URL=$REG_URL FSR_CONFIG=$REG_CONFIG FSR_ROOT=$REG_ROOT FSR_PID=$REG_PID FSR_LOG=$REG_LOG
SSH_ARGS=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS")

like "$(cat "$S3R_CONFIG")" "s3:" "the registry's config names the s3 driver"

# a registry that never had a push: its root holds nothing
sweep empty -- stats --json -r "$S3R_URL" --registry-config "$S3R_CONFIG"
is "$RUN_STATUS" 0 "stats on S3 works before the first push"
is "$(json_field "$RUN_STDOUT" storage_blobs) $(json_field "$RUN_STDOUT" storage_bytes)" "0 0" \
	"an empty bucket holds no blobs"

# the same content, pushed to both (reproducible bytes and dates)
push_both() {
	local url out first=''
	for url in "$S3R_URL" "$FSR_URL"; do
		out=$(bash "$HARNESS_NOISE" -r "$url" -q --seed "s3-$1" --created 2024-01-01T00:00:00Z \
			--created-step 3600 "${@:2}") || return 1
		[[ -n $first ]] || first=$out
	done
	[[ $out == "$first" ]] || return 1
	printf '%s\n' "$out"
}
noise=$(push_both noise --repo noise --tag latest 6) || bail_out "push failed"
push_both web --repo team/app/web --oci --tag v1 3 >/dev/null || bail_out "push failed"
multi=$(push_both multi --repo multi --index --tag v1 2) || bail_out "push failed"
ok 0 "the same images, byte for byte, were pushed to both registries"

# --- stats: the same figures, and the bucket's bytes exactly ---------------
sweep stats-fs -- stats --json -r "$FSR_URL" --storage-root "$FSR_ROOT"
fs_stats=$RUN_STDOUT
sweep stats-s3 -- stats --json -r "$S3R_URL" --registry-config "$S3R_CONFIG"
is "$RUN_STATUS" 0 "stats with --registry-config on S3 works"
s3_stats=$RUN_STDOUT
is "$(json_field "$s3_stats" manifests)" 15 \
	"every stored manifest counts: 5 tagged or children, 10 untagged"
is "$s3_stats" "$fs_stats" "stats on S3 equal stats on the filesystem, storage figures included"
read -r oracle_blobs oracle_bytes < <(s3tool blobs main /lab)
is "$(json_field "$s3_stats" storage_blobs)" "$oracle_blobs" "storage_blobs: the bucket's own listing"
is "$(json_field "$s3_stats" storage_bytes)" "$oracle_bytes" "storage_bytes: the bucket's own listing"
like "$RUN_STDERR" "storage: 's3://main/lab' on $S3_ENDPOINT: 3 repositories, 15 manifest revisions \\(10 not reached through tags\\)" \
	"the log names the bucket and what no tag reaches"
like "$RUN_STDERR" "credentials from the registry config" "the keys came from the registry's config"
unlike "$RUN_STDERR" '_layers' "the _layers links are never listed"

# --- plan: the same decisions --------------------------------------------
plan_text() {
	sweep "plan-$1" -- plan --no-cache --untagged-grace 0s "${@:2}"
	tail -n +2 <<<"$RUN_STDOUT" | sed -E -e 's/stored [0-9]+[smhdw] ago/stored (age) ago/'
}
fs_plan=$(plan_text fs -r "$FSR_URL" --storage-root "$FSR_ROOT")
s3_plan=$(plan_text s3 -r "$S3R_URL" --registry-config "$S3R_CONFIG")
is "$RUN_STATUS" 0 "plan on S3 works"
like "$s3_plan" 'totals: 3 repositories, 3 tags \(0 to delete\), 15 manifests \(10 to delete' \
	"it drops the 10 untagged manifests no kept tag needs"
is "$s3_plan" "$fs_plan" "the plan on S3 is the plan on the filesystem"
is "$(plan_text s3-index -r "$S3R_URL" --registry-config "$S3R_CONFIG" --index-from-storage)" \
	"$s3_plan" "and so is the plan from the bucket's tag links"

# --- --index-from-storage -----------------------------------------------
sweep index-api -- stats --json --no-cache -r "$S3R_URL"
api=$RUN_STDOUT
sweep index-s3 -- stats --json --no-cache -r "$S3R_URL" --registry-config "$S3R_CONFIG" \
	--index-from-storage
is "$RUN_STATUS" 0 "stats --index-from-storage on S3 works"
is "$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({k: d[k] for k in ("repositories","tags")}))' "$RUN_STDOUT")" \
	"$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({k: d[k] for k in ("repositories","tags")}))' "$api")" \
	"the tags read from the bucket are the API's"
is "$RUN_STDOUT" "$s3_stats" "and the figures are those of the storage view"
like "$RUN_STDERR" 'storage: 3 tags of 3 repositories read from .s3://main/lab' \
	"the tags came from the bucket"
unlike "$RUN_STDERR" 'GET /v2/[^ ]*/manifests/(latest|v1) ' "no manifest is asked for by tag"
unlike "$RUN_STDERR" '/tags/list' "no tag list is read"
unlike "$RUN_STDERR" 'GET /main/lab/[^ ]*/current/link' \
	"no tag link needs a GET: each one's ETag is the MD5 of one of its repository's revisions"
like "$RUN_STDERR" "storage 's3://main/lab' on [^ ]*: 3 repositories, 15 revisions, 3 tags, [0-9]+ entries in 5 requests" \
	"the whole view in 5 requests: the repositories, one listing each, the blob store"
cache=$W/index-cache
sweep index-cold -- stats --json --cache-dir "$cache" -r "$S3R_URL" --registry-config "$S3R_CONFIG" \
	--index-from-storage
sweep index-warm -- stats --json --cache-dir "$cache" -r "$S3R_URL" --registry-config "$S3R_CONFIG" \
	--index-from-storage
is "$RUN_STDOUT" "$s3_stats" "a warm run gives the same figures"
is "$(grep -cE '^(GET|HEAD) /v2/' <<<"$RUN_STDERR")" 1 "and sends the registry one request in all"

# --- apply: untagged history goes, an index's untagged children stay --------
mapfile -t multi_manifests < <(awk '$1 == "manifest" { print $3 }' <<<"$multi")
old_index=${multi_manifests[2]} new_index=${multi_manifests[5]}
is "$(awk '$1 == "tag" { d = $4 } END { print d }' <<<"$multi")" "$new_index" \
	"multi:v1 names the second index"
noise_current=$(awk '$1 == "tag" { d = $4 } END { print d }' <<<"$noise")
mapfile -t noise_untagged < <(awk -v cur="$noise_current" '$1 == "manifest" && $3 != cur { print $3 }' <<<"$noise")

manifest_code() {
	curl -q -sS --noproxy '*' -o /dev/null -w '%{http_code}' -I \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"$S3R_URL/v2/$1/manifests/$2"
}
pulls() {
	/usr/bin/python3 "$HARNESS_DIR/pull-check.py" "$1" noise:latest team/app/web:v1 multi:v1 \
		"multi@${multi_manifests[3]}" "multi@${multi_manifests[4]}"
}

sweep apply-fs -- apply -r "$FSR_URL" --storage-root "$FSR_ROOT" --untagged-grace 0s \
	--backup-dir "$W/out/backup-fs"
fs_apply=$(grep -o 'apply: [^;]*' <<<"$RUN_STDOUT$RUN_STDERR" | head -n 1)
sweep apply-s3 -- apply -r "$S3R_URL" --registry-config "$S3R_CONFIG" --untagged-grace 0s \
	--backup-dir "$W/out/backup-s3"
is "$RUN_STATUS" 0 "apply on S3 works"
like "$RUN_STDOUT$RUN_STDERR" "apply: 10 deleted, 0 already gone, 0 skipped, 0 failed" \
	"it deletes 5 + 2 untagged pushes and the old index with its two children"
is "$(grep -o 'apply: [^;]*' <<<"$RUN_STDOUT$RUN_STDERR" | head -n 1)" "$fs_apply" \
	"as it does on the filesystem"
gone=0
for d in "${noise_untagged[@]}"; do
	[[ $(manifest_code noise "$d") == 404 ]] && gone=$((gone + 1))
done
is "$gone" 5 "noise's untagged history is gone"
is "$(manifest_code multi "$old_index")" 404 "the untagged index is gone"
is "$(manifest_code multi "${multi_manifests[0]}") $(manifest_code multi "${multi_manifests[1]}")" \
	"404 404" "with the children only it needed"
is "$(manifest_code multi "${multi_manifests[3]}") $(manifest_code multi "${multi_manifests[4]}")" \
	"200 200" "the tagged index's children stay, untagged as they are"
check "every kept tag pulls completely" pulls "$S3R_URL"
sweep stats-after-fs -- stats --json -r "$FSR_URL" --storage-root "$FSR_ROOT"
fs_after=$RUN_STDOUT
sweep stats-after-s3 -- stats --json -r "$S3R_URL" --registry-config "$S3R_CONFIG"
is "$RUN_STDOUT" "$fs_after" "after apply, the figures on S3 still equal the filesystem's"

# --- run, with garbage-collect over SSH on the bucket ------------------------
# the registry is stopped and started on the "host" by the test's control script
CTL=$HARNESS_DIR/registry-ctl.sh
ctl_state() {
	local dir=$T/state-$1
	mkdir -p "$dir"
	printf '%s\n' "$2" >"$dir/config"
	printf '%s\n' "$3" >"$dir/url"
	printf '%s\n' "$4" >"$dir/pid"
	printf '%s\n' "$HARNESS_REGISTRY_BIN" >"$dir/bin"
	ln -sf "$5" "$dir/log"
	harness_defer sh "$CTL" "$dir" stop
	printf '%s\n' "$dir"
}
run_gc() {
	local state=$1 config=$2
	printf '%s\n' --before-gc "sh '$CTL' '$state' restart --readonly" \
		--after-gc "sh '$CTL' '$state' restart" \
		--gc-command "env -u AWS_CA_BUNDLE '$HARNESS_REGISTRY_BIN' garbage-collect '$config'"
}
FS_STATE=$(ctl_state fs "$FSR_CONFIG" "$FSR_URL" "$FSR_PID" "$FSR_LOG")
S3_STATE=$(ctl_state s3 "$S3R_CONFIG" "$S3R_URL" "$S3R_PID" "$S3R_LOG")
_harness_untrack "$FSR_PID"
_harness_untrack "$S3R_PID"
mapfile -t fs_gc < <(run_gc "$FS_STATE" "$FSR_CONFIG")
mapfile -t s3_gc < <(run_gc "$S3_STATE" "$S3R_CONFIG")

sweep run-fs -- run -r "$FSR_URL" "${SSH_ARGS[@]}" --storage-root "$FSR_ROOT" "${fs_gc[@]}" \
	--untagged-grace 0s --report "$W/out/run-fs.json" --backup-dir "$W/out/backup-run-fs"
is "$RUN_STATUS" 0 "run with GC over SSH on the filesystem works"
sweep run-s3 -- run -r "$S3R_URL" "${SSH_ARGS[@]}" --registry-config "$S3R_CONFIG" "${s3_gc[@]}" \
	--untagged-grace 0s --report "$W/out/run-s3.json" --metrics "$W/out/run-s3.prom" \
	--backup-dir "$W/out/backup-run-s3"
is "$RUN_STATUS" 0 "run with GC over SSH on S3 works (the registry's config read on the host)"
[[ $TAP_LAST -eq 0 ]] || diag "$(tail -n 20 <<<"$RUN_STDERR")"
R=$W/out/run-s3.json
is "$(json_field "$R" gc completed) $(json_field "$R" gc failed_step)" "True None" \
	"garbage-collect ran on the bucket, every step of it"
is "$(json_field "$R" after)" "$(json_field "$W/out/run-fs.json" after)" \
	"the figures after GC on S3 equal the filesystem's"
is "$(json_field "$R" before storage_bytes)" "$oracle_bytes" \
	"the bytes before GC are the bucket's as listed before apply"
read -r oracle_blobs oracle_bytes < <(s3tool blobs main /lab)
is "$(json_field "$R" after storage_blobs) $(json_field "$R" after storage_bytes)" \
	"$oracle_blobs $oracle_bytes" "the blobs and bytes after GC are the bucket's own"
is "$(json_field "$R" gc storage_bytes_after)" "$oracle_bytes" "and so are GC's own after figures"
isnt "$(json_field "$R" gc storage_bytes_before)" "$oracle_bytes" "GC freed space in the bucket"
check "the run-s3 report has the documented shape" /usr/bin/python3 "$HARNESS_DIR/check-report.py" "$R"
check "every tag pulls completely after garbage-collect on the bucket" pulls "$S3R_URL"
check "and on the filesystem" pulls "$FSR_URL"

# only what the tags reach is left in the bucket
reachable() {
	"$HARNESS_PYTHON" - "$HARNESS_DIR" main lab <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import s3tool
store, bucket = s3tool.Store(), sys.argv[2]
v2 = sys.argv[3] + "/docker/registry/v2/"
def get(key):
    return store.request("GET", "/%s/%s" % (bucket, key))[1]
def data(d):
    return "%sblobs/sha256/%s/%s/data" % (v2, d[7:9], d[7:])
stored = {k.split("/")[-2] for k, _ in store.keys(bucket, v2 + "blobs/sha256/") if k.endswith("/data")}
need, todo = set(), []
for key, _ in store.keys(bucket, v2 + "repositories/"):
    if key.endswith("/current/link") and "/_manifests/tags/" in key:
        todo.append(get(key).decode().strip())
while todo:
    d = todo.pop()
    if d in need:
        continue
    need.add(d)
    doc = json.loads(get(data(d)))
    todo += [m["digest"] for m in doc.get("manifests", [])]
    if "config" in doc:
        need.add(doc["config"]["digest"])
        need.update(l["digest"] for l in doc.get("layers", []))
need = {d[7:] for d in need}
extra, missing = stored - need, need - stored
print("ok" if not extra and not missing else "extra %d missing %d" % (len(extra), len(missing)))
PY
}
is "$(reachable)" ok "only the kept manifests' blobs are left in the bucket"

# --- the broken storages of test_storage.c, on a disk and in a bucket --------
s3_bucket broken || bail_out "cannot make a bucket"
HEX_A=$(printf 'a%.0s' {1..64}) HEX_B=$(printf 'b%.0s' {1..64})
V2=docker/registry/v2
tree_put() { # TREE REL TEXT
	mkdir -p "$(dirname "$T/trees/$1/$2")"
	printf '%s' "$3" >"$T/trees/$1/$2"
}
sound() { # TREE: a sound 'good' and a 'bad' to break
	local r
	for r in good bad; do
		tree_put "$1" "$V2/repositories/$r/_manifests/revisions/sha256/$HEX_A/link" "sha256:$HEX_A"
		tree_put "$1" "$V2/repositories/$r/_manifests/tags/v1/current/link" "sha256:$HEX_A"
	done
	tree_put "$1" "$V2/blobs/sha256/aa/$HEX_A/data" "12345"
}
# CASE|FILE|CONTENT|what the problem says|only the view is partial (1)
CASES=(
	"empty-tag-link|repositories/bad/_manifests/tags/v2/current/link||the tag 'v2' of 'bad' has an empty link|0"
	"malformed-tag-link|repositories/bad/_manifests/tags/v2/current/link|sha256:nothex|the tag 'v2' of 'bad' has a link that does not hold a digest|0"
	"two-line-tag-link|repositories/bad/_manifests/tags/v2/current/link|sha256:$HEX_A
sha256:$HEX_B
|the tag 'v2' of 'bad' has a link that does not hold a digest|0"
	"tag-without-link|repositories/bad/_manifests/tags/v2/index/sha256/$HEX_A/link|sha256:$HEX_A|the tag 'v2' of 'bad' has no current link|0"
	"invalid-tag-name|repositories/bad/_manifests/tags/-v2/current/link|sha256:$HEX_A|'bad' holds a tag '-v2' that is not a valid tag name|0"
	"odd-tag-name|repositories/bad/_manifests/tags/v 2
x/current/link|sha256:$HEX_A|'bad' holds a tag or revision whose name has characters no registry name has|0"
	"empty-revision-link|repositories/bad/_manifests/revisions/sha256/$HEX_B/link||the revision link of sha256:$HEX_B in 'bad' is empty|0"
	"revision-not-a-digest|repositories/bad/_manifests/revisions/sha256/ABC/link|sha256:ABC|'bad' holds a revision 'ABC' that is not a sha256 digest|0"
	"invalid-repository-name|repositories/Bad/_manifests/revisions/sha256/$HEX_A/link|sha256:$HEX_A|'Bad' under repositories/ is not a valid repository name|1"
	"odd-repository-name|repositories/we ird
/x/_manifests/revisions/sha256/$HEX_A/link|sha256:$HEX_A|a name under repositories/ has characters no registry name has|1"
)
for c in "${CASES[@]}"; do
	IFS='|' read -r -d '' name file content want partial <<<"$c" || true
	partial=${partial//[^01]/}
	sound "$name"
	tree_put "$name" "$V2/$file" "$content"
	s3tool upload broken "$name" "$T/trees/$name" >/dev/null || bail_out "cannot upload $name"
	disk=$("$PROBE" --root "$T/trees/$name" 2>/dev/null)
	bucket=$("$PROBE" --s3 broken "/$name" 2>/dev/null)
	paged=$("$PROBE" --s3 broken "/$name" --max-keys 2 2>/dev/null)
	ok "$([[ $disk == *"problem "*"$want"* ]] && echo 0 || echo 1)" "$name: on disk, '$want'"
	is "$bucket" "$disk" "$name: the bucket gives the same view, message and incomplete repositories"
	is "$paged" "$disk" "$name: in pages of two keys too"
	if [[ $partial == 0 ]]; then
		like "$bucket" $'repo bad incomplete\nrepo good\n' "$name: 'bad' only is incomplete"
	fi
done

# a sound tree, every record compared: nested names, history, blobs
tree=$T/trees/nested
sound nested
tree_put nested "$V2/repositories/app/sub/_manifests/revisions/sha256/$HEX_B/link" "sha256:$HEX_B"
tree_put nested "$V2/repositories/app/_manifests/revisions/sha256/$HEX_A/link" "sha256:$HEX_A"
tree_put nested "$V2/repositories/app/_manifests/tags/latest/current/link" "sha256:$HEX_A"
tree_put nested "$V2/repositories/app/_manifests/tags/latest/index/sha256/$HEX_A/link" "sha256:$HEX_A"
# a link to a digest the repository has no revision of: its ETag cannot
# tell, so it is read
tree_put nested "$V2/repositories/app/_manifests/tags/orphan/current/link" "sha256:$HEX_B"
tree_put nested "$V2/repositories/app/_layers/sha256/$HEX_A/link" "sha256:$HEX_A"
tree_put nested "$V2/blobs/sha256/bb/$HEX_B/data" "1234567890"
tree_put nested "$V2/blobs/sha256/bb/not-a-blob/data" "123"
s3tool upload broken nested "$tree" >/dev/null || bail_out "cannot upload"
disk=$("$PROBE" --root "$tree" 2>/dev/null)
like "$disk" $'blobs 2 15\nproblems 0' "the sound tree reads whole on disk"
like "$disk" "tag app orphan sha256:$HEX_B" "a tag may name a digest its repository lacks"
is "$("$PROBE" --s3 broken /nested 2>/dev/null)" "$disk" "and the same from the bucket"
is "$("$PROBE" --s3 broken /nested --max-keys 1 2>/dev/null)" "$disk" "one key a page too"
is "$("$PROBE" --s3 broken /nested --what blobs 2>/dev/null)" $'blobs 2 15\nproblems 0' \
	"the blob store alone"

# roots: missing bucket, a root that is not a registry's
printf 'x' | s3tool put broken other/file.txt - || bail_out "cannot upload"
like "$("$PROBE" --s3 broken /other)" "is not a registry's storage root" \
	"a root that holds something else is not a registry's"
like "$("$PROBE" --s3 nosuchbucket /lab)" "the storage root 's3://nosuchbucket/lab' on .* does not exist" \
	"a missing bucket is a missing root"

# --- where the settings come from ---------------------------------------
NOKEYS=$T/nokeys.yml
grep -vE '^ +(accesskey|secretkey):' "$S3R_CONFIG" >"$NOKEYS"
unlike "$(cat "$NOKEYS")" 'secretkey' "a registry config without keys (the registry takes them elsewhere)"
s3stats() { # NAME [ENV...] -- [ARGS...]: stats with the storage view on S3
	local name=$1
	shift
	local envs=()
	while [[ $# -gt 0 && $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	mkdir -p "$T/homes/$name"
	sweep "$name" HOME="$T/homes/$name" "${envs[@]}" -- stats --json --no-cache -r "$S3R_URL" "$@"
}
storage_of() {
	printf '%s %s' "$(json_field "$1" storage_blobs)" "$(json_field "$1" storage_bytes)"
}
want_storage="$oracle_blobs $oracle_bytes"

s3stats none -- --registry-config "$NOKEYS"
is "$RUN_STATUS" 2 "no keys anywhere is a usage error"
like "$RUN_STDERR" 'no S3 credentials: .*AWS_ACCESS_KEY_ID.*--s3-credentials' "naming every place looked at"

s3stats env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" -- \
	--registry-config "$NOKEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
like "$RUN_STDERR" 'credentials from AWS_ACCESS_KEY_ID' "and -v says so"

TOKEN=Tok-$(_harness_random_hex 16)
SECRETS+=("$TOKEN")
s3stats token AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
	AWS_SESSION_TOKEN="$TOKEN" -- --registry-config "$NOKEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "with a session token (AWS_SESSION_TOKEN)"

# (the homes that hold keys are the test's inputs, outside $W)
mkdir -p "$T/homes/file/.aws" "$T/homes/profile/.aws" "$T/homes/noprofile/.aws"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" \
	"$S3_SECRET_KEY" >"$T/homes/file/.aws/credentials"
printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n[ops]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$T/homes/profile/.aws/credentials"
cp "$T/homes/profile/.aws/credentials" "$T/homes/noprofile/.aws/credentials"
chmod 600 "$T"/homes/*/.aws/credentials
s3stats file -- --registry-config "$NOKEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "keys from ~/.aws/credentials"
like "$RUN_STDERR" "credentials from the profile 'default' of" "the default profile"
s3stats profile AWS_PROFILE=ops -- --registry-config "$NOKEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "keys from the profile AWS_PROFILE names"
s3stats noprofile AWS_PROFILE=nope -- --registry-config "$NOKEYS"
is "$RUN_STATUS" 2 "a profile no file holds is a usage error"
like "$RUN_STDERR" "AWS_PROFILE names the profile 'nope'" "saying which"
s3stats shared AWS_SHARED_CREDENTIALS_FILE="$T/homes/file/.aws/credentials" -- --registry-config "$NOKEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "keys from AWS_SHARED_CREDENTIALS_FILE"

KEYS=$T/s3-keys
printf 'aws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$KEYS"
chmod 600 "$KEYS"
s3stats option -- --registry-config "$NOKEYS" --s3-credentials "$KEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "keys from --s3-credentials FILE"
s3stats option-env REGSWEEP_S3_CREDENTIALS="$KEYS" -- --registry-config "$NOKEYS"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "or REGSWEEP_S3_CREDENTIALS"
s3stats option-unused AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" -- \
	--registry-config "$NOKEYS" --s3-credentials "$KEYS"
like "$RUN_STDERR" "warning: --s3-credentials '$KEYS' is not used" \
	"an --s3-credentials file a source before it overrides is said to be unused"

WRONG=Wrong-$(_harness_random_hex 16)
SECRETS+=("$WRONG")
s3stats wrong AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$WRONG" -- \
	--registry-config "$NOKEYS"
is "$RUN_STATUS" 1 "a wrong secret key fails"
like "$RUN_STDERR" 'refuses a listing of .*SignatureDoesNotMatch.*s3:ListBucket' \
	"saying that the store refuses, and what to check"

# overrides: --s3-endpoint, --s3-region
sed -E "s#regionendpoint: .*#regionendpoint: http://127.0.0.1:$(_harness_free_port)#" "$S3R_CONFIG" \
	>"$T/moved.yml"
s3stats moved -- --registry-config "$T/moved.yml" --retries 0
is "$RUN_STATUS" 1 "an endpoint that does not answer fails"
like "$RUN_STDERR" 'cannot reach http://127.0.0.1:' "saying so"
s3stats endpoint -- --registry-config "$T/moved.yml" --s3-endpoint "$S3_ENDPOINT"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "--s3-endpoint overrides the config's regionendpoint"
s3stats endpoint-env REGSWEEP_S3_ENDPOINT="$S3_ENDPOINT" -- --registry-config "$T/moved.yml"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "and so does REGSWEEP_S3_ENDPOINT"
sed -E 's#region: .*#region: eu-west-9#' "$S3R_CONFIG" >"$T/region.yml"
s3stats region -- --registry-config "$T/region.yml"
is "$RUN_STATUS" 1 "a region the store does not have fails"
like "$RUN_STDERR" "AuthorizationHeaderMalformed.*--s3-region" "pointing at --s3-region"
s3stats region-fixed -- --registry-config "$T/region.yml" --s3-region "$S3_REGION"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "--s3-region overrides the config's region"
sed -E 's#bucket: .*#bucket: nosuchbucket#' "$S3R_CONFIG" >"$T/nobucket.yml"
s3stats nobucket -- --registry-config "$T/nobucket.yml"
is "$RUN_STATUS" 1 "a missing bucket fails"
like "$RUN_STDERR" "the storage root 's3://nosuchbucket/lab' on $S3_ENDPOINT does not exist" \
	"naming it"

# the registry's config read over SSH names the bucket just the same
s3stats over-ssh -- "${SSH_ARGS[@]}" --registry-config "$S3R_CONFIG"
is "$(storage_of "$RUN_STDOUT")" "$want_storage" "the registry's config read over --ssh"

sweep config AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
	AWS_SESSION_TOKEN="$TOKEN" -- config --s3-endpoint "$S3_ENDPOINT" --s3-region "$S3_REGION"
like "$RUN_STDOUT" "s3_endpoint +$S3_ENDPOINT" "config shows --s3-endpoint"
like "$RUN_STDOUT" "# s3 credentials: AWS_ACCESS_KEY_ID \\(access key $S3_ACCESS_KEY\\), secret key \\*\\*\\*, session token \\*\\*\\*" \
	"and where the keys come from, the secrets masked"
sweep config-json AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" -- \
	config --json

# --- nothing printed or written holds a secret -----------------------------
files=$(find "$W" -type f | wc -l)
isnt "$files" 0 "there is output to search ($files files)"
leaks=0
for secret in "${SECRETS[@]}"; do
	if grep -r -l -F -e "$secret" "$W" >"$T/hits" 2>/dev/null; then
		leaks=1
		diag "a secret (${#secret} characters) is in: $(tr '\n' ' ' <"$T/hits")"
	fi
done
ok "$leaks" "neither the secret key, a wrong one nor the session token is in any output or file"

tap_done
