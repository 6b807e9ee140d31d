#!/usr/bin/env bash
# stats.sh: `regsweep stats` against a real registry gives exact figures:
# hand-computed ones for small pushes, and the storage oracle's for the rest.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep

# json_field JSON KEY: print one numeric field of a flat JSON object.
json_field() {
	/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# stats_json [ARGS]: regsweep stats --json against the current registry.
stats_json() {
	run "$REGSWEEP" stats --json -r "$REG_URL" "$@"
}

# oracle [--all]: the figures computed from the storage.
oracle() {
	/usr/bin/python3 "$HARNESS_DIR/expected-stats.py" "$REG_ROOT" "$@"
}

registry_start

# --- an empty registry ---------------------------------------------------
stats_json
is "$RUN_STATUS" 0 "stats on an empty registry succeeds"
is "$RUN_STDOUT" '{"repositories":0,"tags":0,"manifests":0,"blobs":0,"bytes":0}' \
	"an empty registry has nothing"

# --- the seed's experiment: N pushes to one tag ---------------------------
out=$(push_noise -q --repo noise --tag latest --layers 2 --layer-size 1024 3)
# the last push's three blobs (config and two layers), as the generator reported them
last_bytes=$(awk '$1 == "blob" { b[++n] = $3 } END { print b[n] + b[n-1] + b[n-2] }' <<<"$out")
stats_json
is "$RUN_STATUS" 0 "stats after 3 pushes to one tag succeeds"
is "$(json_field "$RUN_STDOUT" repositories)" 1 "one repository"
is "$(json_field "$RUN_STDOUT" tags)" 1 "one tag"
is "$(json_field "$RUN_STDOUT" manifests)" 1 "only the tagged manifest is reachable through the API"
is "$(json_field "$RUN_STDOUT" blobs)" 3 "its config and two layers"
is "$(json_field "$RUN_STDOUT" bytes)" "$last_bytes" "bytes are the descriptors' sizes"

run "$REGSWEEP" stats -r "$REG_URL"
like "$RUN_STDOUT" $'^\\[ Data summary \\]\nRepositories: 1\nTags: 1\nManifests: 1\nBlobs: 3\nSize of blobs: [0-9.]+ KiB$' \
	"the text summary is the seed's"

# --- options before or after the command ----------------------------------
run "$REGSWEEP" -r "$REG_URL" --json stats
a=$RUN_STDOUT
run "$REGSWEEP" stats --json -r "$REG_URL"
is "$a" "$RUN_STDOUT" "options work before and after the command name"

# --- shared base layer, OCI, multi-arch index, signatures, referrers ------
push_noise -q --repo team/base-a --distinct-tags v --base-layer --layers 1 2 >/dev/null
push_noise -q --repo team/base-b --distinct-tags v --base-layer --layers 1 1 >/dev/null
push_noise -q --repo oci/app --oci --tag stable --sign 2 >/dev/null
push_noise -q --repo multi/arch --index --tag v1 >/dev/null 1
push_noise -q --repo multi/ociarch --index --oci --tag v1 --referrer 1 >/dev/null
stats_json
is "$RUN_STATUS" 0 "stats over mixed content succeeds"
is "$RUN_STDOUT" "$(oracle)" "mixed content: figures equal the storage oracle's"
is "$(json_field "$RUN_STDOUT" repositories)" 6 "six repositories"

# An index tag counts the index and its two children.
run "$REGSWEEP" stats --json --per-repo -r "$REG_URL"
like "$RUN_STDOUT" '"name":"multi/arch","repositories":1,"tags":1,"manifests":3' \
	"a multi-arch tag is an index and two children"

# The shared base layer counts once across repositories.
base_once=$(/usr/bin/python3 - "$RUN_STDOUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
per = {r["name"]: r for r in d["repos"]}
a, b = per["team/base-a"], per["team/base-b"]
# each repo alone: base + own layers + configs; together the base once less
print(d["blobs"] < sum(r["blobs"] for r in d["repos"]))
PY
)
is "$base_once" True "a blob shared across repositories is counted once"

# --- a repository whose tags were all deleted ------------------------------
digest=$(push_noise -q --repo gone/app --tag only 1 | awk '$1 == "tag" { print $4 }')
reg_curl -s -o /dev/null -X DELETE "$REG_URL/v2/gone/app/manifests/$digest"
stats_json
is "$RUN_STDOUT" "$(oracle)" "a repository with no tags left still counts"
like "$RUN_STDOUT" '"repositories":7,' "seven repositories, one of them empty"

# --- catalog pagination ------------------------------------------------------
for i in $(seq 1 250); do
	printf 'p/r%03d\n' "$i"
done >"$HARNESS_TMP/names"
# one image pushed to 250 repositories (blobs are shared, manifests are not)
while read -r name; do
	push_noise -q --repo "$name" --tag t --seed fixed --layers 1 --created 2024-01-01T00:00:00Z 1 >/dev/null ||
		bail_out "push to $name failed"
done <"$HARNESS_TMP/names"
stats_json --page-size 100 -v
is "$RUN_STATUS" 0 "stats across catalog pages succeeds"
is "$(json_field "$RUN_STDOUT" repositories)" 257 "257 repositories across three catalog pages"
is "$RUN_STDOUT" "$(oracle)" "paged catalog: figures equal the oracle's"
like "$RUN_STDERR" '_catalog\?last=' "the catalog's Link header was followed"
stats_json
is "$RUN_STDOUT" "$(oracle)" "default page size gives the same figures"

# --- the cache: warm runs ask "still this digest?", corrupt entries are refetched
cache=$HARNESS_TMP/cache
stats_json --cache-dir "$cache"
cold=$RUN_STDOUT
stats_json --cache-dir "$cache" -v
is "$RUN_STDOUT" "$cold" "a warm run gives the same figures"
like "$RUN_STDERR" 'manifests/t 304' "a warm run gets 304 Not Modified for unchanged tags"
unlike "$RUN_STDERR" 'manifests/[a-z0-9]+ 200' "and reads no tag's manifest body again"
packs=$(find "$cache/packs" -name '*.pack' | wc -l)
is "$packs" 1 "the cold run wrote one pack, not a file per entry"
is "$(find "$cache/packs" -name '*.idx' | wc -l)" 1 "with one index"
# every byte of every entry overwritten; the headers and indexes stay
n=0
while read -r f; do
	python3 -c 'import os, sys
with open(sys.argv[1], "r+b") as f:
    size = os.fstat(f.fileno()).st_size
    f.seek(8)
    f.write(b"x" * (size - 8))' "$f"
	n=$((n + 1))
done < <(find "$cache/packs" -name '*.pack')
ok $((n > 0 ? 0 : 1)) "the cache holds packs ($n)"
stats_json --cache-dir "$cache" -v
is "$RUN_STDOUT" "$cold" "corrupt cache entries are refetched, never trusted"
like "$RUN_STDERR" 'corrupt' "and the corruption is reported at -v"
stats_json --cache-dir "$cache" -v
is "$RUN_STDOUT" "$cold" "the run after gives the same figures"
unlike "$RUN_STDERR" 'corrupt' "from a cache the corrupt entries were merged out of"
unlike "$RUN_STDERR" 'manifests/[a-z0-9]+ 200' "and warm again"
is "$(find "$cache/packs" -name '*.pack' | wc -l)" 1 "in one pack"
stats_json --no-cache --cache-dir "$HARNESS_TMP/none"
is "$RUN_STDOUT" "$cold" "--no-cache gives the same figures"
ok $([[ ! -e $HARNESS_TMP/none ]] && echo 0 || echo 1) "--no-cache writes no cache"
perm=$(find "$cache" -type f -printf '%m\n' | sort -u | tr '\n' ' ')
is "$perm" "600 " "cache files are private (0600)"

# --- errors that say what to fix --------------------------------------------
run "$REGSWEEP" stats -r http://127.0.0.1:9 --retries 0
is "$RUN_STATUS" 1 "an unreachable registry exits 1"
like "$RUN_STDERR" "127.0.0.1:9.*(refused|connect)" "and names the URL and the reason"

run "$REGSWEEP" stats
is "$RUN_STATUS" 2 "no registry is a usage error"
like "$RUN_STDERR" "REGSWEEP_REGISTRY" "and says how to give one"

run "$REGSWEEP" stats -r "$REG_URL" --jobs many
is "$RUN_STATUS" 2 "a bad option value is a usage error"

run "$REGSWEEP" frobnicate
is "$RUN_STATUS" 2 "an unknown command is a usage error"

# a web server that is not a registry
mkdir -p "$HARNESS_TMP/www"
port=$(_harness_free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$HARNESS_TMP/www" "$port" \
	>"$HARNESS_TMP/www.log" 2>&1 &
_harness_track $!
curl -s -o /dev/null --retry 20 --retry-connrefused --retry-max-time 15 "http://127.0.0.1:$port/"
run "$REGSWEEP" stats -r "http://127.0.0.1:$port"
is "$RUN_STATUS" 1 "a server without /v2/ fails"
like "$RUN_STDERR" "not a registry" "and says it is not a registry"

registry_stop

# --- basic auth ---------------------------------------------------------------
registry_start --htpasswd alice:s3cret-pass
push_noise -q --repo private/app --tag v1 1 >/dev/null
run "$REGSWEEP" stats --json -r "$REG_URL"
is "$RUN_STATUS" 1 "without credentials a protected registry fails"
like "$RUN_STDERR" "REGSWEEP_USERNAME" "and says which credentials to set"
REGSWEEP_USERNAME=alice REGSWEEP_PASSWORD=wrong run "$REGSWEEP" stats --json -r "$REG_URL"
is "$RUN_STATUS" 1 "wrong credentials fail"
like "$RUN_STDERR" "rejected the credentials" "and say they were rejected"
REGSWEEP_USERNAME=alice REGSWEEP_PASSWORD=s3cret-pass run "$REGSWEEP" stats --json -r "$REG_URL" -v -v
is "$RUN_STATUS" 0 "the right credentials work"
is "$RUN_STDOUT" "$(oracle)" "basic auth: figures equal the oracle's"
unlike "$RUN_STDOUT$RUN_STDERR" "s3cret-pass" "the password is never printed"
printf 's3cret-pass\n' >"$HARNESS_TMP/pw"
run "$REGSWEEP" stats --json -r "$REG_URL" -u alice --password-file "$HARNESS_TMP/pw"
is "$RUN_STATUS" 0 "--password-file works"

tap_done
