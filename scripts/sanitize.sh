#!/usr/bin/env bash
# sanitize.sh: the whole test suite under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the unit tests under valgrind.
#
#   scripts/sanitize.sh [--worktree] [--keep] [--no-asan] [--no-valgrind] [-j N]
#
#   --worktree     build the tracked files as they are on disk (default: HEAD)
#   --keep         keep the temporary directory (its path is printed)
#   --no-asan      skip the sanitizer build and suite
#   --no-valgrind  skip the valgrind runs
#   -j N           parallel jobs for make (default: the number of CPUs)
#
# It never builds in the source tree: the tree is copied into a temporary
# directory and built twice out of tree (VPATH): build-asan with
# `configure --enable-asan` runs `make check` (every unit and integration
# test), and build-plain builds the unit test programs, each run under
# `valgrind --leak-check=full --errors-for-leak-kinds=definite`, following
# criterion's test workers (--trace-children=yes). A canary test that leaks
# on purpose proves valgrind sees inside those workers.
#
# The integration tests run once per registry build, as in `make check`:
# the distribution 3.0 pass needs its archive (scripts/lib/registry3.sh);
# without it that pass is not run, and the summary says so.
#
# Sanitizer reports go to files (log_path), so one is found even when a
# test swallowed the program's stderr. A skipped test counts as failed
# unless its reason names a platform limit (scripts/lib/results.sh). Prints
# a summary; exits 1 on any failing test, sanitizer report or valgrind
# error, 2 on a build failure.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/results.sh
. "$top/scripts/lib/results.sh"
worktree=0 keep=0 do_asan=1 do_valgrind=1
jobs=$(nproc 2>/dev/null || echo 2)
while [[ $# -gt 0 ]]; do
	case $1 in
	--worktree) worktree=1 ;;
	--keep) keep=1 ;;
	--no-asan) do_asan=0 ;;
	--no-valgrind) do_valgrind=0 ;;
	-j)
		jobs=$2
		shift
		;;
	-h | --help)
		sed -n '2,24p' "$0"
		exit 0
		;;
	*)
		echo "sanitize.sh: unknown option '$1'" >&2
		exit 2
		;;
	esac
	shift
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/regsweep-sanitize.XXXXXX")
cleanup() {
	if [[ $keep -eq 1 ]]; then
		echo "sanitize.sh: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() {
	printf '== %s\n' "$*"
}

# --- a copy of the tree ------------------------------------------------------
src=$tmp/src
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	if [[ $worktree -eq 1 ]]; then
		say "copying the tracked files of $top as they are on disk"
		(cd "$top" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$src" || exit 2
	else
		say "copying $(git -C "$top" rev-parse --short HEAD) (HEAD) of $top"
		git -C "$top" archive HEAD | tar -xf - -C "$src" || exit 2
	fi
else
	say "copying $top (not a git checkout)"
	tar -C "$top" --exclude=autom4te.cache --exclude=fuzz-build -cf - . |
		tar -xf - -C "$src" || exit 2
	# a build in that tree left programs and test results that the VPATH
	# builds below would take as up to date: clean them away first
	if [[ -f $src/Makefile ]]; then
		make -C "$src" -s distclean >/dev/null 2>&1 || exit 2
	fi
fi
(cd "$src" && autoreconf -fi >"$tmp/autoreconf.log" 2>&1) || {
	tail -n 20 "$tmp/autoreconf.log"
	exit 2
}

findings=0
summary=()

# distribution 3.0 for the integration tests' second pass (from the cache
# when scripts/test.sh or an earlier run built it)
# shellcheck source=scripts/lib/registry3.sh
. "$top/scripts/lib/registry3.sh"
check_args=()
archive=$(registry3_archive "$top")
if [[ -n $archive ]] && REGSWEEP_REGISTRY3_BIN=$(registry3_build "$top"); then
	export REGSWEEP_DISTRIBUTION_ARCHIVE=$archive REGSWEEP_REGISTRY3_BIN
else
	check_args+=(REGISTRY_3_0_TESTS=)
	summary+=("registry 3.0 pass: not run (${archive:+its build failed}${archive:-no distribution $REGISTRY3_VERSION archive})")
	[[ -z $archive ]] || findings=1
fi

# Counts from automake's .trs files under DIR: "P passed, F failed, ...";
# sets FAILED_CASES (failed, errored, and skipped without a platform limit).
count_results() {
	results_count "$1"
	FAILED_CASES=$RESULTS_FAILED
	printf '%d passed, %d failed (%d of them skips without a platform limit), %d skipped ' \
		"$RESULTS_PASSED" "$RESULTS_FAILED" "$RESULTS_BAD_SKIPS" "$RESULTS_SKIPPED"
	printf '(platform limits)'
}

# --- ASan + UBSan: the whole suite --------------------------------------------
if [[ $do_asan -eq 1 ]]; then
	build=$src/build-asan
	reports=$tmp/sanitizer-reports
	mkdir -p "$build" "$reports"
	say "build-asan: ../configure --enable-asan && make check"
	(cd "$build" && ../configure -q --enable-asan >"$tmp/asan-configure.log" 2>&1 &&
		make -s -j"$jobs" >"$tmp/asan-build.log" 2>&1) || {
		tail -n 30 "$tmp/asan-configure.log" "$tmp/asan-build.log" 2>/dev/null
		exit 2
	}
	status=0
	(
		cd "$build" || exit 2
		export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
		export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
		export LSAN_OPTIONS="log_path=$reports/lsan"
		make -j"${REGSWEEP_TEST_JOBS:-$((jobs * 2))}" check "${check_args[@]}" \
			>"$tmp/asan-check.log" 2>&1
	) || status=$?
	count_results "$build" >"$tmp/asan-results"
	results=$(cat "$tmp/asan-results")
	failed=$FAILED_CASES
	# LeakSanitizer also writes a file that only lists the suppressions used
	nreports=$(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
		"$reports"/* 2>/dev/null | wc -l)
	# reports printed to a test's log despite log_path (a child that reset it)
	inline=$(grep -l -r -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
		--include='*.log' "$build" 2>/dev/null | grep -v -e '/config.log$' | wc -l)
	summary+=("asan+ubsan suite: $results; $nreports sanitizer report file(s), $inline log(s) with a report")
	if [[ $status -ne 0 || $failed -ne 0 || $nreports -ne 0 || $inline -ne 0 ]]; then
		findings=1
		for f in $(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
			"$reports"/* 2>/dev/null); do
			echo "--- $f"
			head -n 40 "$f"
		done
		grep -h -E '^(FAIL|ERROR|XPASS):' "$tmp/asan-check.log" | head -n 40
		if [[ $RESULTS_BAD_SKIPS -gt 0 ]]; then
			echo "skipped without a platform limit (counted as failed):"
			grep -h -E '^SKIP: ' "$tmp/asan-check.log" | grep -v 'platform limit:' | head -n 20
		fi
	fi
fi

# --- valgrind: the unit tests ------------------------------------------------
if [[ $do_valgrind -eq 1 ]]; then
	if ! command -v valgrind >/dev/null 2>&1; then
		summary+=("valgrind: not installed")
		findings=1
	else
		build=$src/build-plain
		vglogs=$tmp/valgrind
		mkdir -p "$build" "$vglogs"
		say "build-plain: ../configure && make the unit test programs"
		(cd "$build" && ../configure -q >"$tmp/plain-configure.log" 2>&1 &&
			make -s -j"$jobs" >"$tmp/plain-build.log" 2>&1 &&
			make -s -j"$jobs" check TESTS= >>"$tmp/plain-build.log" 2>&1) || {
			tail -n 30 "$tmp/plain-configure.log" "$tmp/plain-build.log" 2>/dev/null
			exit 2
		}
		# criterion runs each test in a re-executed copy of the program: follow
		# those, but not the tools and helper scripts the tests start (sh,
		# mktemp, docker-credential-test...), which valgrind slows past the
		# tests' own time limits
		vg=(valgrind --trace-children=yes
			--trace-children-skip='/usr/*,/bin/*,/sbin/*,*/tests/harness/*,*/docker-credential-*,*.sh,*.py'
			--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=42
			--track-origins=yes --num-callers=30)

		# The canary: a criterion test that leaks must be caught, or valgrind
		# is not looking inside the test workers.
		cat >"$tmp/canary.c" <<'EOF'
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
Test(canary, leaks_on_purpose)
{
	char *p = malloc(77);

	memset(p, 1, 77);
	p = NULL;
	cr_assert(1);
}
EOF
		# shellcheck disable=SC2046
		if cc -g -o "$tmp/canary" "$tmp/canary.c" $(pkg-config --cflags --libs criterion) \
			>"$tmp/canary-build.log" 2>&1; then
			mkdir -p "$vglogs/canary"
			"${vg[@]}" --log-file="$vglogs/canary/%p.log" "$tmp/canary" --jobs 1 \
				>/dev/null 2>&1 </dev/null || true
			if grep -q -E 'ERROR SUMMARY: [1-9]' "$vglogs"/canary/*.log &&
				grep -q '77 bytes in 1 blocks are definitely lost' "$vglogs"/canary/*.log; then
				summary+=("valgrind canary: the deliberate leak inside a test worker is caught")
			else
				summary+=("valgrind canary: NOT caught: valgrind does not see the test workers")
				findings=1
			fi
		else
			summary+=("valgrind canary: could not be built (see $tmp/canary-build.log)")
			findings=1
		fi

		mapfile -t programs < <(cd "$build" && for f in test_*; do
			[[ -x $f && -f $f ]] && printf '%s\n' "$f"
		done)
		say "valgrind: ${#programs[@]} unit test programs"
		# A test that fails under valgrind (its time limits are tight for a
		# program slowed twentyfold) leaks what its failed assertion skipped:
		# such leaks are listed but not counted. Every other valgrind error,
		# and any leak in a test that passed, is a finding.
		vg_failed=()
		slow_failures=()
		test_failures=()
		for prog in "${programs[@]}"; do
			mkdir -p "$vglogs/$prog"
			status=0
			# the environment `make check` gives the tests (AM_TESTS_ENVIRONMENT)
			(cd "$build" && top_srcdir=$src top_builddir=$build srcdir=$src \
				timeout 1800 "${vg[@]}" --log-file="$vglogs/$prog/%p.log" \
				"./$prog" --jobs "$jobs" --timeout 600 >"$vglogs/$prog.out" 2>&1 </dev/null) ||
				status=$?
			# criterion names a test's function SUITE_NAME_impl
			failed_tests=$(sed -n 's/^\[FAIL\] \([A-Za-z0-9_]*\)::\([A-Za-z0-9_]*\).*/\1_\2_impl/p' \
				"$vglogs/$prog.out" | sort -u)
			if [[ -n $failed_tests ]]; then
				# the same tests without valgrind: a failure there is no matter of speed
				(cd "$build" && top_srcdir=$src top_builddir=$build srcdir=$src \
					timeout 600 "./$prog" --jobs "$jobs" >"$vglogs/$prog.native.out" 2>&1 \
					</dev/null) || true
				native_failed=$(sed -n 's/^\[FAIL\] \([A-Za-z0-9_]*\)::\([A-Za-z0-9_]*\).*/\1_\2_impl/p' \
					"$vglogs/$prog.native.out" | sort -u)
				for t in $failed_tests; do
					if grep -q -x -F "$t" <<<"$native_failed"; then
						test_failures+=("$prog:${t%_impl}")
					else
						slow_failures+=("$prog:${t%_impl}")
					fi
				done
			fi
			errors=0 excused=0
			for log in $(grep -l -E 'ERROR SUMMARY: [1-9]' "$vglogs/$prog"/*.log 2>/dev/null); do
				# errors other than leaks always count
				if grep -q -E 'Invalid (read|write|free)|uninitialised|Mismatched free|overlap|Syscall param' "$log"; then
					errors=$((errors + 1))
				elif [[ -n $failed_tests ]] &&
					grep -o -E '[A-Za-z0-9_]+_impl \(' "$log" | tr -d ' (' | sort -u |
					grep -q -x -F "$failed_tests"; then
					excused=$((excused + 1))
					continue
				else
					errors=$((errors + 1))
				fi
				echo "--- $log"
				grep -E -A12 'definitely lost in|Invalid (read|write|free)|uninitialised|Mismatched' \
					"$log" | head -n 40
			done
			processes=$(find "$vglogs/$prog" -name '*.log' | wc -l)
			if [[ $errors -ne 0 ]]; then
				vg_failed+=("$prog ($errors of $processes processes with errors)")
			fi
			printf '   %-20s %3d processes, %d with errors, %d leaks of failed tests, exit %d\n' \
				"$prog" "$processes" "$errors" "$excused" "$status"
		done
		if [[ ${#slow_failures[@]} -gt 0 ]]; then
			summary+=("valgrind: tests that failed only at valgrind's speed (not counted): ${slow_failures[*]}")
		fi
		if [[ ${#test_failures[@]} -gt 0 ]]; then
			findings=1
			summary+=("unit tests that fail with or without valgrind: ${test_failures[*]}")
		fi
		if [[ ${#vg_failed[@]} -gt 0 ]]; then
			findings=1
			summary+=("valgrind: ${#vg_failed[@]} of ${#programs[@]} unit test programs with findings: ${vg_failed[*]}")
		else
			summary+=("valgrind: ${#programs[@]} unit test programs, no error and no definite leak")
		fi
	fi
fi

echo
echo "sanitize.sh summary:"
for line in "${summary[@]}"; do
	echo "  $line"
done
if [[ $findings -ne 0 ]]; then
	if [[ $keep -eq 1 ]]; then
		echo "sanitize.sh: FINDINGS (logs in $tmp)"
	else
		echo "sanitize.sh: FINDINGS (run with --keep to keep the logs)"
	fi
	exit 1
fi
echo "sanitize.sh: clean"
