# deps.sh: the Debian packages regsweep builds, tests and demonstrates with,
# and an installer that runs apt-get only when something is missing.
# Sourced by scripts/test.sh and scripts/demo.sh.

REGSWEEP_BUILD_DEPS="build-essential autoconf automake pkg-config libcurl4-openssl-dev libcjson-dev libssh2-1-dev libssl-dev libyaml-dev libxml2-dev libcriterion-dev"
REGSWEEP_RUN_DEPS="docker-registry openssh-server openssh-client apache2-utils curl openssl python3 python3-jwt python3-cryptography ca-certificates"
REGSWEEP_TEST_DEPS="libmicrohttpd-dev clang valgrind wrk time bash-completion swift swift-proxy swift-account swift-container swift-object python3-swift memcached"

# deps_install PACKAGE...: install what is missing (apt-get update once first).
deps_install() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}" >&2
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# deps_build DIR [CONFIGURE-ARGS...]: configure (once) and build in the source tree.
deps_build() {
	local top=$1
	shift
	cd "$top" || return 1
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f Makefile.in ]; then
		autoreconf -fi >/dev/null
	fi
	if [ ! -f Makefile ] || [ configure -nt config.status ] || [ "$#" -gt 0 ]; then
		./configure -q "$@"
	fi
	make -s -j"$(nproc)" >/dev/null
}
