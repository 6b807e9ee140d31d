# shellcheck shell=bash
# Integration test harness, sourced by the scripts in tests/integration:
# TAP output for automake's tap-driver, and throwaway services on 127.0.0.1
# (a registry with optional htpasswd, TLS, mTLS or token auth; an sshd).
# Everything lives under $HARNESS_TMP and is stopped and removed at exit.
#
# The registry build is REGSWEEP_TEST_REGISTRY: 2.8 (Debian's
# docker-registry, the default) or 3.0 (upstream distribution v3.0.0, built
# once from its release archive by scripts/lib/registry3.sh and cached).
# HARNESS_REGISTRY holds it for the tests (registry_is 3.0); an explicit
# HARNESS_REGISTRY_BIN names the binary instead.
# Variables such as TAP_LAST and RUN_STATUS are set for the sourcing script:
# shellcheck disable=SC2034

if [[ -n ${_HARNESS_LIB_LOADED:-} ]]; then
	return 0
fi
_HARNESS_LIB_LOADED=1

# ---------------------------------------------------------------------------
# Where things are

if [[ -n ${top_srcdir:-} && -f $top_srcdir/tests/harness/lib.sh ]]; then
	HARNESS_SRCDIR=$(cd "$top_srcdir" && pwd)
else
	HARNESS_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
HARNESS_DIR=$HARNESS_SRCDIR/tests/harness
HARNESS_NOISE=$HARNESS_SRCDIR/scripts/generate-noise.sh
HARNESS_PYTHON=${HARNESS_PYTHON:-/usr/bin/python3}
HARNESS_REGISTRY=${REGSWEEP_TEST_REGISTRY:-2.8}
case $HARNESS_REGISTRY in
2.8) HARNESS_REGISTRY_BIN=${HARNESS_REGISTRY_BIN:-/usr/bin/docker-registry} ;;
3.0)
	# scripts/test.sh passes the binary it built in REGSWEEP_REGISTRY3_BIN
	HARNESS_REGISTRY_BIN=${HARNESS_REGISTRY_BIN:-${REGSWEEP_REGISTRY3_BIN:-}}
	if [[ -z $HARNESS_REGISTRY_BIN ]]; then
		# shellcheck source=scripts/lib/registry3.sh
		. "$HARNESS_SRCDIR/scripts/lib/registry3.sh"
		# built once (a few minutes), then taken from the cache; a failure
		# is reported when a registry is started
		HARNESS_REGISTRY_BIN=$(registry3_build "$HARNESS_SRCDIR") || HARNESS_REGISTRY_BIN=
	fi
	;;
*)
	printf 'Bail out! REGSWEEP_TEST_REGISTRY=%s: the suite knows 2.8 and 3.0\n' \
		"$HARNESS_REGISTRY"
	exit 1
	;;
esac
export HARNESS_REGISTRY HARNESS_REGISTRY_BIN
HARNESS_SSHD_BIN=${HARNESS_SSHD_BIN:-/usr/sbin/sshd}
if [[ -z ${REGSWEEP:-} ]]; then
	REGSWEEP=${top_builddir:-$HARNESS_SRCDIR}/regsweep
fi
export REGSWEEP

# Every service is on loopback: a proxy from the environment must not get in.
export no_proxy=127.0.0.1,localhost${no_proxy:+,$no_proxy}
export NO_PROXY=$no_proxy

# ---------------------------------------------------------------------------
# TAP

_TAP_COUNT=0
_TAP_FAILED=0
_TAP_PLAN=
_TAP_PLAN_PRINTED=0
TAP_LAST=0

# tap_plan N: announce N tests up front.
tap_plan() {
	_TAP_PLAN=$1
	_TAP_PLAN_PRINTED=1
	printf '1..%d\n' "$1"
}

# tap_noplan: count as we go; the plan is printed by tap_done or at exit.
tap_noplan() {
	_TAP_PLAN=
}

tap_done() {
	if [[ $_TAP_PLAN_PRINTED -eq 0 ]]; then
		_TAP_PLAN=$_TAP_COUNT
		_TAP_PLAN_PRINTED=1
		printf '1..%d\n' "$_TAP_COUNT"
	fi
}

# tap_skip_all REASON: skip the whole script (exit 0).
tap_skip_all() {
	_TAP_PLAN=0
	_TAP_PLAN_PRINTED=1
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

# diag MSG...: each line of MSG as a TAP comment.
diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

# The first caller outside this file, as FILE:LINE.
_tap_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [[ ${BASH_SOURCE[i]} != "${BASH_SOURCE[0]}" ]]; then
			printf '%s:%s' "${BASH_SOURCE[i]##*/}" "${BASH_LINENO[i - 1]}"
			return 0
		fi
	done
	printf '?'
}

# ok STATUS NAME: passes when STATUS is 0. Always returns 0 so that a failed
# test does not stop a `set -e` script; TAP_LAST is 0 or 1 afterwards.
ok() {
	local status=$1 name
	shift
	name=$*
	name=${name//\#/\\#}
	_TAP_COUNT=$((_TAP_COUNT + 1))
	if [[ $status == 0 ]]; then
		TAP_LAST=0
		printf 'ok %d - %s\n' "$_TAP_COUNT" "$name"
	else
		TAP_LAST=1
		_TAP_FAILED=$((_TAP_FAILED + 1))
		printf 'not ok %d - %s\n' "$_TAP_COUNT" "$name"
		diag "  at $(_tap_where)"
	fi
	return 0
}

# skip REASON [COUNT]: COUNT (default 1) skipped tests. scripts/test.sh
# counts a skip as a failure unless REASON starts with "platform limit:"
# (something no package can lift, e.g. a kernel feature missing).
skip() {
	local reason=$1 n=${2:-1} i
	for ((i = 0; i < n; i++)); do
		_TAP_COUNT=$((_TAP_COUNT + 1))
		printf 'ok %d # SKIP %s\n' "$_TAP_COUNT" "$reason"
	done
	TAP_LAST=0
}

# is ACTUAL EXPECTED NAME
is() {
	local got=$1 want=$2
	shift 2
	if [[ $got == "$want" ]]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		diag "       got: '$got'"
		diag "  expected: '$want'"
	fi
}

# isnt ACTUAL UNEXPECTED NAME
isnt() {
	local got=$1 unwanted=$2
	shift 2
	if [[ $got != "$unwanted" ]]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		diag "       got: '$got'"
		diag "  expected anything else"
	fi
}

# like TEXT REGEX NAME: TEXT matches the extended regular expression REGEX
# (bash =~, on the whole text: ^ and $ anchor at its ends, . matches newlines).
like() {
	local text=$1 regex=$2
	shift 2
	if [[ $text =~ $regex ]]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		diag "  text: $(head -n 40 <<<"$text")"
		diag "  does not match: $regex"
	fi
}

# unlike TEXT REGEX NAME
unlike() {
	local text=$1 regex=$2
	shift 2
	if [[ $text =~ $regex ]]; then
		ok 1 "$@"
		diag "  text: $(head -n 40 <<<"$text")"
		diag "  matches: $regex"
	else
		ok 0 "$@"
	fi
}

# check NAME CMD [ARGS...]: passes when CMD exits 0; its output is shown
# (as diagnostics) only on failure.
check() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1 </dev/null) || rc=$?
	ok "$rc" "$name"
	if [[ $rc -ne 0 ]]; then
		diag "  command: $*"
		diag "  exit status: $rc"
		[[ -z $out ]] || diag "$(tail -n 20 <<<"$out")"
	fi
}

# check_fails NAME CMD [ARGS...]: passes when CMD exits non-zero.
check_fails() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1 </dev/null) || rc=$?
	if [[ $rc -ne 0 ]]; then
		ok 0 "$name"
	else
		ok 1 "$name"
		diag "  command: $*"
		diag "  exited 0, expected a failure"
		[[ -z $out ]] || diag "$(tail -n 20 <<<"$out")"
	fi
}

# run CMD [ARGS...]: runs CMD with no stdin; sets RUN_STATUS, RUN_STDOUT and
# RUN_STDERR (trailing newlines removed). Always returns 0.
run() {
	local err
	err=$(mktemp "${HARNESS_TMP:-${TMPDIR:-/tmp}}/run-stderr.XXXXXX")
	RUN_STATUS=0
	RUN_STDOUT=$("$@" 2>"$err" </dev/null) || RUN_STATUS=$?
	RUN_STDERR=$(<"$err")
	rm -f "$err"
	return 0
}

# ---------------------------------------------------------------------------
# Temporary directory, processes, exit

_HARNESS_PIDS=()
_HARNESS_DEFERRED=()
_HARNESS_TMP_OWNED=0

# harness_tmpdir: create $HARNESS_TMP once (later calls keep it).
harness_tmpdir() {
	if [[ $_HARNESS_TMP_OWNED -eq 1 ]]; then
		return 0
	fi
	HARNESS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/regsweep-test.XXXXXX")
	_HARNESS_TMP_OWNED=1
	export HARNESS_TMP
}

# harness_defer CMD...: run CMD at exit, before the services are stopped.
harness_defer() {
	_HARNESS_DEFERRED+=("$(printf '%q ' "$@")")
}

# A process that exists and is not a zombie.
_harness_alive() {
	local stat
	[[ -r /proc/$1/stat ]] || return 1
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

_harness_track() {
	_HARNESS_PIDS+=("$1")
}

_harness_untrack() {
	local i
	for i in "${!_HARNESS_PIDS[@]}"; do
		if [[ ${_HARNESS_PIDS[i]} == "$1" ]]; then
			unset '_HARNESS_PIDS[i]'
		fi
	done
}

# _harness_kill PID: TERM, up to 10 s to exit, then KILL; reap it.
_harness_kill() {
	local pid=$1 i
	if _harness_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			_harness_alive "$pid" || break
			sleep 0.1
		done
		if _harness_alive "$pid"; then
			printf 'harness: pid %s ignored SIGTERM, killing it\n' "$pid" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				_harness_alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	wait "$pid" 2>/dev/null || true
	_harness_untrack "$pid"
}

_harness_stop_all() {
	local i pids=("${_HARNESS_PIDS[@]}")
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		_harness_kill "${pids[i]}"
	done
}

_harness_on_exit() {
	local rc=$? i
	set +e
	trap - INT TERM
	for ((i = ${#_HARNESS_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${_HARNESS_DEFERRED[i]}"
	done
	_harness_stop_all
	if [[ $_HARNESS_TMP_OWNED -eq 1 && -d $HARNESS_TMP ]]; then
		if [[ -n ${HARNESS_KEEP:-} ]]; then
			diag "kept $HARNESS_TMP"
		else
			rm -rf "$HARNESS_TMP"
		fi
	fi
	if [[ $_TAP_COUNT -gt 0 || $_TAP_PLAN_PRINTED -eq 1 ]]; then
		if [[ $rc -ne 0 ]]; then
			diag "test script stopped with exit status $rc after $_TAP_COUNT tests"
		fi
		tap_done
		if [[ $_TAP_PLAN != "$_TAP_COUNT" ]]; then
			diag "planned $_TAP_PLAN tests but ran $_TAP_COUNT"
			[[ $rc -ne 0 ]] || rc=1
		fi
		if [[ $_TAP_FAILED -gt 0 ]]; then
			diag "failed $_TAP_FAILED of $_TAP_COUNT tests"
			[[ $rc -ne 0 ]] || rc=1
		fi
	fi
	exit "$rc"
}

trap _harness_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# require_regsweep: bail out (a failure) when the binary is not built.
require_regsweep() {
	if [[ ! -x $REGSWEEP ]]; then
		bail_out "regsweep binary not built ($REGSWEEP)"
	fi
}

_harness_free_port() {
	"$HARNESS_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

_harness_random_hex() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

_harness_die() {
	printf 'harness: %s\n' "$*" >&2
	return 1
}

# ---------------------------------------------------------------------------
# Certificates: one small CA per test script, a server and a client cert.

# harness_pki: creates (once) and exports HARNESS_CA_CERT, HARNESS_SERVER_CERT,
# HARNESS_SERVER_KEY, HARNESS_CLIENT_CERT, HARNESS_CLIENT_KEY (EC P-256; the
# server cert has SAN IP:127.0.0.1 and DNS:localhost).
harness_pki() {
	harness_tmpdir
	local dir=$HARNESS_TMP/pki
	if [[ -f $dir/client.pem ]]; then
		return 0
	fi
	mkdir -p "$dir"
	local log=$dir/openssl.log
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 -subj /CN=regsweep-test-ca \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign &&
			_harness_issue_cert "$dir" server /CN=127.0.0.1 \
				'subjectAltName=IP:127.0.0.1,DNS:localhost' serverAuth &&
			_harness_issue_cert "$dir" client /CN=regsweep-test-client \
				'subjectAltName=DNS:regsweep-test-client' clientAuth
	} >>"$log" 2>&1 || {
		cat "$log" >&2
		_harness_die "cannot make test certificates"
		return 1
	}
	export HARNESS_CA_CERT=$dir/ca.pem
	export HARNESS_SERVER_CERT=$dir/server.pem HARNESS_SERVER_KEY=$dir/server.key
	export HARNESS_CLIENT_CERT=$dir/client.pem HARNESS_CLIENT_KEY=$dir/client.key
}

_harness_issue_cert() {
	local dir=$1 name=$2 subject=$3 san=$4 usage=$5
	printf '%s\n' "$san" 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature' \
		"extendedKeyUsage=$usage" >"$dir/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "$subject" &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 30 -extfile "$dir/$name.ext" -out "$dir/$name.pem"
}

# ---------------------------------------------------------------------------
# Token server

# _token_server_start DIR USER:PASS "ACTIONS WITHHELD" TTL
_token_server_start() {
	local dir=$1 creds=$2 withhold=$3 ttl=$4 i port= action
	mkdir -p "$dir"
	local args=(--key "$dir/signer.key" --cert "$dir/signer.pem" --port 0
		--port-file "$dir/port" --log "$dir/token.log" --count-file "$dir/requests"
		--users "$creds" --service regsweep-test --issuer regsweep-test-issuer)
	for action in $withhold; do
		args+=(--withhold "$action")
	done
	# The registry accepts a token up to 60 s past exp; compensate so that a
	# short --ttl really ends the token's life at ttl.
	[[ -z $ttl ]] || args+=(--ttl "$ttl" --exp-offset -60)
	"$HARNESS_PYTHON" "$HARNESS_DIR/token-server.py" "${args[@]}" \
		>>"$dir/token.log" 2>&1 </dev/null &
	REG_TOKEN_PID=$!
	_harness_track "$REG_TOKEN_PID"
	for ((i = 0; i < 100; i++)); do
		if [[ -s $dir/port ]]; then
			port=$(<"$dir/port")
			break
		fi
		_harness_alive "$REG_TOKEN_PID" || break
		sleep 0.1
	done
	if [[ -z $port ]]; then
		tail -n 30 "$dir/token.log" >&2
		_harness_die "token server did not start"
		return 1
	fi
	export REG_TOKEN_PID
	export REG_TOKEN_URL=http://127.0.0.1:$port/token
	export REG_TOKEN_LOG=$dir/token.log
	export REG_TOKEN_COUNT_FILE=$dir/requests
	export REG_TOKEN_CERT=$dir/signer.pem
	export REG_TOKEN_SERVICE=regsweep-test
}

# token_requests: how many token requests the current token server has had.
token_requests() {
	local n
	n=$(<"$REG_TOKEN_COUNT_FILE")
	printf '%s\n' "$n"
}

# ---------------------------------------------------------------------------
# Webhook receiver (notifications)

# webhook_start DIR [--status N]: a loopback receiver that saves each POST as
# DIR/N.json (and DIR/N.headers); exports WEBHOOK_PORT, WEBHOOK_PID and
# WEBHOOK_DIR. Stopped at exit, or earlier with webhook_stop.
webhook_start() {
	harness_tmpdir
	local dir=$1 i port=
	shift
	mkdir -p "$dir"
	rm -f "$dir/port"
	"$HARNESS_PYTHON" "$HARNESS_DIR/webhook-receiver.py" --dir "$dir" --port-file "$dir/port" \
		"$@" >>"$dir/receiver.log" 2>&1 </dev/null &
	WEBHOOK_PID=$!
	_harness_track "$WEBHOOK_PID"
	for ((i = 0; i < 100; i++)); do
		if [[ -s $dir/port ]]; then
			port=$(<"$dir/port")
			break
		fi
		_harness_alive "$WEBHOOK_PID" || break
		sleep 0.1
	done
	if [[ -z $port ]]; then
		cat "$dir/receiver.log" >&2
		_harness_die "webhook receiver did not start"
		return 1
	fi
	WEBHOOK_PORT=$port
	WEBHOOK_DIR=$dir
	export WEBHOOK_PORT WEBHOOK_PID WEBHOOK_DIR
}

# webhook_stop: stop the receiver started last (its port is then closed).
webhook_stop() {
	_harness_kill "$WEBHOOK_PID"
}

# webhook_count: how many POSTs the receiver has saved.
webhook_count() {
	local n=0 f
	for f in "$WEBHOOK_DIR"/*.json; do
		[[ -e $f ]] && n=$((n + 1))
	done
	printf '%s\n' "$n"
}

# ---------------------------------------------------------------------------
# Registry

_HARNESS_REGISTRIES=0
_HARNESS_REGISTRY_CHECKED=0

# registry_is VERSION: is the suite running against that registry build
# (2.8, 3.0; a major version such as 3 matches 3.0)?
registry_is() {
	[[ $HARNESS_REGISTRY == "$1" || $HARNESS_REGISTRY == "$1".* ]]
}

# The binary must be there and be the build asked for: a pass against the
# wrong registry would prove nothing.
_registry_check_bin() {
	local version
	[[ $_HARNESS_REGISTRY_CHECKED -eq 0 ]] || return 0
	if [[ -z $HARNESS_REGISTRY_BIN || ! -x $HARNESS_REGISTRY_BIN ]]; then
		if [[ $HARNESS_REGISTRY == 2.8 ]]; then
			_harness_die "no registry binary '$HARNESS_REGISTRY_BIN' (install Debian's docker-registry)"
		else
			_harness_die "no distribution $HARNESS_REGISTRY binary: scripts/lib/registry3.sh builds it from ../shared/third_party/distribution-v3.0.0.tar.gz (or REGSWEEP_DISTRIBUTION_ARCHIVE) with golang-1.23-go from bookworm-backports"
		fi
		return 1
	fi
	version=$("$HARNESS_REGISTRY_BIN" --version 2>&1 | head -n 1)
	# "... github.com/docker/distribution 2.8.2+ds1", "... v3.0.0"
	case $version in
	*" $HARNESS_REGISTRY".* | *" v$HARNESS_REGISTRY".*) ;;
	*)
		_harness_die "'$HARNESS_REGISTRY_BIN' is '$version', not distribution $HARNESS_REGISTRY"
		return 1
		;;
	esac
	diag "registry: $version"
	_HARNESS_REGISTRY_CHECKED=1
}

# registry_start [--htpasswd USER:PASS] [--tls] [--mtls] [--token-auth
#   [--token-withhold ACTION]... [--token-withhold-delete] [--token-ttl SECS]]
#   [--readonly] [--no-delete] [--root DIR] [--s3 BUCKET [--s3-root DIR]]
# --s3: the storage is BUCKET on the store s3_start started (lib-s3.sh),
# under DIR (default /regsweep); REG_ROOT is then empty, and REG_S3_BUCKET
# and REG_S3_ROOT say where it is.
registry_start() {
	harness_tmpdir
	_registry_check_bin || return 1
	local htpasswd_creds='' tls=0 mtls=0 token_auth=0 withhold='' token_ttl=''
	local readonly_mode=0 delete=true root='' s3_bucket='' s3_root=/regsweep
	while [[ $# -gt 0 ]]; do
		case $1 in
		--htpasswd)
			htpasswd_creds=$2
			shift
			;;
		--tls) tls=1 ;;
		--mtls) tls=1 mtls=1 ;;
		--token-auth) token_auth=1 ;;
		--token-withhold)
			withhold+=" $2"
			shift
			;;
		--token-withhold-delete) withhold+=" delete" ;;
		--token-ttl)
			token_ttl=$2
			shift
			;;
		--readonly) readonly_mode=1 ;;
		--no-delete) delete=false ;;
		--root)
			root=$2
			shift
			;;
		--s3)
			s3_bucket=$2
			shift
			;;
		--s3-root)
			s3_root=$2
			shift
			;;
		*)
			_harness_die "registry_start: unknown option '$1'"
			return 1
			;;
		esac
		shift
	done
	if [[ (-n $withhold || -n $token_ttl) && $token_auth -eq 0 ]]; then
		_harness_die "registry_start: --token-withhold and --token-ttl need --token-auth"
		return 1
	fi

	_HARNESS_REGISTRIES=$((_HARNESS_REGISTRIES + 1))
	local dir=$HARNESS_TMP/registry$_HARNESS_REGISTRIES
	mkdir -p "$dir"
	REG_ROOT=${root:-$dir/data}
	REG_S3_BUCKET=$s3_bucket REG_S3_ROOT=''
	if [[ -n $s3_bucket ]]; then
		[[ -n ${S3_ENDPOINT:-} ]] || {
			_harness_die "registry_start --s3: start the store first (s3_start)"
			return 1
		}
		REG_ROOT='' REG_S3_ROOT=$s3_root
		_REG_STORAGE_YAML=$(_registry_s3_yaml "$s3_bucket" "$s3_root")
	else
		mkdir -p "$REG_ROOT"
		_REG_STORAGE_YAML="storage:
  filesystem:
    rootdirectory: '$REG_ROOT'"
	fi
	export REG_S3_BUCKET REG_S3_ROOT
	REG_DIR=$dir
	REG_CONFIG=$dir/config.yml
	REG_LOG=$dir/registry.log
	REG_READONLY=$readonly_mode
	REG_DELETE=$delete
	REG_USER='' REG_PASS='' REG_CACERT='' REG_CLIENT_CERT='' REG_CLIENT_KEY=''
	REG_TOKEN_URL='' REG_TOKEN_PID='' REG_TOKEN_LOG='' REG_TOKEN_COUNT_FILE='' REG_TOKEN_CERT=''
	REG_TOKEN_SERVICE=''
	REG_TLS=$tls
	REG_MTLS=$mtls

	local auth_yaml=
	if [[ -n $htpasswd_creds ]]; then
		REG_USER=${htpasswd_creds%%:*}
		REG_PASS=${htpasswd_creds#*:}
	elif [[ $token_auth -eq 1 ]]; then
		REG_USER=tester
		REG_PASS=$(_harness_random_hex 8)
	fi
	if [[ $token_auth -eq 1 ]]; then
		_token_server_start "$dir/token" "$REG_USER:$REG_PASS" "$withhold" "$token_ttl" ||
			return 1
		auth_yaml="auth:
  token:
    realm: '$REG_TOKEN_URL'
    service: $REG_TOKEN_SERVICE
    issuer: regsweep-test-issuer
    rootcertbundle: '$REG_TOKEN_CERT'"
	elif [[ -n $htpasswd_creds ]]; then
		htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$dir/htpasswd" 2>/dev/null ||
			{
				_harness_die "htpasswd failed"
				return 1
			}
		auth_yaml="auth:
  htpasswd:
    realm: regsweep-test
    path: '$dir/htpasswd'"
	fi

	local tls_yaml=
	if [[ $tls -eq 1 ]]; then
		harness_pki || return 1
		REG_CACERT=$HARNESS_CA_CERT
		tls_yaml="  tls:
    certificate: '$HARNESS_SERVER_CERT'
    key: '$HARNESS_SERVER_KEY'"
		if [[ $mtls -eq 1 ]]; then
			REG_CLIENT_CERT=$HARNESS_CLIENT_CERT
			REG_CLIENT_KEY=$HARNESS_CLIENT_KEY
			tls_yaml+="
    clientcas:
      - '$HARNESS_CA_CERT'"
		fi
	fi
	_REG_AUTH_YAML=$auth_yaml
	_REG_TLS_YAML=$tls_yaml

	local attempt
	for attempt in 1 2 3; do
		_registry_set_port "$(_harness_free_port)"
		if _registry_launch; then
			return 0
		fi
		# Someone took the port between probing and binding: try another.
		grep -q 'address already in use' "$REG_LOG" 2>/dev/null || break
		printf 'harness: registry port %s was taken, retrying (%d)\n' "$REG_PORT" "$attempt" >&2
	done
	tail -n 30 "$REG_LOG" >&2
	_harness_die "registry did not come up (config $REG_CONFIG)"
	return 1
}

_registry_set_port() {
	REG_PORT=$1
	REG_HOSTPORT=127.0.0.1:$REG_PORT
	if [[ $REG_TLS -eq 1 ]]; then
		REG_URL=https://$REG_HOSTPORT
	else
		REG_URL=http://$REG_HOSTPORT
	fi
	cat >"$REG_CONFIG" <<EOF
version: 0.1
log:
  level: info
  accesslog: {disabled: true}
$_REG_STORAGE_YAML
  delete:
    enabled: $REG_DELETE
  maintenance:
    uploadpurging: {enabled: false}
    readonly: {enabled: false}
http:
  addr: $REG_HOSTPORT
  secret: regsweep-test-secret
$_REG_TLS_YAML
$_REG_AUTH_YAML
EOF
	export REG_PORT REG_HOSTPORT REG_URL REG_ROOT REG_DIR REG_CONFIG REG_LOG REG_READONLY
	export REG_DELETE REG_USER REG_PASS REG_CACERT REG_CLIENT_CERT REG_CLIENT_KEY REG_TLS REG_MTLS
	export REG_TOKEN_URL REG_TOKEN_PID REG_TOKEN_LOG REG_TOKEN_COUNT_FILE REG_TOKEN_CERT REG_TOKEN_SERVICE
}

# The environment the registry runs with: no REGISTRY_* from outside, and
# read-only through the override that works in 2.8 (see REGISTRY-FACTS).
_registry_env() {
	local name
	# AWS_CA_BUNDLE makes the s3 driver's SDK panic at start; the keys are
	# the config's, never the test's
	_REG_ENV=(env -u AWS_CA_BUNDLE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY
		-u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_SHARED_CREDENTIALS_FILE)
	for name in $(compgen -e); do
		[[ $name != REGISTRY_* ]] || _REG_ENV+=(-u "$name")
	done
	if [[ $REG_READONLY -eq 1 ]]; then
		_REG_ENV+=("REGISTRY_STORAGE_MAINTENANCE_READONLY={\"enabled\":true}")
	fi
}

# reg_curl ARGS...: curl against the current registry with its CA, client
# cert and credentials (add -u/-H yourself to override).
reg_curl() {
	local args=(-q -sS --noproxy '*' --connect-timeout 5 --max-time 60)
	[[ -z ${REG_CACERT:-} ]] || args+=(--cacert "$REG_CACERT")
	[[ -z ${REG_CLIENT_CERT:-} ]] || args+=(--cert "$REG_CLIENT_CERT" --key "$REG_CLIENT_KEY")
	curl "${args[@]}" "$@"
}

_registry_launch() {
	local i code
	_registry_env
	printf '=== harness: starting registry %s (readonly=%s) at %s\n' "$HARNESS_REGISTRY" \
		"$REG_READONLY" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$REG_LOG"
	"${_REG_ENV[@]}" "$HARNESS_REGISTRY_BIN" serve "$REG_CONFIG" >>"$REG_LOG" 2>&1 </dev/null &
	REG_PID=$!
	export REG_PID
	_harness_track "$REG_PID"
	for ((i = 0; i < 150; i++)); do
		if ! _harness_alive "$REG_PID"; then
			wait "$REG_PID" 2>/dev/null || true
			_harness_untrack "$REG_PID"
			return 1
		fi
		code=$(reg_curl -o /dev/null -w '%{http_code}' --max-time 2 "$REG_URL/v2/" 2>/dev/null) || true
		if [[ $code == 200 || $code == 401 ]]; then
			return 0
		fi
		sleep 0.1
	done
	_harness_kill "$REG_PID"
	return 1
}

# registry_stop: stop the current registry (its token server keeps running).
registry_stop() {
	if [[ -n ${REG_PID:-} ]]; then
		_harness_kill "$REG_PID"
	fi
}

# registry_restart [--readonly]: same port, storage and config; read-only
# only when asked.
registry_restart() {
	local readonly_mode=0
	if [[ ${1:-} == --readonly ]]; then
		readonly_mode=1
	elif [[ -n ${1:-} ]]; then
		_harness_die "registry_restart: unknown option '$1'"
		return 1
	fi
	registry_stop
	REG_READONLY=$readonly_mode
	export REG_READONLY
	if ! _registry_launch; then
		tail -n 30 "$REG_LOG" >&2
		_harness_die "registry did not come back up on $REG_HOSTPORT"
		return 1
	fi
}

# registry_gc [ARGS...]: garbage-collect on the current config with the
# registry binary under test (stop the registry or make it read-only first).
registry_gc() {
	_registry_env
	"${_REG_ENV[@]}" "$HARNESS_REGISTRY_BIN" garbage-collect "$REG_CONFIG" "$@"
}

# push_noise ARGS...: scripts/generate-noise.sh against the current registry.
push_noise() {
	local args=(-r "$REG_URL")
	[[ -z ${REG_CACERT:-} ]] || args+=(--cacert "$REG_CACERT")
	[[ -z ${REG_CLIENT_CERT:-} ]] || args+=(--cert "$REG_CLIENT_CERT" --key "$REG_CLIENT_KEY")
	if [[ -n ${REG_USER:-} ]]; then
		REGSWEEP_PASSWORD=$REG_PASS bash "$HARNESS_NOISE" "${args[@]}" -u "$REG_USER" "$@"
	else
		bash "$HARNESS_NOISE" "${args[@]}" "$@"
	fi
}

# ---------------------------------------------------------------------------
# sshd

_HARNESS_SSHDS=0

# sshd_start [--host-keys TYPES] [--path DIRS]: TYPES is a comma list of
# ed25519, ecdsa and rsa host keys to serve, in that order (default
# ed25519); DIRS go before the system's in the sessions' PATH (to shadow a
# command, as a host with other tools would have).
sshd_start() {
	harness_tmpdir
	local host_types=ed25519 path_first=
	while [[ $# -gt 0 ]]; do
		case $1 in
		--host-keys)
			host_types=$2
			shift
			;;
		--path)
			path_first=$2:
			shift
			;;
		*)
			_harness_die "sshd_start: unknown option '$1'"
			return 1
			;;
		esac
		shift
	done
	_HARNESS_SSHDS=$((_HARNESS_SSHDS + 1))
	local dir=$HARNESS_TMP/sshd$_HARNESS_SSHDS type host_keys="" i
	mkdir -p "$dir"
	mkdir -p /run/sshd 2>/dev/null || true

	local types
	IFS=, read -r -a types <<<"$host_types"
	for type in "${types[@]}"; do
		case $type in
		ed25519 | ecdsa | rsa) ;;
		*)
			_harness_die "sshd_start: unknown host key type '$type'"
			return 1
			;;
		esac
		ssh-keygen -q -t "$type" -N '' -C "regsweep-test-host-$type" -f "$dir/host_$type" ||
			return 1
		host_keys+="HostKey $dir/host_$type"$'\n'
	done
	ssh-keygen -q -t ed25519 -N '' -C regsweep-test-other-host -f "$dir/other_host_ed25519" ||
		return 1

	SSH_KEY_PASSPHRASE=$(_harness_random_hex 8)
	ssh-keygen -q -t ed25519 -N '' -C regsweep-test-client -f "$dir/id_ed25519" &&
		ssh-keygen -q -t ed25519 -N "$SSH_KEY_PASSPHRASE" -C regsweep-test-client-pass \
			-f "$dir/id_ed25519_pass" &&
		ssh-keygen -q -t ecdsa -b 256 -N '' -C regsweep-test-client-ecdsa -f "$dir/id_ecdsa" &&
		ssh-keygen -q -t rsa -b 2048 -N '' -C regsweep-test-client-rsa -f "$dir/id_rsa" ||
		return 1
	cat "$dir/id_ed25519.pub" "$dir/id_ed25519_pass.pub" "$dir/id_ecdsa.pub" "$dir/id_rsa.pub" \
		>"$dir/authorized_keys"
	chmod 600 "$dir/authorized_keys"

	SSH_PORT=$(_harness_free_port)
	mkdir -p "$dir/tmp" && chmod 1777 "$dir/tmp"
	cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
${host_keys}PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
# each test's sshd gives its sessions a TMPDIR of their own, so what remote
# scripts leave in it is this test's alone
SetEnv TMPDIR=$dir/tmp${path_first:+ PATH=${path_first}/usr/local/bin:/usr/bin:/bin}
Subsystem sftp internal-sftp
PrintMotd no
X11Forwarding no
LogLevel VERBOSE
EOF
	SSH_LOG=$dir/sshd.log
	"$HARNESS_SSHD_BIN" -D -e -f "$dir/sshd_config" >>"$SSH_LOG" 2>&1 </dev/null &
	SSH_PID=$!
	_harness_track "$SSH_PID"

	local banner=
	for ((i = 0; i < 100; i++)); do
		_harness_alive "$SSH_PID" || break
		# shellcheck disable=SC2016 # $1 belongs to the inner shell
		banner=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && head -c 4 <&3' _ "$SSH_PORT" \
			2>/dev/null) || true
		[[ $banner != SSH- ]] || break
		sleep 0.1
	done
	if [[ $banner != SSH- ]]; then
		tail -n 30 "$SSH_LOG" >&2
		_harness_die "sshd did not come up on 127.0.0.1:$SSH_PORT"
		return 1
	fi

	local pub first=${types[0]}
	: >"$dir/known_hosts_all"
	for type in "${types[@]}"; do
		read -r -a pub <"$dir/host_$type.pub"
		printf '[127.0.0.1]:%s %s %s\n' "$SSH_PORT" "${pub[0]}" "${pub[1]}" >>"$dir/known_hosts_all"
	done
	read -r -a pub <"$dir/host_$first.pub"
	printf '[127.0.0.1]:%s %s %s\n' "$SSH_PORT" "${pub[0]}" "${pub[1]}" >"$dir/known_hosts"
	read -r -a pub <"$dir/other_host_ed25519.pub"
	printf '[127.0.0.1]:%s %s %s\n' "$SSH_PORT" "${pub[0]}" "${pub[1]}" >"$dir/known_hosts_wrong"

	SSH_USER=$(id -un)
	export SSH_PORT SSH_USER SSH_PID SSH_LOG SSH_KEY_PASSPHRASE
	export SSH_DIR=$dir
	export SSH_TARGET=$SSH_USER@127.0.0.1:$SSH_PORT
	export SSH_KEY=$dir/id_ed25519
	export SSH_KEY_PASS=$dir/id_ed25519_pass
	export SSH_KEY_ECDSA=$dir/id_ecdsa
	export SSH_KEY_RSA=$dir/id_rsa
	export SSH_HOST_PUB=$dir/host_$first.pub
	export SSH_KNOWN_HOSTS=$dir/known_hosts
	export SSH_KNOWN_HOSTS_ALL=$dir/known_hosts_all
	export SSH_KNOWN_HOSTS_WRONG=$dir/known_hosts_wrong
	export SSH_CONFIG=$dir/sshd_config
}

sshd_stop() {
	if [[ -n ${SSH_PID:-} ]]; then
		_harness_kill "$SSH_PID"
	fi
}

# ssh_run CMD...: run CMD on the test sshd with SSH_KEY and SSH_KNOWN_HOSTS,
# ignoring the user's ssh configuration.
ssh_run() {
	ssh -F /dev/null -i "$SSH_KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o ConnectTimeout=10 -p "$SSH_PORT" \
		"$SSH_USER@127.0.0.1" "$@" </dev/null
}

# ---------------------------------------------------------------------------
# Object storage: an S3-compatible store (lib-s3.sh)

# shellcheck source=tests/harness/lib-s3.sh
. "$HARNESS_DIR/lib-s3.sh"
