#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets and run each for a while.
#
#   scripts/fuzz.sh [-t SECONDS] [-o DIR] [--keep-corpus DIR] [TARGET...]
#
#   -t SECONDS         fuzzing time per target (default 10)
#   -o DIR             build and work directory (default: <build dir>/fuzz-build)
#   --keep-corpus DIR  keep each target's grown corpus under DIR/TARGET
#   TARGET             fuzz_manifest, fuzz_link... (default: all of fuzz/fuzz_*.c)
#
# Each target starts from its seeds in fuzz/corpus/TARGET (never written
# to). A crash does not end a target's time: the input is kept as
# DIR/crashes/TARGET-crash-*, and fuzzing resumes until the time is spent.
# Prints one line per target: executions, crashes, corpus size, seconds;
# exits 1 if anything crashed, 77 if clang is missing.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=10
work=
keep=
targets=()
while [[ $# -gt 0 ]]; do
	case $1 in
	-t)
		seconds=$2
		shift
		;;
	-o)
		work=$2
		shift
		;;
	--keep-corpus)
		keep=$2
		shift
		;;
	-h | --help)
		sed -n '2,16p' "$0"
		exit 0
		;;
	-*)
		echo "fuzz.sh: unknown option '$1'" >&2
		exit 2
		;;
	*) targets+=("$1") ;;
	esac
	shift
done
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
	echo "fuzz.sh: -t needs a whole number of seconds" >&2
	exit 2
fi

builddir=${FUZZ_BUILDDIR:-${top_builddir:-$top}}
work=${work:-$builddir/fuzz-build}
mkdir -p "$work"
work=$(cd "$work" && pwd)

rc=0
built=$(FUZZ_SRCDIR=${FUZZ_SRCDIR:-$top} FUZZ_BUILDDIR=$builddir \
	bash "$top/fuzz/build.sh" --out "$work/bin" "${targets[@]}") || rc=$?
if [[ $rc -ne 0 ]]; then
	[[ $rc -eq 77 ]] && echo "fuzz.sh: clang is not installed: nothing to run" >&2
	exit "$rc"
fi
mapfile -t binaries <<<"$built"

mkdir -p "$work/crashes" "$work/logs"
total_crashes=0
printf '%-16s %12s %8s %8s %8s\n' target executions crashes corpus seconds
for bin in "${binaries[@]}"; do
	name=${bin##*/}
	seeds=${FUZZ_SRCDIR:-$top}/fuzz/corpus/$name
	corpus=$work/corpus/$name
	rm -rf "$corpus"
	mkdir -p "$corpus"
	dict=()
	[[ ! -f ${FUZZ_SRCDIR:-$top}/fuzz/$name.dict ]] ||
		dict=(-dict="${FUZZ_SRCDIR:-$top}/fuzz/$name.dict")
	log=$work/logs/$name.log
	: >"$log"
	execs=0 crashes=0 start=$SECONDS
	# A crash stops libFuzzer; run again with what is left, at most 50 times.
	for ((round = 0; round < 50; round++)); do
		left=$((seconds - (SECONDS - start)))
		[[ $left -gt 0 ]] || break
		status=0
		"$bin" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
			-print_final_stats=1 -artifact_prefix="$work/crashes/$name-" "${dict[@]}" \
			"$corpus" "$seeds" >>"$log" 2>&1 </dev/null || status=$?
		n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
		execs=$((execs + ${n:-0}))
		# count this round's executions once
		sed -i 's/stat::number_of_executed_units:/stat::counted_units:/' "$log"
		[[ $status -ne 0 ]] || break
		crashes=$((crashes + 1))
	done
	size=$(find "$corpus" -type f | wc -l)
	printf '%-16s %12d %8d %8d %8d\n' "$name" "$execs" "$crashes" "$size" "$((SECONDS - start))"
	if [[ -n $keep ]]; then
		mkdir -p "$keep/$name"
		cp -f "$corpus"/* "$keep/$name/" 2>/dev/null || true
	fi
	total_crashes=$((total_crashes + crashes))
done
if [[ $total_crashes -gt 0 ]]; then
	echo "fuzz.sh: $total_crashes crash(es); inputs and logs in $work/crashes and $work/logs" >&2
	exit 1
fi
