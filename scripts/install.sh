#!/usr/bin/env bash
# install.sh: build regsweep and install it (binary, man page, bash
# completion) under PREFIX (default /usr/local), on Debian or Ubuntu.
#   scripts/install.sh [PREFIX]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/deps.sh
. "$top/scripts/lib/deps.sh"
prefix=${1:-/usr/local}
# shellcheck disable=SC2086
deps_install $REGSWEEP_BUILD_DEPS ca-certificates
deps_build "$top" --prefix="$prefix"
make -C "$top" -s install
echo "installed: $prefix/bin/regsweep"
