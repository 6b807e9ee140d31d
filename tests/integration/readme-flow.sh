#!/usr/bin/env bash
# readme-flow.sh: the README's two commands, in order, on a fresh clone --
# scripts/demo.sh, then scripts/test.sh -- must leave no test unbuilt and
# none skipped.
#
# scripts/test.sh runs this test; so that it does not run the whole suite
# again inside itself, it proves the flow in parts, each bounded in time:
#   1. clone the checkout (its HEAD: what is not committed is not in the
#      clone; a plain copy of the tree when it is not a git checkout) into a
#      temporary directory;
#   2. scripts/demo.sh 3 there: the README's first command (three pushes
#      instead of 25: the demo's size is not what is tested);
#   3. the tree as the demo used to leave it, configured without the test
#      libraries (./configure --disable-tests, by hand), then the test
#      command's configure step on a small, named set of tests:
#      scripts/test.sh --tests 'test_apply test_referrers
#      tests/integration/faults.sh' (faults.sh with FAULTS_ONLY='^(ok|flaky)$'
#      and one flaky run): it must configure again, build the fault server,
#      test_apply and test_referrers, and report every case passed, none
#      skipped;
#   4. a library that changes under a configured tree (config.deps says
#      libmicrohttpd was absent at the last configure): the test command
#      configures again;
#   5. the skip rule: a probe test that skips without naming a platform
#      limit makes the test command fail; one that names it passes, counted
#      as skipped.
# Each command runs under `timeout` (the demo 15 minutes, each test command
# 20); the whole takes about 3 to 5 minutes on 2 cores.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"
top=$HARNESS_SRCDIR

tap_noplan
harness_tmpdir
clone=$HARNESS_TMP/clone

# The commands run as a user runs them: nothing of this test's environment.
clean_env=(env -u top_srcdir -u top_builddir -u srcdir -u REGSWEEP -u HARNESS_TMP -u TESTS
	-u FAULTS_ONLY -u FLAKY_RUNS -u MAKEFLAGS -u MAKELEVEL -u MFLAGS)

# --- 1. a fresh clone ------------------------------------------------------------
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	head=$(git -C "$top" rev-parse HEAD)
	check "git clone of the checkout" git clone -q --no-hardlinks "$top" "$clone"
	check "the clone is at the checkout's HEAD" git -C "$clone" checkout -q "$head"
	[[ -z $(git -C "$top" status --porcelain --untracked-files=no) ]] ||
		diag "note: the checkout has uncommitted changes; the clone has HEAD only"
else
	mkdir -p "$clone"
	check "a copy of the tree (not a git checkout)" \
		sh -c "tar -C '$top' --exclude=autom4te.cache --exclude=fuzz-build -cf - . | tar -xf - -C '$clone'"
	if [[ -f $clone/Makefile ]]; then
		check "the copy cleaned of a previous build" make -C "$clone" -s distclean
	fi
fi
[[ -x $clone/scripts/demo.sh ]] || bail_out "no scripts/demo.sh in the clone"
built=
for f in config.status Makefile regsweep fault-server test_apply test_referrers; do
	[[ ! -e $clone/$f ]] || built+=" $f"
done
is "$built" "" "the clone is fresh: nothing configured or built"

# --- 2. the demo -------------------------------------------------------------------
t0=$SECONDS
"${clean_env[@]}" timeout 900 bash "$clone/scripts/demo.sh" 3 >"$HARNESS_TMP/demo.out" 2>&1
status=$?
is "$status" 0 "scripts/demo.sh exits 0 (in $((SECONDS - t0))s)"
[[ $status -eq 0 ]] || diag "$(tail -n 20 "$HARNESS_TMP/demo.out")"
like "$(cat "$HARNESS_TMP/demo.out")" '[1-9][0-9]* deleted' "the demo deleted what it pushed for nothing"
check "the demo left a configured tree with its record" test -f "$clone/config.deps"

# --- 3. the tree as the old demo left it, then the test command --------------------------
(cd "$clone" && ./configure -q --disable-tests >"$HARNESS_TMP/half.out" 2>&1)
is "$?" 0 "the tree configured by hand without the test libraries (--disable-tests)"
check_fails "which builds no fault server" test -e "$clone/fault-server"
touch "$HARNESS_TMP/before-test"
subset='test_apply test_referrers tests/integration/faults.sh'
t0=$SECONDS
"${clean_env[@]}" FAULTS_ONLY='^(ok|flaky)$' FLAKY_RUNS=1 \
	timeout 1200 bash "$clone/scripts/test.sh" --tests "$subset" >"$HARNESS_TMP/test.out" 2>&1
status=$?
out=$(cat "$HARNESS_TMP/test.out")
is "$status" 0 "scripts/test.sh --tests '$subset' exits 0 (in $((SECONDS - t0))s)"
[[ $status -eq 0 ]] || diag "$(tail -n 30 <<<"$out")"
like "$out" 'configuring \(configured by other means since\)' "its configure step configured again"
check "config.status is new" test "$clone/config.status" -nt "$HARNESS_TMP/before-test"
unlike "$("$clone/config.status" --config)" 'disable-tests' "with the tests enabled"
for prog in fault-server test_apply test_referrers; do
	check "$prog is built" test -x "$clone/$prog"
done
for t in test_apply test_referrers tests/integration/faults; do
	trs=$clone/$t.trs   # automake: tests/integration/faults.sh -> faults.trs
	passed=$(grep -c '^:test-result: PASS' "$trs" 2>/dev/null || true)
	skipped=$(grep -c '^:test-result: SKIP' "$trs" 2>/dev/null || true)
	ok "$((passed == 0))" "${t##*/} ran: $passed cases passed"
	is "$skipped" 0 "${t##*/}: no case skipped"
done
like "$(tail -n 1 <<<"$out")" '^[1-9][0-9]* passed, 0 failed$' "the closing line counts no failure and no skip"

# --- 4. a library changed since the last configure ----------------------------------------
# what the stamp says when the tree was configured before libmicrohttpd-dev
# was installed (its version, now, differs)
sed -i 's/^libmicrohttpd .*/libmicrohttpd absent/' "$clone/config.deps" 2>/dev/null
touch "$HARNESS_TMP/before-change"
"${clean_env[@]}" timeout 1200 bash "$clone/scripts/test.sh" --tests test_referrers \
	>"$HARNESS_TMP/change.out" 2>&1
status=$?
is "$status" 0 "scripts/test.sh --tests test_referrers exits 0"
like "$(cat "$HARNESS_TMP/change.out")" 'configuring \(changed since the last configure: libmicrohttpd ' \
	"a library that changed since the last configure configures again"
check "config.status is new again" test "$clone/config.status" -nt "$HARNESS_TMP/before-change"

# --- 5. a skip is a failure unless it names a platform limit -------------------------------
probe=tests/integration/zz-skip-probe.sh
printf '#!/bin/sh\necho 1..2\necho "ok 1 - runs"\necho "ok 2 # SKIP libfoo-dev is not installed"\n' \
	>"$clone/$probe"
"${clean_env[@]}" timeout 1200 bash "$clone/scripts/test.sh" --tests "$probe" >"$HARNESS_TMP/skip.out" 2>&1
status=$?
isnt "$status" 0 "a test skipped for a missing package fails the test command"
like "$(cat "$HARNESS_TMP/skip.out")" '1 passed, 1 failed' "and is counted as failed"
printf '#!/bin/sh\necho 1..2\necho "ok 1 - runs"\necho "ok 2 # SKIP platform limit: no such kernel feature"\n' \
	>"$clone/$probe"
"${clean_env[@]}" timeout 1200 bash "$clone/scripts/test.sh" --tests "$probe" >"$HARNESS_TMP/skip.out" 2>&1
status=$?
is "$status" 0 "a skip that names a platform limit passes"
like "$(cat "$HARNESS_TMP/skip.out")" '1 passed, 0 failed, 1 skipped \(platform limits\)' \
	"and is counted as skipped"
rm -f "$clone/$probe"

tap_done
