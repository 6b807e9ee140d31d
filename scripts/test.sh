#!/usr/bin/env bash
# test.sh: install what the tests need, build regsweep and run every test.
#
#   scripts/test.sh              unit and integration tests (make check), the
#                                README flow test (tests/integration/readme-flow.sh:
#                                a fresh clone, the demo, then this command's
#                                configure step and a small set of tests), then
#                                the whole suite again under AddressSanitizer and
#                                UndefinedBehaviorSanitizer and the unit tests under
#                                valgrind (scripts/sanitize.sh)
#   scripts/test.sh --quick      make check only
#   scripts/test.sh --distcheck  also `make distcheck`
#   scripts/test.sh --tests 'T1 T2...'
#                                make check of those tests only (TESTS=...), e.g.
#                                'test_apply tests/integration/faults.sh'; with
#                                FAULTS_ONLY=REGEX for some fault scenarios only
#
# Configuring: the tree is configured again whenever the libraries configure
# looks for, or the configure arguments, changed since the last configure
# (scripts/lib/deps.sh), so a tree configured before a test library was
# installed is never used half configured; a missing test library is a
# configure error naming the Debian package.
#
# Skips: a skipped test counts as a FAILURE unless its reason starts with
# "platform limit:" (a limit of the platform that no package can lift; see
# scripts/lib/results.sh). Those are counted, and listed, as skipped.
#
# The integration suite runs once per registry build: Debian's
# docker-registry 2.8 and upstream distribution 3.0, built (once, then
# cached) from ../shared/third_party/distribution-v3.0.0.tar.gz or
# REGSWEEP_DISTRIBUTION_ARCHIVE. Without the archive the 3.0 pass is not
# run, and a line says so.
#
# Prints one closing line "N passed, N failed" (and ", N skipped (platform
# limits)" if any) with each registry pass's own count; exits non-zero if
# anything failed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/deps.sh
. "$top/scripts/lib/deps.sh"
# shellcheck source=scripts/lib/results.sh
. "$top/scripts/lib/results.sh"
# shellcheck source=scripts/lib/registry3.sh
. "$top/scripts/lib/registry3.sh"

distcheck=0 sanitize=1 flow=1 tests=
while [[ $# -gt 0 ]]; do
	case $1 in
	--distcheck) distcheck=1 ;;
	--quick) sanitize=0 flow=0 ;;
	--tests)
		[[ $# -ge 2 && -n $2 ]] || { echo "test.sh: --tests needs a list of tests" >&2; exit 2; }
		tests=$2 sanitize=0 flow=0
		shift
		;;
	-h|--help) sed -n '2,36p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS $REGSWEEP_RUN_DEPS $REGSWEEP_TEST_DEPS
deps_build "$top"

# distribution 3.0: built from its archive when it is not in the cache yet
archive=$(registry3_archive "$top")
not_run=
check_args=()
if [[ -z $archive ]]; then
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
jobs=${REGSWEEP_TEST_JOBS:-4}
if [[ -n $tests ]]; then
	make -s check -j"$jobs" "${check_args[@]}" TESTS="$tests" >/dev/null 2>&1 || status=$?
else
	make -s check -j"$jobs" "${check_args[@]}" >/dev/null 2>&1 || status=$?
fi

# Count every test case from automake's per-test result files.
results_count "$top"
passed=$RESULTS_PASSED failed=$RESULTS_FAILED skipped=$RESULTS_SKIPPED
if [[ ${#RESULTS_FAILED_LOGS[@]} -gt 0 ]]; then
	results_show_failures "${RESULTS_FAILED_LOGS[@]#"$top"/}"
fi
if [[ $RESULTS_BAD_SKIPS -gt 0 ]]; then
	echo "$RESULTS_BAD_SKIPS skipped test(s) counted as failed: a skip must name a platform limit"
fi
# Each registry pass on its own: NAME@2.8.trs, NAME@3.0.trs.
passes=
for reg in 2.8 3.0; do
	p=0 f=0 n=0
	while IFS= read -r trs; do
		n=$((n + 1))
		p=$((p + $(grep -c '^:test-result: PASS' "$trs" || true)))
		f=$((f + $(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs" || true)))
	done < <(find "$top/tests/integration" -name "*@$reg.trs" | sort)
	if [[ $n -gt 0 ]]; then
		passes="$passes${passes:+; }registry $reg: $n scripts, $p passed, $f failed"
	fi
done
if [[ -n $not_run ]]; then
	echo "$not_run"
	if [[ -n $archive ]]; then
		failed=$((failed + 1))
	fi
fi
if [[ $status -ne 0 && $failed -eq 0 ]]; then
	echo "make check failed without a failing test case:"
	tail -30 "$top/test-suite.log" 2>/dev/null || true
	failed=$((failed + 1))
fi

# The README flow test: its own cases count like any other.
if [[ $flow -eq 1 ]]; then
	flow_log=$top/tests/integration/readme-flow.log
	bash "$top/tests/integration/readme-flow.sh" >"$flow_log" 2>&1 || true
	p=$(grep -c -E '^ok [0-9]+( |$)' "$flow_log" || true)
	s=$(grep -c -E '^ok [0-9]+ # SKIP' "$flow_log" || true)
	f=$(grep -c -E '^(not ok|Bail out)' "$flow_log" || true)
	passed=$((passed + p - s))
	failed=$((failed + f + s))
	if ! grep -q -E '^1\.\.[0-9]+' "$flow_log" || [[ $p -eq 0 ]]; then
		failed=$((failed + 1))
	fi
	if [[ $((f + s)) -gt 0 ]] || ! grep -q -E '^1\.\.[0-9]+' "$flow_log"; then
		echo "=== the README flow test failed (tests/integration/readme-flow.log) ==="
		grep -E '^(not ok|#|Bail out)' "$flow_log" | head -40 || tail -20 "$flow_log"
	fi
fi

# The sanitizer and valgrind runs count as one more test each way: their own
# summary says what they found.
if [[ $sanitize -eq 1 ]]; then
	if bash "$top/scripts/sanitize.sh" >"$top/sanitize.log" 2>&1; then
		passed=$((passed + 1))
		sed -n '/^sanitize.sh summary:/,$p' "$top/sanitize.log"
	else
		failed=$((failed + 1))
		echo "=== scripts/sanitize.sh found problems ==="
		tail -40 "$top/sanitize.log"
	fi
fi

if [[ $distcheck -eq 1 ]]; then
	make -s distcheck >/dev/null 2>&1 || { echo "make distcheck failed"; failed=$((failed + 1)); }
fi

if [[ $skipped -gt 0 ]]; then
	echo "$passed passed, $failed failed, $skipped skipped (platform limits)${passes:+ ($passes)}"
else
	echo "$passed passed, $failed failed${passes:+ ($passes)}"
fi
[[ $failed -eq 0 ]]
