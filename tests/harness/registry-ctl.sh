#!/bin/sh
# registry-ctl.sh: stop and start the test registry from a remote command
# (the before/after-GC commands regsweep runs over SSH see none of the test's
# shell functions). Its state lives in a directory the test fills in:
#   STATE/config  the registry's config file     STATE/pid   its process id
#   STATE/url     its base URL                   STATE/log   where it logs
#   STATE/bin     the registry binary (optional, default docker-registry)
# and this script records STATE/mode ("ro" or "rw") and appends each action to
# STATE/actions.
#
#   registry-ctl.sh STATE stop              stop it (TERM, by PID), wait until gone
#   registry-ctl.sh STATE start [--readonly] start it on the same port and storage,
#                                           wait until /v2/ answers
#   registry-ctl.sh STATE restart [--readonly]
#
# Every wait is bounded (about 15 s); the exit status says whether it worked.
set -u

die() {
	printf 'registry-ctl: %s\n' "$*" >&2
	exit 1
}

[ $# -ge 2 ] || die "usage: registry-ctl.sh STATE stop|start|restart [--readonly]"
state=$1
action=$2
mode=rw
[ "${3:-}" = --readonly ] && mode=ro
[ -d "$state" ] || die "no state directory '$state'"

# A process that exists and is not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $s in Z*) return 1 ;; esac
	return 0
}

stop() {
	[ -s "$state/pid" ] || return 0
	pid=$(cat "$state/pid")
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 150 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		alive "$pid" && die "registry (pid $pid) did not stop"
	fi
	rm -f "$state/pid"
	echo stop >>"$state/actions"
}

start() {
	config=$(cat "$state/config")
	url=$(cat "$state/url")
	bin=docker-registry
	[ -s "$state/bin" ] && bin=$(cat "$state/bin")
	ro=
	[ "$mode" = ro ] && ro='REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}'
	# whatever answers must be the process started here, not a leftover
	code=$(curl -q -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "$url/v2/") || code=
	case $code in 000 | "") ;; *) die "something already answers at $url" ;; esac
	# no REGISTRY_* from outside (nor AWS_CA_BUNDLE, which makes the s3
	# driver panic at start); detached, so it outlives this command
	# shellcheck disable=SC2046
	env -u AWS_CA_BUNDLE $(env | sed -n 's/^\(REGISTRY_[A-Za-z0-9_]*\)=.*/-u \1/p') $ro \
		"$bin" serve "$config" >>"$state/log" 2>&1 </dev/null &
	echo $! >"$state/pid"
	i=0
	while [ $i -lt 150 ]; do
		alive "$(cat "$state/pid")" || die "registry exited at start (see $state/log)"
		code=$(curl -q -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "$url/v2/") || code=
		if [ "$code" = 200 ] || [ "$code" = 401 ]; then
			alive "$(cat "$state/pid")" || die "registry exited at start (see $state/log)"
			echo "$mode" >"$state/mode"
			echo "start $mode" >>"$state/actions"
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	die "registry did not answer at $url"
}

case $action in
stop) stop ;;
start) start ;;
restart) stop && start ;;
*) die "unknown action '$action'" ;;
esac
