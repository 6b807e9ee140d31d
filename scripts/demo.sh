#!/usr/bin/env bash
# demo.sh: the seed's experiment on loopback, start to finish.
#
# Installs what it needs (Debian 12), builds regsweep (configured exactly as
# scripts/test.sh configures it, test libraries included, so that the test
# command finds a whole tree; scripts/lib/deps.sh), starts a throwaway
# registry and an sshd on 127.0.0.1 with temporary storage and keys, pushes
# noise (PUSHES pushes to one tag leave PUSHES-1 untagged manifests behind,
# plus a multi-arch image and a few release tags), then runs
#   regsweep run --dry-run    (stats, plan, GC dry run: changes nothing)
#   regsweep run              (stats, plan, apply, GC over SSH, stats, report)
# and shows the report. Everything it started is stopped, and its files
# removed, when it ends.
#
#   scripts/demo.sh [PUSHES]     (default 25, as in the seed)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/deps.sh
. "$top/scripts/lib/deps.sh"
pushes=${1:-25}

# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS $REGSWEEP_RUN_DEPS
echo "== building regsweep"
deps_build "$top"

# The test harness knows how to run a registry and an sshd on loopback.
# shellcheck source=tests/harness/lib.sh
. "$top/tests/harness/lib.sh"
harness_tmpdir
export REGSWEEP="$top/regsweep"
export XDG_CACHE_HOME=$HARNESS_TMP/cache

echo "== starting a throwaway registry and sshd on 127.0.0.1"
registry_start >/dev/null
sshd_start >/dev/null
echo "registry: $REG_URL, storage under $REG_ROOT"
echo "ssh:      $SSH_TARGET (its own host key and client key)"

# The registry host's before/after-GC commands: read-only while collecting,
# read-write and restarted after (which also empties its blob cache).
state=$HARNESS_TMP/regstate
mkdir -p "$state"
printf '%s\n' "$REG_CONFIG" >"$state/config"
printf '%s\n' "$REG_URL" >"$state/url"
printf '%s\n' "$REG_PID" >"$state/pid"
printf '%s\n' "$HARNESS_REGISTRY_BIN" >"$state/bin"
ln -s "$REG_LOG" "$state/log"
harness_defer sh "$HARNESS_DIR/registry-ctl.sh" "$state" stop
ctl="sh '$HARNESS_DIR/registry-ctl.sh' '$state'"

echo "== pushing noise: $pushes pushes to noise:latest, a multi-arch image, 6 releases"
push_noise -q --repo noise --tag latest --layers 3 --layer-size 4096 "$pushes" >/dev/null
push_noise -q --repo multi --index --oci --tag stable 2 >/dev/null
push_noise -q --repo app --distinct-tags v1. --base-layer --sign \
	--created 2024-01-01T00:00:00Z --created-step 86400 6 >/dev/null

args=(-r "$REG_URL" --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS"
	--storage-root "$REG_ROOT"
	--before-gc "$ctl restart --readonly" --after-gc "$ctl restart"
	--gc-command "'$HARNESS_REGISTRY_BIN' garbage-collect '$REG_CONFIG'"
	--untagged-grace 0s --repos app --keep-last 3 --backup-dir "$HARNESS_TMP/backup")

echo
echo "== regsweep stats"
"$REGSWEEP" stats -r "$REG_URL" --storage-root "$REG_ROOT"
echo
echo "== regsweep plan (app: keep the newest 3 releases; untagged history goes everywhere)"
"$REGSWEEP" plan "${args[@]}" | tail -n 14
echo
echo "== regsweep run --dry-run"
"$REGSWEEP" run --dry-run "${args[@]}"
echo
echo "== regsweep run"
"$REGSWEEP" run "${args[@]}" --report "$HARNESS_TMP/report.json"
echo
echo "== the JSON report (first lines of $HARNESS_TMP/report.json)"
head -n 30 "$HARNESS_TMP/report.json"
echo "..."
echo
echo "== the registry still serves every kept tag"
"$REGSWEEP" stats -r "$REG_URL" --storage-root "$REG_ROOT" --per-repo
