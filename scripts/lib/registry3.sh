# registry3.sh: upstream distribution 3.x, built once from its release archive
# (with its vendored modules, offline) and cached outside the checkout by the
# archive's SHA-256, so that later runs reuse the binary. Sourced by
# scripts/test.sh, scripts/bench.sh and the integration harness.
#
#   registry3_archive            path of the archive, or "" when there is none
#   registry3_build              build (when missing) and print the binary's path
#
# The archive is REGSWEEP_DISTRIBUTION_ARCHIVE, else
# ../shared/third_party/distribution-v3.0.0.tar.gz next to the checkout.
# Go 1.23 comes from Debian's bookworm-backports (added to apt's sources
# when missing); nothing is downloaded by Go itself (GOPROXY=off, vendor/).

REGISTRY3_VERSION=${REGISTRY3_VERSION:-v3.0.0}
REGISTRY3_GO=/usr/lib/go-1.23/bin/go

registry3_archive() {
	local top=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
	local a=${REGSWEEP_DISTRIBUTION_ARCHIVE:-$top/../shared/third_party/distribution-${REGISTRY3_VERSION}.tar.gz}
	if [ -r "$a" ]; then
		(cd "$(dirname "$a")" && printf '%s/%s\n' "$(pwd)" "$(basename "$a")")
	fi
}

registry3_cache_dir() {
	printf '%s\n' "${REGSWEEP_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/regsweep-test}"
}

# Add bookworm-backports to apt's sources (once) and install Go 1.23.
_registry3_go() {
	[ -x "$REGISTRY3_GO" ] && return 0
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
			'Suites: bookworm-backports' 'Components: main' \
			'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
			$sudo tee /etc/apt/sources.list.d/regsweep-backports.sources >/dev/null
	fi
	echo "installing: golang-1.23-go (bookworm-backports), to build distribution ${REGISTRY3_VERSION}" >&2
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports golang-1.23-go >&2
	[ -x "$REGISTRY3_GO" ]
}

# registry3_build [TOP]: print the path of the cached binary, building it
# first when it is not there. Returns non-zero (with a message) on failure.
registry3_build() {
	local archive hash dir bin work log gover
	archive=$(registry3_archive "${1:-}")
	if [ -z "$archive" ]; then
		echo "registry3: no distribution ${REGISTRY3_VERSION} archive" >&2
		return 1
	fi
	hash=$(sha256sum "$archive" | cut -c1-16)
	dir=$(registry3_cache_dir)/registry-${REGISTRY3_VERSION}-$hash
	bin=$dir/registry
	if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
		printf '%s\n' "$bin"
		return 0
	fi
	_registry3_go || { echo "registry3: cannot install Go 1.23 from bookworm-backports" >&2; return 1; }
	mkdir -p "$dir"
	work=$(mktemp -d "$dir/build.XXXXXX")
	log=$dir/build.log
	echo "building distribution ${REGISTRY3_VERSION} from $(basename "$archive") (a few minutes, once)" >&2
	# outside the module (whose go.mod would ask for a newer toolchain)
	gover=$(cd / && GOTOOLCHAIN=local GOPROXY=off "$REGISTRY3_GO" env GOVERSION)
	if ! (
		set -e
		cd "$work"
		tar xzf "$archive"
		cd distribution-*/
		# the release asks for go 1.23.7; Debian's backport may be an earlier
		# 1.23.x: same language, and GOTOOLCHAIN=local forbids a download
		sed -i "s/^go 1\.23\.[0-9]*\$/go ${gover#go}/" go.mod
		GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local GOCACHE="$work/gocache" \
			GOPATH="$work/gopath" CGO_ENABLED=0 "$REGISTRY3_GO" build -trimpath \
			-ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=${REGISTRY3_VERSION}" \
			-o "$work/registry" ./cmd/registry
	) >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -rf "$work"
		echo "registry3: the build failed (log: $log)" >&2
		return 1
	fi
	mv -f "$work/registry" "$bin"
	rm -rf "$work"
	printf '%s\n' "$bin"
}
