#!/usr/bin/env bash
# fuzz/build.sh: build the libFuzzer targets (fuzz/fuzz_*.c) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, against the core library
# compiled the same way. `make fuzz` runs it; so do scripts/fuzz.sh and the
# fuzz-short test. Only the build directory is written to.
#
#   fuzz/build.sh [--out DIR] [TARGET...]
#
# Environment: CLANG (default: the first of clang, clang-16..clang-14 found),
# FUZZ_SRCDIR (default: this script's tree), FUZZ_BUILDDIR (where config.h
# is; default: the source tree), FUZZ_CORE_SOURCES (the core library's
# sources, as in libregsweep_a_SOURCES; default: every src/core/*/*.c the
# mk/*.am fragments list). Prints the targets' paths; exits 0 when all
# built, 1 on a build failure, 77 when there is no clang.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=${FUZZ_SRCDIR:-$(cd "$here/.." && pwd)}
builddir=${FUZZ_BUILDDIR:-$srcdir}
out=$builddir/fuzz/bin
targets=()

while [[ $# -gt 0 ]]; do
	case $1 in
	--out)
		out=$2
		shift
		;;
	-h | --help)
		sed -n '2,14p' "$0"
		exit 0
		;;
	-*)
		echo "fuzz/build.sh: unknown option '$1'" >&2
		exit 2
		;;
	*) targets+=("$1") ;;
	esac
	shift
done

cc=${CLANG:-}
if [[ -z $cc ]]; then
	for candidate in clang clang-16 clang-15 clang-14; do
		if command -v "$candidate" >/dev/null 2>&1; then
			cc=$candidate
			break
		fi
	done
fi
if [[ -z $cc ]] || ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz/build.sh: clang not found (install clang to build the fuzzers)" >&2
	exit 77
fi

if [[ ${#targets[@]} -eq 0 ]]; then
	for f in "$srcdir"/fuzz/fuzz_*.c; do
		t=${f##*/}
		targets+=("${t%.c}")
	done
fi

# The core library's C sources, relative to the source tree.
core=()
if [[ -n ${FUZZ_CORE_SOURCES:-} ]]; then
	for f in $FUZZ_CORE_SOURCES; do
		[[ $f != *.c ]] || core+=("$f")
	done
else
	while IFS= read -r f; do
		[[ -f $srcdir/$f ]] && core+=("$f")
	done < <(grep -ho 'src/core/[A-Za-z0-9_/]*\.c' "$srcdir"/mk/*.am | sort -u)
fi
if [[ ${#core[@]} -eq 0 ]]; then
	echo "fuzz/build.sh: no core sources found" >&2
	exit 1
fi

pkgs="libcurl libcjson libssh2 libcrypto yaml-0.1 libxml-2.0"
# shellcheck disable=SC2086
if ! pkg_cflags=$(pkg-config --cflags $pkgs) || ! pkg_libs=$(pkg-config --libs $pkgs); then
	echo "fuzz/build.sh: pkg-config cannot find the libraries ($pkgs)" >&2
	exit 1
fi

include=(-include "$builddir/config.h")
if [[ ! -f $builddir/config.h ]]; then
	include=(-D_GNU_SOURCE -DPACKAGE_VERSION='"fuzz"')
fi
san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
# shellcheck disable=SC2206
cflags=(-g -O1 -std=c11 -Wall -Wno-unused-parameter "${san[@]}" "${include[@]}"
	-I"$srcdir/src/core" -I"$builddir" $pkg_cflags)

mkdir -p "$out/obj"
stamp=$out/obj/flags
flags_now="$cc ${cflags[*]}"
if [[ ! -f $stamp || $(<"$stamp") != "$flags_now" ]]; then
	rm -f "$out"/obj/*.o
	printf '%s' "$flags_now" >"$stamp"
fi

# Objects of the core, instrumented for coverage (fuzzer-no-link); rebuilt
# when the source or any core header is newer.
newest_header=$(ls -t "$srcdir"/src/core/*/*.h | head -n 1)
objs=()
failed=0
for f in "${core[@]}"; do
	name=${f#src/core/}; name=${name//\//_}
	obj=$out/obj/${name%.c}.o
	objs+=("$obj")
	if [[ -f $obj && $obj -nt $srcdir/$f && $obj -nt $newest_header ]]; then
		continue
	fi
	if ! "$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$srcdir/$f" -o "$obj"; then
		echo "fuzz/build.sh: cannot compile $f" >&2
		failed=1
	fi
done
[[ $failed -eq 0 ]] || exit 1
rm -f "$out/libcore.a"
ar rcs "$out/libcore.a" "${objs[@]}"

for t in "${targets[@]}"; do
	src=$srcdir/fuzz/$t.c
	if [[ ! -f $src ]]; then
		echo "fuzz/build.sh: no target '$t'" >&2
		failed=1
		continue
	fi
	# shellcheck disable=SC2086
	if "$cc" "${cflags[@]}" -fsanitize=fuzzer "$src" "$out/libcore.a" $pkg_libs -lm \
		-o "$out/$t"; then
		echo "$out/$t"
	else
		echo "fuzz/build.sh: cannot build $t" >&2
		failed=1
	fi
done
exit "$failed"
