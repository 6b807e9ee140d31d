#!/usr/bin/env bash
# demo.sh: the seed's experiment on loopback, start to finish.
#
# Installs what it needs (Debian 12), builds regsweep, starts a throwaway
# registry (and, once regsweep can collect garbage, an sshd) on 127.0.0.1
# with temporary storage, pushes noise (N pushes to one tag leave N-1
# untagged manifests behind), and runs regsweep against it. Everything it
# started is stopped, and its files removed, when it ends.
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

echo "== starting a throwaway registry on 127.0.0.1"
registry_start
echo "registry: $REG_URL (storage under $REG_ROOT)"

echo "== pushing $pushes images of noise to noise:latest"
push_noise -q --repo noise --tag latest --layers 3 --layer-size 4096 "$pushes" >/dev/null
push_noise -q --repo app --distinct-tags v --base-layer 3 >/dev/null
push_noise -q --repo multi --index --oci --tag stable 2 >/dev/null

echo "== regsweep stats"
"$REGSWEEP" -r "$REG_URL" stats
echo
"$REGSWEEP" -r "$REG_URL" stats --json
