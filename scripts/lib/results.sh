# results.sh: counting automake's test results, the one way scripts/test.sh
# and scripts/sanitize.sh count them. Sourced; bash.
#
# A skipped test case is a FAILURE unless its reason names a limit of the
# platform that no package can lift, marked by the words "platform limit:"
# in the reason (`skip "platform limit: no user namespaces in this kernel"`,
# TAP `ok 3 # SKIP platform limit: ...`). A missing package, a program not
# built, a service that did not start are never platform limits: the test
# must fail, naming the package.

# results_count DIR: count the .trs files under DIR. Sets RESULTS_PASSED,
# RESULTS_FAILED (failed and errored cases, and skips without a platform
# limit), RESULTS_SKIPPED (skips for a platform limit) and RESULTS_BAD_SKIPS
# (the skips counted as failures); RESULTS_FAILED_LOGS lists the logs with
# failures.
results_count() {
	local dir=$1 trs log p f s allowed
	RESULTS_PASSED=0 RESULTS_FAILED=0 RESULTS_SKIPPED=0 RESULTS_BAD_SKIPS=0
	RESULTS_FAILED_LOGS=()
	while IFS= read -r trs; do
		log=${trs%.trs}.log
		p=$(grep -c '^:test-result: PASS' "$trs" || true)
		f=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs" || true)
		s=$(grep -c '^:test-result: SKIP' "$trs" || true)
		allowed=0
		if [[ $s -gt 0 && -f $log ]]; then
			# automake's TAP driver logs each as "SKIP: TEST N - NAME # SKIP REASON"
			allowed=$(grep -c -E '^SKIP: .*platform limit:' "$log" || true)
			[[ $allowed -le $s ]] || allowed=$s
		fi
		RESULTS_PASSED=$((RESULTS_PASSED + p))
		RESULTS_SKIPPED=$((RESULTS_SKIPPED + allowed))
		RESULTS_BAD_SKIPS=$((RESULTS_BAD_SKIPS + s - allowed))
		RESULTS_FAILED=$((RESULTS_FAILED + f + s - allowed))
		if [[ $((f + s - allowed)) -gt 0 ]]; then
			RESULTS_FAILED_LOGS+=("$log")
		fi
	done < <(find "$dir" -name '*.trs' | sort)
}

# results_show_failures LOG...: the failing, errored and wrongly skipped
# cases of each log, and its TAP comments, briefly.
results_show_failures() {
	local log
	for log in "$@"; do
		echo "=== failures in $log ==="
		grep -E '^(not ok|#|SKIP: |ERROR: |Bail out)' "$log" | grep -v -E '^SKIP: .*platform limit:' |
			head -40 || true
	done
}
