#!/usr/bin/env bash
# Secrets never leave: regsweep runs every command it has at -v -v with a
# password (environment, --password-file, --password-stdin, config file,
# docker config.json), an identity token and an SSH key passphrase against
# a real htpasswd registry and sshd; against a token-server registry; and
# with a password and bearer tokens against the fault server (tests/fault),
# including a server that quotes the Authorization header back. Everything
# printed and every file written (plans, reports, backups, the cache) is
# then searched for the secrets, their base64 forms and anything shaped like
# a JWT: none may appear. Files that hold manifests or reports must be
# private (no access for group or others).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

require_regsweep
tap_noplan
harness_tmpdir
unset REGSWEEP_REGISTRY REGSWEEP_USERNAME REGSWEEP_PASSWORD REGSWEEP_TOKEN REGSWEEP_CONFIG
unset DOCKER_CONFIG

cp "$REGSWEEP" "$HARNESS_TMP/regsweep-bin"
REGSWEEP=$HARNESS_TMP/regsweep-bin
FAULT_SERVER=${FAULT_SERVER:-${top_builddir:-$here/../..}/fault-server}

# Where regsweep may write (all searched), and where the test keeps the
# files that legitimately hold secrets (never searched).
W=$HARNESS_TMP/work
S=$HARNESS_TMP/secret-inputs
mkdir -p "$W/out" "$W/logs" "$W/home" "$S"
chmod 700 "$S"
export HOME=$W/home XDG_CACHE_HOME=$W/cache
cd "$W"

USER_NAME=sweeper
PASSWORD=Pw-$(_harness_random_hex 16)
WRONG_PASSWORD=Wrong-$(_harness_random_hex 16)
TOKEN=Tok-$(_harness_random_hex 16)
printf '%s\n' "$PASSWORD" >"$S/password"
chmod 600 "$S/password"

# The secrets and the forms they travel in.
SECRETS=("$PASSWORD" "$WRONG_PASSWORD" "$TOKEN")
for pair in "$USER_NAME:$PASSWORD" "$USER_NAME:$WRONG_PASSWORD" "fault:$PASSWORD"; do
	SECRETS+=("$(printf '%s' "$pair" | base64 -w0)")
	SECRETS+=("$(printf '%s' "$pair" | base64 -w0 | tr -d '=')")
done

N=0
# sweep NAME [ENV=VALUE...] -- ARGS...: run regsweep (stdin from $STDIN,
# default /dev/null) under `timeout 120`, output into logs/NAME.*; passes
# when it did not crash or hang.
sweep() {
	local name=$1 envs=() status=0
	shift
	while [[ $# -gt 0 && $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	N=$((N + 1))
	env "${envs[@]}" timeout 120 "$REGSWEEP" "$@" <"${STDIN:-/dev/null}" \
		>"$W/logs/$N-$name.out" 2>"$W/logs/$N-$name.err" || status=$?
	ok "$((status >= 124))" "$name: ran (exit $status)"
	SWEEP_STATUS=$status
	SWEEP_ERR=$W/logs/$N-$name.err
}

# ---------------------------------------------------------------------------
diag "a real registry with htpasswd"
registry_start --htpasswd "$USER_NAME:$PASSWORD"
REGSWEEP_PASSWORD=$PASSWORD push_noise -q --repo app --distinct-tags t \
	--created 2024-01-01T00:00:00Z --created-step 3600 4 >"$HARNESS_TMP/noise.out" 2>&1 ||
	bail_out "push_noise failed"
R=$REG_URL
V=(-v -v)

sweep stats-env REGSWEEP_PASSWORD="$PASSWORD" -- stats -r "$R" -u "$USER_NAME" "${V[@]}"
is "$SWEEP_STATUS" 0 "stats with REGSWEEP_PASSWORD works"
sweep stats-json-file -- stats --json -r "$R" -u "$USER_NAME" --password-file "$S/password" "${V[@]}"
is "$SWEEP_STATUS" 0 "stats with --password-file works"
STDIN=$S/password sweep stats-stdin -- stats -r "$R" -u "$USER_NAME" --password-stdin "${V[@]}"
is "$SWEEP_STATUS" 0 "stats with --password-stdin works"
sweep stats-wrong REGSWEEP_PASSWORD="$WRONG_PASSWORD" -- stats -r "$R" -u "$USER_NAME" "${V[@]}"
is "$SWEEP_STATUS" 1 "a wrong password fails"

# the config file holds the password: private, then readable by others
cat >"$S/regsweep.yml" <<EOF
registry: $R
username: $USER_NAME
password: $PASSWORD
EOF
chmod 600 "$S/regsweep.yml"
sweep config-private -- config -c "$S/regsweep.yml" "${V[@]}"
is "$SWEEP_STATUS" 0 "config prints the settings"
unlike "$(cat "$SWEEP_ERR")" 'readable by' "a private config file draws no warning"
chmod 644 "$S/regsweep.yml"
sweep stats-config-public -- stats -c "$S/regsweep.yml" "${V[@]}"
like "$(cat "$SWEEP_ERR")" 'readable by' "a config file with a password readable by others draws a warning"
sweep config-json -- config --json -c "$S/regsweep.yml" "${V[@]}"
chmod 600 "$S/regsweep.yml"

# docker's config.json
mkdir -p "$S/docker"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG_HOSTPORT" \
	"$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)" >"$S/docker/config.json"
chmod 600 "$S/docker/config.json"
sweep stats-docker-config DOCKER_CONFIG="$S/docker" -- stats -r "$R" "${V[@]}"
is "$SWEEP_STATUS" 0 "stats with credentials from docker's config.json works"

# plan, apply, restore, with every file they write
export REGSWEEP_PASSWORD=$PASSWORD
sweep plan-out -- plan -r "$R" -u "$USER_NAME" --keep-last 2 --out "$W/out/plan.json" "${V[@]}"
is "$SWEEP_STATUS" 0 "plan --out works"
sweep plan-json -- plan --json -r "$R" -u "$USER_NAME" --keep-last 2 "${V[@]}"
sweep apply-dry -- apply --dry-run -r "$R" -u "$USER_NAME" "$W/out/plan.json" "${V[@]}"
sweep apply -- apply -r "$R" -u "$USER_NAME" --backup-dir "$W/out/backup" \
	--report "$W/out/apply-report.json" "$W/out/plan.json" "${V[@]}"
is "$SWEEP_STATUS" 0 "apply of the plan works"
sweep restore-dry -- restore --dry-run -r "$R" -u "$USER_NAME" "$W/out/backup" "${V[@]}"
sweep restore -- restore --json -r "$R" -u "$USER_NAME" "$W/out/backup" "${V[@]}"
is "$SWEEP_STATUS" 0 "restore from the backup works"
sweep run-dry -- run --dry-run -r "$R" -u "$USER_NAME" --keep-last 1 \
	--report "$W/out/run-report.json" --metrics "$W/out/metrics.prom" "${V[@]}"

# an identity token from docker's config (the registry wants Basic: refused)
IDTOKEN=Id-$(_harness_random_hex 16)
SECRETS+=("$IDTOKEN")
mkdir -p "$S/docker-id"
printf '{"auths":{"%s":{"identitytoken":"%s"}}}\n' "$REG_HOSTPORT" "$IDTOKEN" \
	>"$S/docker-id/config.json"
sweep stats-identity-token -u REGSWEEP_PASSWORD DOCKER_CONFIG="$S/docker-id" -- \
	stats -r "$R" "${V[@]}"

# an SSH key with a passphrase, for the storage view and GC over SSH
if sshd_start >"$HARNESS_TMP/sshd.out" 2>&1; then
	WRONG_PASSPHRASE=Wrong-$(_harness_random_hex 16)
	SECRETS+=("$SSH_KEY_PASSPHRASE" "$WRONG_PASSPHRASE")
	printf '%s\n' "$SSH_KEY_PASSPHRASE" >"$S/passphrase"
	chmod 600 "$S/passphrase"
	SSHO=(--ssh "$SSH_TARGET" --ssh-key "$SSH_KEY_PASS" --ssh-known-hosts "$SSH_KNOWN_HOSTS")
	sweep ssh-stats -- stats -r "$R" -u "$USER_NAME" "${SSHO[@]}" \
		--ssh-passphrase-file "$S/passphrase" --storage-root "$REG_ROOT" "${V[@]}"
	is "$SWEEP_STATUS" 0 "stats with the storage read over SSH (key passphrase from a file) works"
	sweep ssh-plan REGSWEEP_SSH_PASSPHRASE="$SSH_KEY_PASSPHRASE" -- plan -r "$R" -u "$USER_NAME" \
		"${SSHO[@]}" --storage-root "$REG_ROOT" --keep-last 1 --out "$W/out/ssh-plan.json" "${V[@]}"
	sweep ssh-wrong-passphrase REGSWEEP_SSH_PASSPHRASE="$WRONG_PASSPHRASE" -- stats -r "$R" \
		-u "$USER_NAME" "${SSHO[@]}" --storage-root "$REG_ROOT" "${V[@]}"
	isnt "$SWEEP_STATUS" 0 "a wrong key passphrase fails"
	sweep gc-dry REGSWEEP_SSH_PASSPHRASE="$SSH_KEY_PASSPHRASE" -- gc --dry-run -r "$R" \
		"${SSHO[@]}" --gc-command "echo 0 blobs marked, 0 blobs and 0 manifests eligible for deletion" \
		--json "${V[@]}"
	sshd_stop
else
	# a missing package is a failure, never a skip
	ok 1 "sshd starts (Debian: openssh-server): $(tail -n 1 "$HARNESS_TMP/sshd.out")"
fi
unset REGSWEEP_PASSWORD
registry_stop

diag "a real registry behind a token server (JWTs)"
registry_start --token-auth
SECRETS+=("$REG_PASS" "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)")
REGSWEEP_PASSWORD=$REG_PASS push_noise -q --repo team/app --distinct-tags t \
	--created 2024-01-01T00:00:00Z --created-step 3600 3 >"$HARNESS_TMP/noise2.out" 2>&1 ||
	bail_out "push_noise to the token registry failed"
export REGSWEEP_PASSWORD=$REG_PASS
sweep token-stats -- stats -r "$REG_URL" -u "$REG_USER" "${V[@]}"
is "$SWEEP_STATUS" 0 "stats through the token server works"
sweep token-plan -- plan -r "$REG_URL" -u "$REG_USER" --keep-last 1 \
	--out "$W/out/token-plan.json" "${V[@]}"
sweep token-apply -- apply -r "$REG_URL" -u "$REG_USER" --backup-dir "$W/out/token-backup" \
	--report "$W/out/token-report.json" "$W/out/token-plan.json" "${V[@]}"
is "$SWEEP_STATUS" 0 "apply through the token server works"
unset REGSWEEP_PASSWORD
registry_stop

# ---------------------------------------------------------------------------
if [[ -x $FAULT_SERVER ]]; then
	diag "the fault server: bearer tokens, and a server that quotes credentials back"
	export FAULT_SERVER_USER=fault FAULT_SERVER_PASSWORD=$PASSWORD FAULT_SERVER_TOKEN=$TOKEN
	for scenario in "ok --auth bearer" "ok --auth basic" "echo-auth --auth basic" \
		"echo-auth --auth bearer" "blob-redirect --auth basic" "delete-lie --auth bearer"; do
		read -r -a sargs <<<"$scenario"
		flog=$HARNESS_TMP/fault-$N.log
		mkfifo "$HARNESS_TMP/fault.$N"
		"$FAULT_SERVER" "${sargs[@]}" --log "$flog" --lifetime 300 \
			>"$HARNESS_TMP/fault.$N" 2>>"$flog" </dev/null &
		fpid=$!
		exec {ffd}<"$HARNESS_TMP/fault.$N"
		read -r -t 10 -u "$ffd" fport _ || bail_out "fault-server $scenario did not start"
		F=http://127.0.0.1:$fport
		tag=${scenario// /_}
		sweep "fault-$tag-stats" REGSWEEP_PASSWORD="$PASSWORD" -- \
			stats -r "$F" -u fault --retries 1 --no-cache "${V[@]}"
		sweep "fault-$tag-plan" REGSWEEP_PASSWORD="$PASSWORD" -- \
			plan -r "$F" -u fault --retries 1 --no-cache --keep-last 2 \
			--out "$W/out/fault-$N-plan.json" "${V[@]}"
		sweep "fault-$tag-apply" REGSWEEP_PASSWORD="$PASSWORD" -- \
			apply -r "$F" -u fault --retries 1 --no-cache --keep-last 2 \
			--backup-dir "$W/out/fault-$N-backup" \
			--report "$W/out/fault-$N-report.json" "${V[@]}"
		if [[ $scenario == ok\ --auth\ bearer ]]; then
			# a pre-issued token, sent as it is
			sweep "fault-$tag-token" REGSWEEP_TOKEN="$TOKEN" -- \
				stats -r "$F" --retries 1 --no-cache "${V[@]}"
			is "$SWEEP_STATUS" 0 "a pre-issued token works"
		fi
		kill -TERM "$fpid" 2>/dev/null || true
		read -r -t 20 -u "$ffd" _ || true
		exec {ffd}<&-
		wait "$fpid" 2>/dev/null || true
		if [[ $scenario == blob-redirect* ]]; then
			isnt "$(grep -c '^other GET /blobs/' "$flog" || true)" 0 \
				"blob-redirect: the blobs were read from the other server"
			is "$(grep -c -i '^other-header authorization:' "$flog" || true)" 0 \
				"blob-redirect: no Authorization reached the other server"
		fi
	done
else
	ok 1 "the fault server is built (Debian: libmicrohttpd-dev, then ./configure)"
fi

# ---------------------------------------------------------------------------
diag "searching everything printed and written"
files=$(find "$W" -type f | wc -l)
isnt "$files" 0 "there is output to search ($files files)"
leaks=0
for secret in "${SECRETS[@]}"; do
	if grep -r -l -F -e "$secret" "$W" >"$HARNESS_TMP/hits" 2>/dev/null; then
		leaks=1
		diag "a secret (${#secret} characters) is in: $(tr '\n' ' ' <"$HARNESS_TMP/hits")"
	fi
done
ok "$leaks" "no password, token or base64 credential in any output or file"
jwt=$(grep -r -l -E 'eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}' "$W" 2>/dev/null || true)
is "$jwt" "" "nothing shaped like a JWT in any output or file"

# Files regsweep wrote that hold manifests, plans or reports: private.
open_files=$(find "$W/out" "$W/cache" -type f -perm /077 2>/dev/null || true)
is "$open_files" "" "plans, reports, backups and cache entries are not readable by others"
open_dirs=$(find "$W/out" "$W/cache" -mindepth 1 -type d -perm /077 2>/dev/null || true)
is "$open_dirs" "" "the directories regsweep made are not readable by others"
