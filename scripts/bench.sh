#!/usr/bin/env bash
# bench.sh: regsweep against the registry's own ceiling, in one run.
#
#   scripts/bench.sh [REPOS] [TAGS] [--jobs N] [--seconds S]
#
# Starts a registry on 127.0.0.1, fills its storage with REPOS x TAGS
# distinct images (default 100 x 100) whose configs carry real `created`
# dates, and measures in one run:
#   - the ceiling: wrk GETting the same manifest URLs at the same
#     concurrency (the registry's own limit on this machine);
#   - regsweep stats and plan --keep-last 5, cold (empty cache) and warm;
#   - requests sent per tag, wall time, requests per second, peak RSS.
# Prints every figure and ratio. A benchmark, not a test: it asserts nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/deps.sh
. "$top/scripts/lib/deps.sh"

repos=100 tags=100 jobs=8 seconds=10
pos=()
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) pos+=("$1"); shift ;;
	esac
done
[ ${#pos[@]} -ge 1 ] && repos=${pos[0]}
[ ${#pos[@]} -ge 2 ] && tags=${pos[1]}
ntags=$((repos * tags))

# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS $REGSWEEP_RUN_DEPS wrk time
deps_build "$top"
# shellcheck source=tests/harness/lib.sh
. "$top/tests/harness/lib.sh"
harness_tmpdir
export REGSWEEP="$top/regsweep"

echo "== filling a registry with $repos x $tags images"
registry_start >/dev/null
sshd_start >/dev/null
registry_stop
python3 "$top/scripts/bench-fill.py" "$REG_ROOT" "$repos" "$tags" --urls "$HARNESS_TMP/urls" >/dev/null
# as deployed: the packaged config keeps an in-memory blob descriptor cache
sed -i 's/^storage:/storage:\n  cache: {blobdescriptor: inmemory}/' "$REG_CONFIG"
registry_restart >/dev/null

# ceiling KIND: wrk GETting every URL of that kind, round robin; prints req/s.
ceiling_of() {
	local kind=$1 lua=$HARNESS_TMP/$1.lua out
	{
		echo 'paths = {'
		awk -v k="$kind" '$1 == k { printf "\"%s\",\n", $2 }' "$HARNESS_TMP/urls"
		echo '}'
		cat <<'LUA'
local i = 0
wrk.headers["Accept"] = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
	} >"$lua"
	out=$(wrk -t2 -c"$jobs" -d"${seconds}s" -s "$lua" "$REG_URL" 2>&1)
	if grep -q Non-2xx <<<"$out"; then
		echo "warning: wrk saw non-2xx answers for $kind URLs" >&2
	fi
	awk '/Requests\/sec/ { print $2 }' <<<"$out"
}
echo "== ceiling: wrk, $jobs connections, ${seconds}s per kind of request"
ceiling=$(ceiling_of manifest)
ceiling_config=$(ceiling_of config)

# measure NAME CONFIGS ARGS...: run regsweep, print one row of figures.
# CONFIGS is how many config blobs the run needs to read: the ceiling for
# the run is the time wrk needs for the same mix of manifests and configs.
measure() {
	local name=$1 configs=$2 out err req wall rss rate per ideal
	shift 2
	err=$HARNESS_TMP/$name.err
	out=$(/usr/bin/time -f 'TIME %e %M' "$REGSWEEP" -r "$REG_URL" -j "$jobs" -v "$@" 2>"$err") || {
		echo "$name: regsweep failed:" >&2
		tail -5 "$err" >&2
		return 1
	}
	req=$(grep -oE '^scan: [0-9]+ requests' "$err" | awk '{ print $2 }' | tail -1 || true)
	[ -n "$req" ] || req=$(grep -cE '^(GET|HEAD|DELETE|PUT|POST) ' "$err" || true)
	wall=$(awk '/^TIME/ { print $2 }' "$err")
	rss=$(awk '/^TIME/ { print $3 }' "$err")
	rate=$(awk -v r="$req" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')
	per=$(awk -v r="$req" -v t="$ntags" 'BEGIN { printf "%.3f", r / t }')
	# seconds wrk would need for the same requests: manifests at the manifest
	# ceiling, config blobs at the config ceiling
	ideal=$(awk -v r="$req" -v c="$configs" -v cm="$ceiling" -v cc="$ceiling_config" \
		'BEGIN { printf "%.2f", (r - c) / cm + (c > 0 ? c / cc : 0) }')
	printf '%-24s %9s %8s %8s %8s %8s %9s %8s\n' "$name" "$req" "$per" "$wall" "$rate" "$ideal" \
		"$(awk -v i="$ideal" -v w="$wall" 'BEGIN { printf "%.0f%%", (w > 0 ? 100 * i / w : 0) }')" \
		"$((rss / 1024))"
	: "$out"
}

cache=$HARNESS_TMP/cache
printf '\n== regsweep on %d repositories x %d tags = %d tags, --jobs %d\n' "$repos" "$tags" "$ntags" "$jobs"
printf '%-24s %9s %8s %8s %8s %8s %9s %8s\n' run requests req/tag wall-s req/s ceil-s of-ceil RSS-MiB
measure "stats cold" 0 stats --cache-dir "$cache.stats"
measure "stats warm" 0 stats --cache-dir "$cache.stats"
measure "plan --keep-last 5 cold" "$ntags" plan --keep-last 5 --cache-dir "$cache.plan"
measure "plan --keep-last 5 warm" 0 plan --keep-last 5 --cache-dir "$cache.plan"
# every tag's digest from the storage in one remote pass over SSH (the
# storage view too): the API is asked only for manifests, by digest
storage=(--index-from-storage --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY"
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --storage-root "$REG_ROOT")
measure "stats storage-index cold" 0 stats --cache-dir "$cache.index" "${storage[@]}"
index_line=$(grep -o 'storage: [0-9]* tags of [0-9]* repositories.* in [0-9.]* s' \
	"$HARNESS_TMP/stats storage-index cold.err" || true)
measure "stats storage-index warm" 0 stats --cache-dir "$cache.index" "${storage[@]}"
echo
echo "ceiling (wrk GET, $jobs connections): manifests $ceiling requests/s, config blobs $ceiling_config requests/s"
echo "ceil-s: the seconds wrk needs for the same requests; of-ceil: ceil-s / wall-s"
[ -n "$index_line" ] && echo "storage index (one remote find over SSH): ${index_line#storage: }"
echo "memory budget at this size: 16 MiB + 1 KiB x $ntags tags = $(( (16 * 1024 + ntags) / 1024 )) MiB"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
