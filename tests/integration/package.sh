#!/usr/bin/env bash
# package.sh: the Debian package, as an operator gets it: built with
# `dpkg-buildpackage -us -uc -b` from a fresh clone of this checkout (the
# committed tree), its contents listed and checked, lintian without errors,
# and the packaged binary run from the unpacked package (never installed on
# this machine).
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
T=$HARNESS_TMP
SRC=${top_srcdir:-$HARNESS_SRCDIR}

for tool in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian git:git fakeroot:fakeroot; do
	command -v "${tool%%:*}" >/dev/null ||
		bail_out "'${tool%%:*}' is needed (Debian package: ${tool#*:})"
done
version=$(sed -n 's/^AC_INIT(\[regsweep\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
deb_version=$(sed -n '1s/^regsweep (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
like "$deb_version" "^$version-[0-9]+$" "debian/changelog's version is configure.ac's ($version) with a revision"

# a fresh clone of what is committed; a tree that is not a git checkout (a
# release tarball) is copied as it is
mkdir -p "$T/src"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	git clone -q --no-checkout "$SRC" "$T/src/regsweep" &&
		git -C "$T/src/regsweep" checkout -q "$(git -C "$SRC" rev-parse HEAD)"
	ok $? "a fresh clone of the checkout"
else
	cp -a "$SRC" "$T/src/regsweep"
	ok $? "a copy of the source tree (not a git checkout)"
fi

( cd "$T/src/regsweep" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	timeout 900 dpkg-buildpackage -us -uc -b ) >"$T/build.log" 2>&1
status=$?
is "$status" 0 "dpkg-buildpackage -us -uc -b builds"
[[ $status -eq 0 ]] || diag "$(tail -n 30 "$T/build.log")"
DEB=$T/src/regsweep_${deb_version}_amd64.deb
check "it makes regsweep_${deb_version}_amd64.deb" test -s "$DEB"

contents=$(dpkg-deb -c "$DEB" 2>/dev/null | awk '{print $6}')
for f in ./usr/bin/regsweep ./usr/share/man/man1/regsweep.1.gz \
	./usr/share/bash-completion/completions/regsweep ./usr/share/doc/regsweep/copyright \
	./usr/share/doc/regsweep/README.md.gz ./usr/share/doc/regsweep/examples/regsweep.yml \
	./usr/share/doc/regsweep/examples/Jenkinsfile ./usr/share/doc/regsweep/examples/gitlab-ci.yml; do
	printf '%s\n' "$contents" | grep -qxF "$f"
	ok $? "the package holds $f"
done
unlike "$contents" '/usr/(lib|include)/' "and no library or header"
like "$(dpkg-deb -f "$DEB" Depends 2>/dev/null)" 'libcurl4.*libssh2|libssh2.*libcurl4' \
	"its dependencies come from the binary's libraries (shlibs)"

lint=$(lintian "$DEB" 2>&1)
lint_status=$?
diag "$lint"
unlike "$lint" '(^|'$'\n'')E: ' "lintian finds no error"
is "$lint_status" 0 "lintian exits 0"

dpkg-deb -x "$DEB" "$T/root"
is "$("$T/root/usr/bin/regsweep" --version 2>&1)" "regsweep $version" "the packaged binary runs"
like "$("$T/root/usr/bin/regsweep" --help 2>&1)" 'usage: regsweep' "and gives its help"
like "$(zcat "$T/root/usr/share/man/man1/regsweep.1.gz")" '\.TH REGSWEEP' "the man page is regsweep(1)"
