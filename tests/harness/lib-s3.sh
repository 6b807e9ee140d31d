# shellcheck shell=bash
# Harness for registries on object storage, sourced by lib.sh: an
# S3-compatible store from Debian's packages (OpenStack Swift all-in-one:
# proxy with the s3api and tempauth middleware, account, container and
# object servers, memcached), on free 127.0.0.1 ports with its data under
# $HARNESS_TMP, stopped by PID at exit like every other service. A registry
# on it is `registry_start --s3 BUCKET` (lib.sh).
# shellcheck disable=SC2034

HARNESS_S3TOOL=$HARNESS_DIR/s3tool.py
_HARNESS_S3S=0

# The Debian packages the store needs, and a program each provides.
_S3_PACKAGES="swift swift-proxy swift-account swift-container swift-object python3-swift memcached"

_s3_require() {
	local prog missing=()
	for prog in /usr/bin/swift-proxy-server:swift-proxy /usr/bin/swift-account-server:swift-account \
		/usr/bin/swift-container-server:swift-container /usr/bin/swift-object-server:swift-object \
		/usr/bin/memcached:memcached /etc/swift/swift.conf:swift; do
		[[ -e ${prog%%:*} ]] || missing+=("${prog#*:}")
	done
	if ! "$HARNESS_PYTHON" -c 'import swift.common.ring' 2>/dev/null; then
		missing+=(python3-swift)
	fi
	if [[ ${#missing[@]} -gt 0 ]]; then
		_harness_die "the S3 store needs the Debian packages ${missing[*]} (all of: $_S3_PACKAGES)"
		return 1
	fi
}

# _s3_conf PORT: the [DEFAULT] section every Swift server shares.
_s3_conf() {
	cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $(id -un)
swift_dir = $S3_DIR/etc
devices = $S3_DIR/srv
mount_check = false
log_level = INFO
log_address = /nonexistent
EOF
}

_s3_write_configs() {
	local t port
	for t in account container object; do
		case $t in
		account) port=$_S3_ACC_PORT ;;
		container) port=$_S3_CONT_PORT ;;
		object) port=$_S3_OBJ_PORT ;;
		esac
		{
			_s3_conf "$port"
			printf '\n[pipeline:main]\npipeline = healthcheck %s-server\n\n' "$t"
			printf '[app:%s-server]\nuse = egg:swift#%s\n\n' "$t" "$t"
			printf '[filter:healthcheck]\nuse = egg:swift#healthcheck\n'
		} >"$S3_DIR/etc/$t-server.conf"
	done
	{
		_s3_conf "$S3_PORT"
		cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = $S3_REGION

[filter:tempauth]
use = egg:swift#tempauth
user_${_S3_ACCOUNT}_${_S3_USER} = $S3_SECRET_KEY .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$_S3_MC_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
	} >"$S3_DIR/etc/proxy-server.conf"
	# one-replica rings of one device, built in one interpreter
	"$HARNESS_PYTHON" - "$S3_DIR/etc" "account:$_S3_ACC_PORT" "container:$_S3_CONT_PORT" \
		"object:$_S3_OBJ_PORT" <<'PY'
import os, sys
from swift.common.ring import RingBuilder
for spec in sys.argv[2:]:
    name, port = spec.split(":")
    b = RingBuilder(8, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
               "replication_ip": "127.0.0.1", "replication_port": int(port),
               "device": "d1", "weight": 100, "meta": ""})
    b.rebalance()
    b.get_ring().save(os.path.join(sys.argv[1], name + ".ring.gz"))
PY
}

# _s3_spawn NAME CMD...: start a server in the background, tracked.
_s3_spawn() {
	local name=$1
	shift
	"$@" >>"$S3_DIR/log/$name.log" 2>&1 </dev/null &
	_S3_PIDS+=("$!")
	_harness_track "$!"
}

# _s3_wait URL: until URL answers 200, or one of the store's processes
# died (its port was taken), for at most 60 s.
_s3_wait() {
	local url=$1 i pid code
	for ((i = 0; i < 600; i++)); do
		code=$(curl -q -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) ||
			true
		[[ $code != 200 ]] || return 0
		for pid in "${_S3_PIDS[@]}"; do
			_harness_alive "$pid" || return 1
		done
		sleep 0.1
	done
	return 1
}

_s3_stop_pids() {
	local pid
	for pid in "${_S3_PIDS[@]}"; do
		_harness_kill "$pid"
	done
	_S3_PIDS=()
}

# s3_start: start the store and export S3_ENDPOINT, S3_REGION,
# S3_ACCESS_KEY ("account:user", as tempauth wants it), S3_SECRET_KEY (fresh
# and random: tests look for it in everything regsweep prints) and S3_DIR.
# Buckets are made with s3_bucket. Ports are probed free, and the start is
# tried again on others when one was taken meanwhile.
s3_start() {
	harness_tmpdir
	_s3_require || return 1
	_HARNESS_S3S=$((_HARNESS_S3S + 1))
	S3_DIR=$HARNESS_TMP/s3-$_HARNESS_S3S
	S3_REGION=us-east-1
	_S3_ACCOUNT=regsweep _S3_USER=tester
	S3_ACCESS_KEY=$_S3_ACCOUNT:$_S3_USER
	S3_SECRET_KEY=S3sk-$(_harness_random_hex 16)
	local attempt
	for attempt in 1 2 3; do
		rm -rf "$S3_DIR"
		mkdir -p "$S3_DIR/etc" "$S3_DIR/srv/d1" "$S3_DIR/log"
		S3_PORT=$(_harness_free_port) _S3_ACC_PORT=$(_harness_free_port)
		_S3_CONT_PORT=$(_harness_free_port) _S3_OBJ_PORT=$(_harness_free_port)
		_S3_MC_PORT=$(_harness_free_port)
		S3_ENDPOINT=http://127.0.0.1:$S3_PORT
		export S3_DIR S3_REGION S3_ACCESS_KEY S3_SECRET_KEY S3_PORT S3_ENDPOINT
		_s3_write_configs >>"$S3_DIR/log/setup.log" 2>&1 || {
			tail -n 20 "$S3_DIR/log/setup.log" >&2
			_harness_die "cannot write the S3 store's configuration"
			return 1
		}
		_S3_PIDS=()
		_s3_spawn memcached /usr/bin/memcached -l 127.0.0.1 -p "$_S3_MC_PORT" -U 0 -m 64 \
			-u "$(id -un)"
		_s3_spawn account /usr/bin/swift-account-server "$S3_DIR/etc/account-server.conf" -v
		_s3_spawn container /usr/bin/swift-container-server "$S3_DIR/etc/container-server.conf" -v
		_s3_spawn object /usr/bin/swift-object-server "$S3_DIR/etc/object-server.conf" -v
		_s3_spawn proxy /usr/bin/swift-proxy-server "$S3_DIR/etc/proxy-server.conf" -v
		if _s3_wait "http://127.0.0.1:$_S3_ACC_PORT/healthcheck" &&
			_s3_wait "http://127.0.0.1:$_S3_CONT_PORT/healthcheck" &&
			_s3_wait "http://127.0.0.1:$_S3_OBJ_PORT/healthcheck" &&
			_s3_wait "$S3_ENDPOINT/healthcheck"; then
			return 0
		fi
		_s3_stop_pids
		if ! grep -qiE 'could not bind|address already in use' "$S3_DIR"/log/*.log 2>/dev/null; then
			break
		fi
		printf 'harness: a port of the S3 store was taken, retrying (%d)\n' "$attempt" >&2
	done
	tail -n 20 "$S3_DIR"/log/*.log >&2
	_harness_die "the S3 store did not come up (logs in $S3_DIR/log)"
	return 1
}

# s3tool ARGS...: tests/harness/s3tool.py against the current store.
s3tool() {
	"$HARNESS_PYTHON" "$HARNESS_S3TOOL" "$@"
}

# s3_bucket NAME: create a bucket on the current store.
s3_bucket() {
	s3tool mb "$1"
}

# _registry_s3_yaml BUCKET ROOT: the storage section of a registry on the
# current store, with the store's own keys.
_registry_s3_yaml() {
	cat <<EOF
storage:
  s3:
    accesskey: "$S3_ACCESS_KEY"
    secretkey: "$S3_SECRET_KEY"
    region: $S3_REGION
    regionendpoint: $S3_ENDPOINT
    bucket: $1
    secure: false
    v4auth: true
    forcepathstyle: true
    rootdirectory: $2
  redirect:
    disable: true
EOF
}
