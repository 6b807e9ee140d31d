#!/usr/bin/env bash
# test.sh: install what the tests need, build regsweep and run every test.
#
#   scripts/test.sh              unit and integration tests (make check), then
#                                the whole suite again under AddressSanitizer and
#                                UndefinedBehaviorSanitizer and the unit tests under
#                                valgrind (scripts/sanitize.sh)
#   scripts/test.sh --quick      make check only
#   scripts/test.sh --distcheck  also `make distcheck`
#
# The integration suite runs once per registry build: Debian's
# docker-registry 2.8 and upstream distribution 3.0, built (once, then
# cached) from ../shared/third_party/distribution-v3.0.0.tar.gz or
# REGSWEEP_DISTRIBUTION_ARCHIVE. Without the archive the 3.0 pass is not
# run, and a line says so.
#
# Prints one closing line "N passed, N failed" (and skipped, if any) with
# each registry pass's own count; exits non-zero if anything failed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/deps.sh
. "$top/scripts/lib/deps.sh"

distcheck=0 sanitize=1
for arg in "$@"; do
	case $arg in
	--distcheck) distcheck=1 ;;
	--quick) sanitize=0 ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

# shellcheck source=scripts/lib/registry3.sh
. "$top/scripts/lib/registry3.sh"

# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS $REGSWEEP_RUN_DEPS $REGSWEEP_TEST_DEPS
deps_build "$top"

# distribution 3.0: built from its archive when it is not in the cache yet
archive=$(registry3_archive "$top")
not_run=
check_args=()
if [ -z "$archive" ]; then
	not_run="registry 3.0 pass: not run (no distribution ${REGISTRY3_VERSION} archive: put it at ../shared/third_party/distribution-${REGISTRY3_VERSION}.tar.gz or set REGSWEEP_DISTRIBUTION_ARCHIVE)"
	check_args+=(REGISTRY_3_0_TESTS=)
elif REGSWEEP_REGISTRY3_BIN=$(registry3_build "$top"); then
	# the sanitizer pass builds a copy of the tree elsewhere: tell it too
	export REGSWEEP_DISTRIBUTION_ARCHIVE=$archive REGSWEEP_REGISTRY3_BIN
else
	not_run="registry 3.0 pass: not run (building distribution ${REGISTRY3_VERSION} failed, see above)"
	check_args+=(REGISTRY_3_0_TESTS=)
fi

cd "$top"
find "$top" -name '*.trs' -delete
status=0
# Integration tests mostly wait on their servers: more of them at once than
# there are cores keeps both cores busy (they share nothing but the cores).
make -s check -j"${REGSWEEP_TEST_JOBS:-4}" "${check_args[@]}" >/dev/null 2>&1 || status=$?

# Count every test case from automake's per-test result files.
passed=0 failed=0 skipped=0
while IFS= read -r trs; do
	p=$(grep -c '^:test-result: PASS' "$trs" || true)
	f=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs" || true)
	s=$(grep -c '^:test-result: SKIP' "$trs" || true)
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		log=${trs%.trs}.log
		echo "=== failures in ${log#"$top"/} ==="
		grep -E '^(not ok|#)' "$log" | head -40 || true
	fi
done < <(find "$top" -name '*.trs' | sort)

# Each registry pass on its own: NAME@2.8.trs, NAME@3.0.trs.
passes=
for reg in 2.8 3.0; do
	p=0 f=0 n=0
	while IFS= read -r trs; do
		n=$((n + 1))
		p=$((p + $(grep -c '^:test-result: PASS' "$trs" || true)))
		f=$((f + $(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs" || true)))
	done < <(find "$top/tests/integration" -name "*@$reg.trs" | sort)
	if [ "$n" -gt 0 ]; then
		passes="$passes${passes:+; }registry $reg: $n scripts, $p passed, $f failed"
	fi
done
if [ -n "$not_run" ]; then
	echo "$not_run"
	if [ "$archive" ]; then
		failed=$((failed + 1))
	fi
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "make check failed without a failing test case:"
	tail -30 "$top/test-suite.log" 2>/dev/null || true
	failed=$((failed + 1))
fi

# The sanitizer and valgrind runs count as one more test each way: their own
# summary says what they found.
if [ "$sanitize" -eq 1 ]; then
	if bash "$top/scripts/sanitize.sh" >"$top/sanitize.log" 2>&1; then
		passed=$((passed + 1))
		sed -n '/^sanitize.sh summary:/,$p' "$top/sanitize.log"
	else
		failed=$((failed + 1))
		echo "=== scripts/sanitize.sh found problems ==="
		tail -40 "$top/sanitize.log"
	fi
fi

if [ "$distcheck" -eq 1 ]; then
	make -s distcheck >/dev/null 2>&1 || { echo "make distcheck failed"; failed=$((failed + 1)); }
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped ($passes)"
else
	echo "$passed passed, $failed failed ($passes)"
fi
[ "$failed" -eq 0 ]
