#!/usr/bin/env bash
# A short run of every libFuzzer target (FUZZ_SHORT_SECONDS each, default 4):
# first every seed of fuzz/corpus replayed as a regression test, then
# fuzzing from those seeds. Any crash, leak, undefined behaviour or broken
# promise fails. Skipped when clang is not installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

srcdir_top=${top_srcdir:-$here/../..}
builddir_top=${top_builddir:-$srcdir_top}
seconds=${FUZZ_SHORT_SECONDS:-4}

tap_noplan
harness_tmpdir

build_log=$HARNESS_TMP/fuzz-build.log
status=0
built=$(FUZZ_SRCDIR=$srcdir_top FUZZ_BUILDDIR=$builddir_top \
	bash "$srcdir_top/fuzz/build.sh" --out "$builddir_top/fuzz-build/bin" 2>"$build_log") ||
	status=$?
if [[ $status -eq 77 ]]; then
	bail_out "clang is not installed (Debian: clang)"
fi
ok "$status" "the fuzz targets build with clang and the sanitizers"
if [[ $status -ne 0 ]]; then
	diag "$(tail -n 30 "$build_log")"
	exit 1
fi

# known_bug TARGET LOG: is the first error in LOG a known bug of TARGET?
# Sets KNOWN_BUG to the error line.
known_bug() {
	local first sig
	first=$(grep -m 1 -E 'runtime error|broken promise|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$2" || true)
	KNOWN_BUG=${first##*/}
	while IFS=$'\t' read -r target sig; do
		[[ $target == "$1" && -n $sig && $first =~ $sig ]] && return 0
	done < <(grep -v '^#' "$srcdir_top/fuzz/known-bugs/SIGNATURES" 2>/dev/null)
	return 1
}

mapfile -t binaries <<<"$built"
for bin in "${binaries[@]}"; do
	name=${bin##*/}
	seeds=$srcdir_top/fuzz/corpus/$name
	log=$HARNESS_TMP/$name.log
	isnt "$(find "$seeds" -type f 2>/dev/null | wc -l)" 0 "$name has seeds in fuzz/corpus/$name"

	status=0
	timeout 120 "$bin" -runs=0 -artifact_prefix="$HARNESS_TMP/$name-seed-" "$seeds" \
		>"$log" 2>&1 </dev/null || status=$?
	ok "$status" "$name: every seed runs clean"
	[[ $status -eq 0 ]] || diag "$(grep -E -A5 'ERROR|runtime error|broken promise' "$log" | head -n 20)"

	corpus=$HARNESS_TMP/corpus-$name
	mkdir -p "$corpus"
	dict=()
	[[ ! -f $srcdir_top/fuzz/$name.dict ]] || dict=(-dict="$srcdir_top/fuzz/$name.dict")
	status=0
	timeout $((seconds + 60)) "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$HARNESS_TMP/$name-" \
		"${dict[@]}" "$corpus" "$seeds" >"$log" 2>&1 </dev/null || status=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
	label="$name: ${seconds} s of fuzzing, ${execs:-0} executions, no crash"
	if [[ $status -ne 0 ]] && known_bug "$name" "$log"; then
		# a bug in code owned elsewhere, listed in fuzz/known-bugs/SIGNATURES
		_TAP_COUNT=$((_TAP_COUNT + 1))
		printf 'not ok %d - %s # TODO known bug: %s\n' "$_TAP_COUNT" "$label" "$KNOWN_BUG"
		continue
	fi
	ok "$status" "$label"
	if [[ $status -ne 0 ]]; then
		diag "$(grep -E -A12 'ERROR|runtime error|broken promise' "$log" | head -n 30)"
		for crash in "$HARNESS_TMP/$name"-crash-* "$HARNESS_TMP/$name"-leak-*; do
			[[ -f $crash ]] && diag "input (base64): $(base64 -w0 "$crash" | head -c 2000)"
		done
	fi
done
