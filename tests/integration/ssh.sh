#!/usr/bin/env bash
# ssh.sh: regsweep's SSH client against a throwaway sshd on 127.0.0.1: host
# key checks (unknown, accepted, changed, hashed, other types), key types
# and passphrases, ssh-agent, what libssh2 1.10 cannot do with RSA, and the
# connect time limit. Each connection runs `regsweep gc --dry-run` with a
# harmless GC command.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
# libssh2 1.10 leaks in ECDSA signing: keep --enable-asan runs about our code
# (the suppression needs full stacks through libcrypto)
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

sshd_start || bail_out "cannot start sshd"
T=$HARNESS_TMP
unset SSH_AUTH_SOCK
HOST_FP=$(ssh-keygen -lf "$SSH_HOST_PUB" | awk '{ print $2 }')

# probe KNOWN_HOSTS [ARGS...]: a dry-run GC whose command only says hello.
probe() {
	local kh=$1
	shift
	run env HOME="$T/home" "$REGSWEEP" gc --dry-run --ssh "$SSH_TARGET" --ssh-known-hosts "$kh" \
		--gc-command 'echo "hello from $(hostname)"; true' "$@"
}
mkdir -p "$T/home"

# --- host keys -------------------------------------------------------------
: >"$T/kh_empty"
probe "$T/kh_empty" --ssh-key "$SSH_KEY"
is "$RUN_STATUS" 1 "an unknown host key is refused"
like "$RUN_STDERR" "host key of '\\[127.0.0.1\\]:$SSH_PORT' is unknown" "saying the key is unknown"
like "$RUN_STDERR" "ssh-ed25519 ${HOST_FP//+/\\+}" "and showing its SHA256 fingerprint as ssh-keygen does"
like "$RUN_STDERR" "--ssh-accept-new" "and how to accept it"
is "$(wc -c <"$T/kh_empty")" 0 "nothing is written to known_hosts"

probe "$T/kh_empty" --ssh-key "$SSH_KEY" --ssh-accept-new
is "$RUN_STATUS" 0 "--ssh-accept-new accepts an unknown key"
like "$RUN_STDERR" "added the host key" "and says so"
is "$(cat "$T/kh_empty")" "$(cat "$SSH_KNOWN_HOSTS")" \
	"the known_hosts line is written as OpenSSH writes it ([host]:port)"
probe "$T/kh_empty" --ssh-key "$SSH_KEY"
is "$RUN_STATUS" 0 "the recorded key is trusted next time"

probe "$SSH_KNOWN_HOSTS_WRONG" --ssh-key "$SSH_KEY" --ssh-accept-new
is "$RUN_STATUS" 1 "a changed host key is refused, even with --ssh-accept-new"
like "$RUN_STDERR" "host key of '\\[127.0.0.1\\]:$SSH_PORT' has CHANGED" "loudly"
like "$RUN_STDERR" "ssh-keygen -R" "with the way out if the change is expected"

cp "$SSH_KNOWN_HOSTS" "$T/kh_hashed"
ssh-keygen -q -H -f "$T/kh_hashed" >/dev/null 2>&1
like "$(cat "$T/kh_hashed")" '^\|1\|' "ssh-keygen hashed the known_hosts file"
probe "$T/kh_hashed" --ssh-key "$SSH_KEY"
is "$RUN_STATUS" 0 "hashed known_hosts entries are understood"

probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY" -v
is "$RUN_STATUS" 0 "a known host and an ed25519 key connect"
like "$RUN_STDOUT" "Dry run: no figures \\(exit status 0\\)" "the command ran on the host"
like "$RUN_STDERR" "gc-dry-run\\| hello from" "and -v streams its output"

# --- user keys ---------------------------------------------------------------
probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY_ECDSA"
is "$RUN_STATUS" 0 "an ECDSA key works"

probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY_PASS"
is "$RUN_STATUS" 2 "an encrypted key without its passphrase is a usage error"
like "$RUN_STDERR" "is encrypted: give its passphrase in REGSWEEP_SSH_PASSPHRASE" "that says what to do"

REGSWEEP_SSH_PASSPHRASE=$SSH_KEY_PASSPHRASE probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY_PASS"
is "$RUN_STATUS" 0 "the passphrase from REGSWEEP_SSH_PASSPHRASE opens the key"
unlike "$RUN_STDERR$RUN_STDOUT" "$SSH_KEY_PASSPHRASE" "and never shows up in the output"

printf '%s\n' "$SSH_KEY_PASSPHRASE" >"$T/passphrase"
chmod 600 "$T/passphrase"
probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY_PASS" --ssh-passphrase-file "$T/passphrase"
is "$RUN_STATUS" 0 "so does --ssh-passphrase-file"

REGSWEEP_SSH_PASSPHRASE=wrong-passphrase probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY_PASS"
is "$RUN_STATUS" 1 "a wrong passphrase fails"
like "$RUN_STDERR" "cannot be decrypted \\(wrong passphrase\\?\\)" "saying so"

ssh-keygen -q -p -m PEM -N '' -f "$(cp "$SSH_KEY_ECDSA" "$T/id_ecdsa_pem" && echo "$T/id_ecdsa_pem")" \
	>/dev/null 2>&1
like "$(head -n 1 "$T/id_ecdsa_pem")" "BEGIN EC PRIVATE KEY" "a PEM copy of the ECDSA key"
probe "$SSH_KNOWN_HOSTS" --ssh-key "$T/id_ecdsa_pem"
is "$RUN_STATUS" 0 "a PEM key works"

probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY_RSA"
is "$RUN_STATUS" 1 "an RSA key cannot log in"
like "$RUN_STDERR" "libssh2 1.10 lacks the rsa-sha2-256/512" "the message says why"
like "$RUN_STDERR" "use an ed25519 or ECDSA key" "and what to use instead"

probe "$SSH_KNOWN_HOSTS" --ssh-key "$T/absent-key"
is "$RUN_STATUS" 2 "a missing key file is a usage error"
like "$RUN_STDERR" "cannot read SSH key '$T/absent-key'" "naming it"

probe "$SSH_KNOWN_HOSTS"
is "$RUN_STATUS" 1 "without any credential the login fails"
like "$RUN_STDERR" "cannot log in to '$SSH_USER@127.0.0.1:$SSH_PORT'" "naming the target"

mkdir -p "$T/home2/.ssh" "$T/home3/.ssh"
cp "$SSH_KEY" "$T/home2/.ssh/id_ed25519"
run env HOME="$T/home2" "$REGSWEEP" gc --dry-run --ssh "$SSH_TARGET" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --gc-command true
is "$RUN_STATUS" 0 "without --ssh-key, ~/.ssh/id_ed25519 is tried"
cp "$SSH_KEY_RSA" "$T/home3/.ssh/id_rsa"
run env HOME="$T/home3" "$REGSWEEP" gc --dry-run --ssh "$SSH_TARGET" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --gc-command true
is "$RUN_STATUS" 1 "a lone ~/.ssh/id_rsa cannot log in"
like "$RUN_STDERR" "id_rsa': an RSA key, not tried.*use an ed25519 or ECDSA key" "and the message says why"

# --- ssh-agent -----------------------------------------------------------------
agent_out=$(ssh-agent -s -a "$T/agent.sock") || bail_out "cannot start ssh-agent"
agent_pid=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' <<<"$agent_out")
harness_defer kill "$agent_pid"
SSH_AUTH_SOCK=$T/agent.sock ssh-add -q "$SSH_KEY_ECDSA" 2>/dev/null
SSH_AUTH_SOCK=$T/agent.sock probe "$SSH_KNOWN_HOSTS" -v
is "$RUN_STATUS" 0 "a key held by ssh-agent logs in"
like "$RUN_STDERR" "logged in with ssh-agent key" "through the agent"

# --- host key types --------------------------------------------------------------
sshd_start --host-keys rsa,ecdsa,ed25519 || bail_out "cannot start the second sshd"
grep ecdsa-sha2 "$SSH_KNOWN_HOSTS_ALL" >"$T/kh_ecdsa_only"
probe "$T/kh_ecdsa_only" --ssh-key "$SSH_KEY" -v
is "$RUN_STATUS" 0 "a host with three key types is verified with the one known_hosts holds"
like "$RUN_STDERR" "host keys: ecdsa-sha2-nistp256," "the known type is offered first"
grep ssh-rsa "$SSH_KNOWN_HOSTS_ALL" >"$T/kh_rsa_only"
probe "$T/kh_rsa_only" --ssh-key "$SSH_KEY"
is "$RUN_STATUS" 1 "a host known only by its RSA key cannot be verified"

sshd_start --host-keys rsa || bail_out "cannot start the RSA-only sshd"
probe "$SSH_KNOWN_HOSTS" --ssh-key "$SSH_KEY"
is "$RUN_STATUS" 1 "an RSA-only host fails"
like "$RUN_STDERR" "only RSA host keys, libssh2 1.10 lacks the rsa-sha2-256/512" "with the reason"
like "$RUN_STDERR" "ed25519 or ECDSA host key" "and the fix"

# --- time limits -----------------------------------------------------------------
# A port that accepts connections and never says a word.
mkfifo "$T/silent.port"
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$T/silent.port" &
silent_pid=$!
harness_defer kill "$silent_pid"
read -r -t 10 silent_port <"$T/silent.port"
start=$SECONDS
run "$REGSWEEP" gc --dry-run --ssh "$SSH_USER@127.0.0.1:$silent_port" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --ssh-timeout 1s --gc-command true
is "$RUN_STATUS" 1 "a host that never answers fails"
like "$RUN_STDERR" "no answer within 1s" "after --ssh-timeout"
ok "$((SECONDS - start <= 5 ? 0 : 1))" "promptly ($((SECONDS - start))s)"

run "$REGSWEEP" gc --dry-run --ssh "$SSH_USER@127.0.0.1:1" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS" --gc-command true
is "$RUN_STATUS" 1 "a closed port fails"
like "$RUN_STDERR" "cannot connect to '127.0.0.1' port 1: Connection refused" "saying so"

run "$REGSWEEP" gc --ssh "not a target" --gc-command true
is "$RUN_STATUS" 2 "a malformed target is a usage error"

tap_done
