#!/usr/bin/env bash
# bench.sh: regsweep against the registry's own ceiling, in one run.
#
#   scripts/bench.sh [REPOS] [TAGS] [--jobs N] [--seconds S] [--compare NAME=CMD]... [--no-s3]
#
# Starts a registry on 127.0.0.1, fills its storage with REPOS x TAGS
# distinct images (default 100 x 100) whose configs carry real `created`
# dates, and measures in one run:
#   - the ceiling: wrk GETting the same manifest URLs (by tag and by
#     digest) and config blobs at the same concurrency (the registry's own
#     limit on this machine);
#   - regsweep stats and plan --keep-last 5, cold (empty cache) and warm;
#   - stats with the storage view over SSH, with and without
#     --index-from-storage (every tag's digest in one remote pass);
#   - the storage view on S3 (unless --no-s3): the same storage uploaded to a
#     bucket of an S3-compatible store (Swift with s3api, as the tests start
#     it), read on a disk and in the bucket (requests to the store, wall
#     time), and stats --index-from-storage warm against a registry on it;
#   - requests sent per tag, wall time, requests per second, regsweep's own
#     CPU time, peak RSS.
# --compare runs another client (another cleaner, say) on the same registry in
# the same run: CMD goes to bash with REGISTRY_URL and REGISTRY_HOST set, and
# its row counts the requests the registry logged while it ran.
# Prints every figure and ratio. A benchmark, not a test: it asserts nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/deps.sh
. "$top/scripts/lib/deps.sh"

repos=100 tags=100 jobs=8 seconds=10 s3=1
pos=() compare=()
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=$2; shift 2 ;;
	--compare) compare+=("$2"); shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--no-s3) s3=0; shift ;;
	-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
	*) pos+=("$1"); shift ;;
	esac
done
[ ${#pos[@]} -ge 1 ] && repos=${pos[0]}
[ ${#pos[@]} -ge 2 ] && tags=${pos[1]}
ntags=$((repos * tags))

# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS $REGSWEEP_RUN_DEPS wrk time
# shellcheck disable=SC2086
[ "$s3" = 0 ] || deps_install $REGSWEEP_TEST_DEPS
deps_build "$top"
[ "$s3" = 0 ] || make -s -C "$top" storage_probe >/dev/null
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
ceiling_digest=$(ceiling_of digest)

# measure NAME CONFIGS KIND ARGS...: run regsweep, print one row of figures.
# CONFIGS is how many config blobs the run needs to read, KIND how it asks
# for manifests (by tag: manifest, by digest: digest): the ceiling for the
# run is the time wrk needs for the same mix of requests.
measure() {
	local name=$1 configs=$2 kind=$3 out err req wall cpu rss rate per ideal cm
	shift 3
	err=$HARNESS_TMP/$name.err
	out=$(/usr/bin/time -f 'TIME %e %M %U %S' "$REGSWEEP" -r "$REG_URL" -j "$jobs" -v "$@" \
		2>"$err") || {
		echo "$name: regsweep failed:" >&2
		tail -5 "$err" >&2
		return 1
	}
	req=$(grep -oE '^scan: [0-9]+ requests' "$err" | awk '{ print $2 }' | tail -1 || true)
	[ -n "$req" ] || req=$(grep -cE '^(GET|HEAD|DELETE|PUT|POST) ' "$err" || true)
	wall=$(awk '/^TIME/ { print $2 }' "$err")
	rss=$(awk '/^TIME/ { print $3 }' "$err")
	cpu=$(awk '/^TIME/ { printf "%.2f", $4 + $5 }' "$err")
	rate=$(awk -v r="$req" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')
	per=$(awk -v r="$req" -v t="$ntags" 'BEGIN { printf "%.3f", r / t }')
	cm=$ceiling
	[ "$kind" = digest ] && cm=$ceiling_digest
	# seconds wrk would need for the same requests: manifests at their
	# ceiling, config blobs at theirs
	ideal=$(awk -v r="$req" -v c="$configs" -v cm="$cm" -v cc="$ceiling_config" \
		'BEGIN { printf "%.2f", (r - c) / cm + (c > 0 ? c / cc : 0) }')
	printf '%-32s %9s %8s %8s %8s %8s %9s %7s %8s\n' "$name" "$req" "$per" "$wall" "$rate" \
		"$ideal" \
		"$(awk -v i="$ideal" -v w="$wall" 'BEGIN { printf "%.0f%%", (w > 0 ? 100 * i / w : 0) }')" \
		"$cpu" "$((rss / 1024))"
	: "$out"
}

cache=$HARNESS_TMP/cache
printf '\n== regsweep on %d repositories x %d tags = %d tags, --jobs %d\n' "$repos" "$tags" "$ntags" "$jobs"
printf '%-32s %9s %8s %8s %8s %8s %9s %7s %8s\n' run requests req/tag wall-s req/s ceil-s of-ceil cpu-s \
	RSS-MiB
measure "stats cold" 0 manifest stats --cache-dir "$cache.stats"
measure "stats warm" 0 manifest stats --cache-dir "$cache.stats"
measure "plan --keep-last 5 cold" "$ntags" manifest plan --keep-last 5 --cache-dir "$cache.plan"
measure "plan --keep-last 5 warm" 0 manifest plan --keep-last 5 --cache-dir "$cache.plan"
# with the storage view over SSH (bytes on disk, untagged history): tags
# through the API, then every tag's digest from the storage in one remote
# pass, the API asked only for manifests, by digest
ssh=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS"
	--storage-root "$REG_ROOT")
measure "stats --ssh cold" 0 manifest stats --cache-dir "$cache.ssh" "${ssh[@]}"
measure "stats --ssh warm" 0 manifest stats --cache-dir "$cache.ssh" "${ssh[@]}"
measure "stats --ssh storage-index cold" 0 digest stats --cache-dir "$cache.index" \
	--index-from-storage "${ssh[@]}"
index_line=$(grep -o 'storage: [0-9]* tags of [0-9]* repositories.* in [0-9.]* s' \
	"$HARNESS_TMP/stats --ssh storage-index cold.err" || true)
measure "stats --ssh storage-index warm" 0 digest stats --cache-dir "$cache.index" \
	--index-from-storage "${ssh[@]}"
# another client on the same registry: requests as the registry logged them
served() { grep -c 'msg="response completed"' "$REG_LOG" || true; }
for c in ${compare[@]+"${compare[@]}"}; do
	name=${c%%=*} cmd=${c#*=} err=$HARNESS_TMP/compare.err
	before=$(served)
	if ! REGISTRY_URL=$REG_URL REGISTRY_HOST=$REG_HOSTPORT /usr/bin/time -f 'TIME %e %M %U %S' \
		bash -c "$cmd" >/dev/null 2>"$err"; then
		echo "$name: failed:" >&2
		grep -v '^TIME' "$err" | tail -5 >&2
		continue
	fi
	req=$(($(served) - before))
	wall=$(awk '/^TIME/ { print $2 }' "$err")
	printf '%-32s %9s %8s %8s %8s %8s %9s %7s %8s\n' "$name" "$req" \
		"$(awk -v r="$req" -v t="$ntags" 'BEGIN { printf "%.3f", r / t }')" "$wall" \
		"$(awk -v r="$req" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')" \
		"$(awk -v r="$req" -v c="$ceiling" 'BEGIN { printf "%.2f", r / c }')" \
		"$(awk -v r="$req" -v c="$ceiling" -v w="$wall" \
			'BEGIN { printf "%.0f%%", (w > 0 ? 100 * r / c / w : 0) }')" \
		"$(awk '/^TIME/ { printf "%.2f", $4 + $5 }' "$err")" \
		"$(($(awk '/^TIME/ { print $3 }' "$err") / 1024))"
done
# --- the storage view on S3 -------------------------------------------------
# measure_view NAME ARGS...: storage_probe reading the view; prints requests
# to the storage and wall time
measure_view() {
	local name=$1 err=$HARNESS_TMP/view.err req wall
	shift
	/usr/bin/time -f 'TIME %e %M' "$top/storage_probe" "$@" >/dev/null 2>"$err" || {
		echo "$name: storage_probe failed:" >&2
		tail -5 "$err" >&2
		return 1
	}
	req=$(awk '/^requests/ { print $2 }' "$err")
	wall=$(awk '/^TIME/ { print $2 }' "$err")
	printf '%-46s %9s %8s %9s\n' "$name" "$req" "$wall" \
		"$(awk -v r="$req" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? r / w : 0) }')"
}
if [ "$s3" = 1 ]; then
	echo
	echo "== the same storage in a bucket (Swift with s3api on 127.0.0.1)"
	fs_root=$REG_ROOT
	s3_start >/dev/null
	s3_bucket bench
	# the view never lists the _layers links: they are left out of the
	# upload, which writes objects directly, not through the registry
	fill=$HARNESS_TMP/s3-fill
	cp -a "$fs_root" "$fill"
	find "$fill" -path '*/_layers' -prune -exec rm -rf {} +
	t0=$(date +%s.%N)
	objects=$(s3tool upload bench bench "$fill" --jobs 16)
	t1=$(date +%s.%N)
	printf '%d objects uploaded in %.0f s\n' "$objects" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
	rm -rf "$fill"
	printf '\n%-46s %9s %8s %9s\n' "storage view ($ntags tags)" requests wall-s req/s
	measure_view "filesystem, local walk" --what manifests,tags,blobs --root "$fs_root"
	measure_view "filesystem, local walk, tag links" --what manifests,links,blobs --root "$fs_root"
	measure_view "S3, listings" --what manifests,tags,blobs --s3 bench /bench
	measure_view "S3, listings and tag links" --what manifests,links,blobs --s3 bench /bench
	measure_view "S3, blob store only (GC's before/after)" --what blobs --s3 bench /bench
	# a registry on the bucket: the storage index warm (the manifests by
	# digest from the cache the runs above filled)
	registry_start --s3 bench --s3-root /bench >/dev/null
	printf '\n%-32s %9s %8s %8s %8s %8s %9s %7s %8s\n' run requests req/tag wall-s req/s ceil-s \
		of-ceil cpu-s RSS-MiB
	measure "stats s3 storage-index warm" 0 digest stats --cache-dir "$cache.index" \
		--index-from-storage --registry-config "$REG_CONFIG"
	s3_line=$(grep -o "^storage 's3://.* entries in [0-9]* requests" \
		"$HARNESS_TMP/stats s3 storage-index warm.err" | tail -n 1 || true)
	[ -z "$s3_line" ] || echo "S3 ${s3_line#storage }"
fi

echo
echo "ceiling (wrk GET, $jobs connections): manifests by tag $ceiling requests/s, by digest" \
	"$ceiling_digest requests/s, config blobs $ceiling_config requests/s"
echo "ceil-s: the seconds wrk needs for the same requests; of-ceil: ceil-s / wall-s;" \
	"cpu-s: regsweep's own CPU time"
[ -n "$index_line" ] && echo "storage index (one remote find over SSH): ${index_line#storage: }"
echo "memory budget at this size: 16 MiB + 1 KiB x $ntags tags = $(( (16 * 1024 + ntags) / 1024 )) MiB"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
