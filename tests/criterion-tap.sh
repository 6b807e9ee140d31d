#!/bin/sh
# criterion-tap.sh: run a criterion test program so that it speaks TAP to
# automake's driver (one line per test case, all of them counted).
prog=$1
shift
exec "$prog" --tap=- --ascii --jobs 2 "$@"
