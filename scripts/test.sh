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
# Prints one closing line "N passed, N failed" (and skipped, if any);
# exits non-zero if anything failed.
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

# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS $REGSWEEP_RUN_DEPS $REGSWEEP_TEST_DEPS
deps_build "$top"

cd "$top"
find "$top" -name '*.trs' -delete
status=0
make -s check -j2 >/dev/null 2>&1 || status=$?

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
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
