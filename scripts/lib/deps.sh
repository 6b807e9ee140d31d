# deps.sh: the Debian packages regsweep builds, tests and demonstrates with,
# an installer that runs apt-get only when something is missing, and the
# build step scripts/demo.sh and scripts/test.sh share.
# Sourced by scripts/test.sh and scripts/demo.sh (bash).
#
# The build packages are what a plain `./configure` needs: it requires the
# tests' libraries too (criterion, libmicrohttpd) unless --disable-tests,
# so the demo's build is the test command's build, every test included.

REGSWEEP_BUILD_DEPS="build-essential autoconf automake pkg-config libcurl4-openssl-dev libcjson-dev libssh2-1-dev libssl-dev libyaml-dev libxml2-dev libcriterion-dev libmicrohttpd-dev"
REGSWEEP_RUN_DEPS="docker-registry openssh-server openssh-client apache2-utils curl openssl python3 python3-jwt python3-cryptography ca-certificates"
REGSWEEP_TEST_DEPS="clang valgrind wrk time bash-completion git chromium dpkg-dev debhelper fakeroot lintian swift swift-proxy swift-account swift-container swift-object python3-swift memcached"

# The pkg-config modules configure looks for: when one appears, disappears
# or changes version, the tree is configured again.
REGSWEEP_PKG_MODULES="libcurl libcjson libssh2 libcrypto yaml-0.1 libxml-2.0 criterion libmicrohttpd"

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

# deps_stamp [CONFIGURE-ARGS...]: what a configure depends on outside the
# tree: its arguments, the compiler, and the version of each library it
# looks for ("absent" when pkg-config does not find it).
deps_stamp() {
	local m v
	printf 'configure arguments: %s\n' "$*"
	printf 'compiler: %s\n' "$(${CC:-cc} --version 2>/dev/null | head -n 1)"
	for m in $REGSWEEP_PKG_MODULES; do
		v=$(pkg-config --modversion "$m" 2>/dev/null) || v=absent
		printf '%s %s\n' "$m" "$v"
	done
}

# deps_build DIR [CONFIGURE-ARGS...]: configure when needed, then build, in
# the source tree. Configures again when the tree was never configured,
# when configure is newer than config.status, when config.status was made
# by hand since (it is newer than config.deps), or when config.deps, the
# stamp of the last configure (deps_stamp), differs from now: a library
# installed or upgraded, other arguments.
deps_build() {
	local top=$1 want why=
	shift
	cd "$top" || return 1
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ ! -f Makefile.in ]; then
		autoreconf -fi >/dev/null
	fi
	want=$(deps_stamp "$@")
	if [ ! -f Makefile ] || [ ! -f config.status ]; then
		why="not configured yet"
	elif [ configure -nt config.status ]; then
		why="configure changed"
	elif [ ! -f config.deps ]; then
		why="no record of what the last configure found"
	elif [ config.status -nt config.deps ]; then
		why="configured by other means since"
	elif [ "$(cat config.deps)" != "$want" ]; then
		why="changed since the last configure: $(printf '%s\n' "$want" |
			grep -v -x -F -f config.deps | paste -s -d ';' -)"
	fi
	if [ -n "$why" ]; then
		echo "configuring ($why)" >&2
		rm -f config.deps
		./configure -q "$@" || return 1
		printf '%s\n' "$want" >config.deps
	fi
	make -s -j"$(nproc)" >/dev/null
}
