#!/usr/bin/env bash
# auth.sh: `regsweep stats` gives the storage oracle's figures through every
# way of reaching a registry: anonymous, htpasswd (environment,
# --password-file, --password-stdin), token auth (short-lived tokens that
# expire mid-run, a pre-issued token, an identity token), credentials only
# in a docker config.json or only in a credential helper, a private CA,
# mutual TLS, --insecure. Refusals are explained (a withheld delete, a
# plain-http realm, wrong credentials, no CA), and no password or token
# appears in anything printed, at any verbosity.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep

PROBE=${top_builddir:-$HARNESS_SRCDIR}/auth_probe
ALL_OUTPUT=$HARNESS_TMP/all-output.log
SECRETS=()

# Nothing from the machine's own setup: no docker config, no cache, no
# regsweep settings from the environment.
export HOME=$HARNESS_TMP/home
mkdir -p "$HOME"
unset DOCKER_CONFIG
for name in $(compgen -e); do
	[[ $name != REGSWEEP_* || $name == REGSWEEP ]] || unset "$name"
done
export REGSWEEP_NO_CACHE=true
export PATH=$HARNESS_DIR:$PATH   # docker-credential-test

# rs [ARGS...]: regsweep at -v -v; RUN_STATUS/RUN_STDOUT/RUN_STDERR as run()
# sets them; everything printed is kept for the secret check at the end.
rs() {
	run "$REGSWEEP" -v -v "$@"
	printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >>"$ALL_OUTPUT"
}

# rs_stdin FILE ARGS...: as rs, with FILE on standard input.
rs_stdin() {
	local input=$1 err
	shift
	err=$HARNESS_TMP/stderr.$$
	RUN_STATUS=0
	RUN_STDOUT=$("$REGSWEEP" -v -v "$@" 2>"$err" <"$input") || RUN_STATUS=$?
	RUN_STDERR=$(<"$err")
	rm -f "$err"
	printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >>"$ALL_OUTPUT"
}

# probe ARGS...: auth_probe, output kept like regsweep's.
probe() {
	run env AUTH_PROBE_VERBOSE=1 "$PROBE" "$@"
	printf '%s\n%s\n' "$RUN_STDOUT" "$RUN_STDERR" >>"$ALL_OUTPUT"
}

oracle() {
	/usr/bin/python3 "$HARNESS_DIR/expected-stats.py" "$REG_ROOT"
}

# stats_is NAME [ARGS...]: stats --json through ARGS equals the oracle.
stats_is() {
	local name=$1
	shift
	rs stats --json -r "$REG_URL" "$@"
	if [[ $RUN_STATUS -ne 0 ]]; then
		ok 1 "$name"
		diag "exit status $RUN_STATUS: $(tail -n 5 <<<"$RUN_STDERR")"
		return
	fi
	is "$RUN_STDOUT" "$(oracle)" "$name"
}

secret() {
	SECRETS+=("$1")
}

b64() {
	printf '%s' "$1" | base64 -w0
}

# token_get QUERY: a token server answer for QUERY with the test user.
token_get() {
	curl -q -sS --noproxy '*' -u "$REG_USER:$REG_PASS" "$REG_TOKEN_URL?$1"
}

stop_quietly() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

free_port() {
	"$HARNESS_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

json_get() {
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

token_log_has() {
	grep -c -- "$1" "$REG_TOKEN_LOG" || true
}

# ---------------------------------------------------------------------------
# anonymous, and the transport's limits

registry_start
push_noise -q --repo plain/one --distinct-tags v --layers 1 2 >/dev/null
push_noise -q --repo plain/two --tag latest --layers 2 1 >/dev/null
stats_is "anonymous: figures equal the oracle's"
like "$RUN_STDERR" "credentials: anonymous" "-v says the access is anonymous"
like "$RUN_STDERR" "GET /v2/ 200 \\([0-9]+ ms, HTTP/1.1\\)" "-v shows each request and its HTTP version"

run env -u no_proxy -u NO_PROXY http_proxy="http://127.0.0.1:$(free_port)" \
	"$REGSWEEP" stats -r "$REG_URL" --retries 0
is "$RUN_STATUS" 1 "http_proxy is honoured: a dead proxy fails the run"
like "$RUN_STDERR" "unreachable" "and says the registry was unreachable"

# a server that accepts connections and never answers
"$HARNESS_PYTHON" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)' "$HARNESS_TMP/silent.port" &
silent_pid=$!
harness_defer stop_quietly "$silent_pid"
for ((i = 0; i < 100; i++)); do
	[[ ! -s $HARNESS_TMP/silent.port ]] || break
	sleep 0.1
done
silent_port=$(<"$HARNESS_TMP/silent.port")
start=$(date +%s)
run "$REGSWEEP" stats -r "http://127.0.0.1:$silent_port" --timeout 1 --retries 1
elapsed=$(($(date +%s) - start))
is "$RUN_STATUS" 1 "a registry that never answers fails the run"
like "$RUN_STDERR" "unreachable: GET [^ ]+: timed out" "with a timeout"
ok "$((elapsed > 15))" "within --timeout and its retry, not forever (${elapsed}s)"
stop_quietly "$silent_pid"
registry_stop

# ---------------------------------------------------------------------------
# htpasswd: the password from the environment, a file, standard input

registry_start --htpasswd alice:htpasswd-Secret-1
secret "$REG_PASS"
secret "$(b64 "$REG_USER:$REG_PASS")"
push_noise -q --repo basic/app --distinct-tags v --layers 1 3 >/dev/null
push_noise -q --repo basic/lib --index --tag v1 1 >/dev/null

REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS stats_is "htpasswd, REGSWEEP_PASSWORD: figures equal the oracle's"
like "$RUN_STDERR" "credentials: user name 'alice' and REGSWEEP_PASSWORD" "-v names the source"

printf '%s\n' "$REG_PASS" >"$HARNESS_TMP/password"
stats_is "htpasswd, --password-file: figures equal the oracle's" -u "$REG_USER" \
	--password-file "$HARNESS_TMP/password"
like "$RUN_STDERR" "credentials: user name 'alice' and --password-file" "-v names the file option"

rs_stdin "$HARNESS_TMP/password" stats --json -r "$REG_URL" -u "$REG_USER" --password-stdin
is "$RUN_STDOUT" "$(oracle)" "htpasswd, --password-stdin: figures equal the oracle's"

printf 'not-the-password\n' >"$HARNESS_TMP/wrong"
rs stats -r "$REG_URL" -u "$REG_USER" --password-file "$HARNESS_TMP/wrong"
is "$RUN_STATUS" 1 "a wrong password fails"
like "$RUN_STDERR" "rejected the credentials of user 'alice'" "and says whose credentials"

rs stats -r "$REG_URL"
is "$RUN_STATUS" 1 "no credentials fails"
like "$RUN_STDERR" "requires a user name and password" "and says what is missing"

REGSWEEP_PASSWORD=$REG_PASS rs stats -r "$REG_URL"
is "$RUN_STATUS" 2 "a password without a user name is a usage error"

# --- only in a docker config.json -------------------------------------------
mkdir -p "$HARNESS_TMP/docker-a"
cat >"$HARNESS_TMP/docker-a/config.json" <<EOF
{"auths": {"other.example:5000": {"auth": "$(b64 x:y)"},
           "http://$REG_HOSTPORT": {"auth": "$(b64 "$REG_USER:$REG_PASS")"}}}
EOF
DOCKER_CONFIG=$HARNESS_TMP/docker-a stats_is "credentials only in config.json (auths): figures equal the oracle's"
like "$RUN_STDERR" "credentials: docker config '[^']*docker-a/config.json' \\(auths 'http://$REG_HOSTPORT'\\)" \
	"-v names the config file and entry"

mkdir -p "$HOME/.docker"
cp "$HARNESS_TMP/docker-a/config.json" "$HOME/.docker/config.json"
stats_is "~/.docker/config.json is read when DOCKER_CONFIG is unset"
rm -f "$HOME/.docker/config.json"

# --- only in a credential helper --------------------------------------------
export REGSWEEP_TEST_CREDS=$HARNESS_TMP/helper-store REGSWEEP_TEST_CREDS_LOG=$HARNESS_TMP/helper-log
printf '%s %s %s\n' "$REG_HOSTPORT" "$REG_USER" "$REG_PASS" >"$REGSWEEP_TEST_CREDS"
mkdir -p "$HARNESS_TMP/docker-b"
printf '{"auths": {"%s": {}}, "credHelpers": {"%s": "test"}}\n' "$REG_HOSTPORT" "$REG_HOSTPORT" \
	>"$HARNESS_TMP/docker-b/config.json"
DOCKER_CONFIG=$HARNESS_TMP/docker-b stats_is "credentials only in a helper (credHelpers): figures equal the oracle's"
like "$RUN_STDERR" "credentials: docker credential helper 'docker-credential-test' \\(credHelpers" \
	"-v names the helper"
is "$(sort -u "$REGSWEEP_TEST_CREDS_LOG")" "$REG_HOSTPORT" "the helper was asked for host:port on stdin"

printf '{"credsStore": "test"}\n' >"$HARNESS_TMP/docker-b/config.json"
DOCKER_CONFIG=$HARNESS_TMP/docker-b stats_is "credentials only in a helper (credsStore): figures equal the oracle's"

printf '{"credsStore": "not-installed", "auths": {"%s": {"auth": "%s"}}}\n' "$REG_HOSTPORT" \
	"$(b64 "$REG_USER:$REG_PASS")" >"$HARNESS_TMP/docker-b/config.json"
DOCKER_CONFIG=$HARNESS_TMP/docker-b stats_is "a helper that is not installed: warned, auths used"
like "$RUN_STDERR" "warning: cannot run 'docker-credential-not-installed': not found on PATH" \
	"the missing helper is named"
unset REGSWEEP_TEST_CREDS REGSWEEP_TEST_CREDS_LOG
registry_stop

# ---------------------------------------------------------------------------
# token auth

registry_start --token-auth
secret "$REG_PASS"
secret "$(b64 "$REG_USER:$REG_PASS")"
push_noise -q --repo app/web --distinct-tags v --layers 1 3 >/dev/null
push_noise -q --repo app/api --tag latest --layers 1 2 >/dev/null
push_noise -q --repo lib/base --index --tag v1 1 >/dev/null

before=$(token_requests)
REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS stats_is "token auth: figures equal the oracle's"
used=$(($(token_requests) - before))
is "$used" 5 "one token per scope: /v2/, the catalog and three repositories"
like "$RUN_STDERR" "token: asking 'http://127.0.0.1:[0-9]+/token' for 'repository:app/web:pull'" \
	"-v says which scopes are asked for"

rs stats -r "$REG_URL"
is "$RUN_STATUS" 1 "anonymous against a token server that grants nothing fails"
like "$RUN_STDERR" "lacks 'registry:catalog:\\*'.*no credentials were given" \
	"and says that no credentials were given"

REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=wrong-password rs stats -r "$REG_URL"
is "$RUN_STATUS" 1 "a wrong password at the token server fails"
like "$RUN_STDERR" "token server '[^']*' refused the credentials of user 'tester'" \
	"and names the token server and the user"

# --- a pre-issued token --------------------------------------------------------
answer=$(token_get "service=$REG_TOKEN_SERVICE&scope=registry:catalog:*&scope=repository:app/web:pull&scope=repository:app/api:pull&scope=repository:lib/base:pull")
pre_token=$(json_get token <<<"$answer")
secret "$pre_token"
REGSWEEP_TOKEN=$pre_token stats_is "a pre-issued token (REGSWEEP_TOKEN): figures equal the oracle's"
like "$RUN_STDERR" "credentials: REGSWEEP_TOKEN" "-v names REGSWEEP_TOKEN"
printf '%s\n' "$pre_token" >"$HARNESS_TMP/token"
stats_is "a pre-issued token (--token-file): figures equal the oracle's" --token-file "$HARNESS_TMP/token"
REGSWEEP_TOKEN=not-a-valid-token rs stats -r "$REG_URL"
is "$RUN_STATUS" 1 "an invalid pre-issued token fails"
like "$RUN_STDERR" "refused the pre-issued token" "and says so"

# --- an identity token (OAuth2 refresh token) ---------------------------------
answer=$(token_get "service=$REG_TOKEN_SERVICE&offline_token=true")
refresh=$(json_get refresh_token <<<"$answer")
secret "$refresh"
mkdir -p "$HARNESS_TMP/docker-c"
printf '{"auths": {"%s": {"auth": "%s", "identitytoken": "%s"}}}\n' "$REG_HOSTPORT" \
	"$(b64 "00000000-0000-0000-0000-000000000000:")" "$refresh" >"$HARNESS_TMP/docker-c/config.json"
before=$(token_log_has "POST grant=refresh_token")
DOCKER_CONFIG=$HARNESS_TMP/docker-c stats_is "an identity token in config.json: figures equal the oracle's"
ok "$(($(token_log_has "POST grant=refresh_token") > before ? 0 : 1))" \
	"tokens were asked for with the OAuth2 refresh_token form"

export REGSWEEP_TEST_CREDS=$HARNESS_TMP/helper-store2
printf '%s <token> %s\n' "$REG_HOSTPORT" "$refresh" >"$REGSWEEP_TEST_CREDS"
printf '{"credsStore": "test"}\n' >"$HARNESS_TMP/docker-c/config.json"
DOCKER_CONFIG=$HARNESS_TMP/docker-c stats_is "an identity token from a credential helper: figures equal the oracle's"
unset REGSWEEP_TEST_CREDS

# --- several scopes in one token request; a DELETE that is allowed ------------
digest=$(reg_curl -I -H "Authorization: Bearer $pre_token" \
	-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	"$REG_URL/v2/app/web/manifests/v1" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
REGSWEEP_REGISTRY=$REG_URL REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS probe --declare-delete \
	HEAD "/v2/app/web/manifests/$digest" repository:app/web:pull \
	DELETE "/v2/app/web/manifests/$digest" repository:app/web:delete
is "$RUN_STATUS" 0 "a declared delete: HEAD then DELETE succeed"
like "$RUN_STDOUT" "DELETE /v2/app/web/manifests/sha256:[0-9a-f]+ 202" "the DELETE was accepted"
like "$RUN_STDOUT" "token-requests 2" "one token for /v2/, one for pull and delete together"
like "$(tail -n 1 "$REG_TOKEN_LOG")" "scopes=\\['repository:app/web:pull', 'repository:app/web:delete'\\]" \
	"both scopes went in one token request"
printf '%s\n' "$REG_PASS" >"$HARNESS_TMP/token-password"
stats_is "after the delete the figures still equal the oracle's" -u "$REG_USER" \
	--password-file "$HARNESS_TMP/token-password"

# --- regsweep apply under token auth ----------------------------------------------
export REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS
rs plan -r "$REG_URL" --repos app/web --keep-last 0 --out "$HARNESS_TMP/plan-token.json"
is "$RUN_STATUS" 0 "plan under token auth"
rs apply "$HARNESS_TMP/plan-token.json" -r "$REG_URL" --backup-dir "$HARNESS_TMP/backup-token"
is "$RUN_STATUS" 0 "apply under token auth deletes"
like "$RUN_STDOUT" "apply: 2 deleted, 0 already gone, 0 skipped, 0 failed" "the two planned deletes are done"
like "$(grep "scopes=\['repository:app/web:pull', 'repository:app/web:delete'\]" "$REG_TOKEN_LOG")" \
	"access=.*\"pull\", \"delete\"" "apply asks for pull and delete in one token request"
stats_is "after apply the figures equal the oracle's"
unset REGSWEEP_USERNAME REGSWEEP_PASSWORD
registry_stop

# --- a token server that withholds delete ------------------------------------
registry_start --token-auth --token-withhold-delete
secret "$REG_PASS"
push_noise -q --repo app/web --distinct-tags v --layers 1 2 >/dev/null
answer=$(token_get "service=$REG_TOKEN_SERVICE&scope=repository:app/web:pull")
t=$(json_get token <<<"$answer")
secret "$t"
digest=$(reg_curl -I -H "Authorization: Bearer $t" \
	-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	"$REG_URL/v2/app/web/manifests/v1" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
before_stats=$(oracle)
REGSWEEP_REGISTRY=$REG_URL REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS probe --declare-delete \
	HEAD "/v2/app/web/manifests/$digest" repository:app/web:pull \
	DELETE "/v2/app/web/manifests/$digest" repository:app/web:delete
is "$RUN_STATUS" 1 "a DELETE the token server withholds fails"
like "$RUN_STDOUT" "HEAD /v2/app/web/manifests/sha256:[0-9a-f]+ 200" "reading still works"
like "$RUN_STDOUT" "DELETE [^ ]+ error: the token for 'app/web' lacks 'delete' \\(credentials: user name 'tester'" \
	"the refusal names the repository, the action and the credentials"
like "$RUN_STDERR" "did not grant 'repository:app/web:delete'" "-v noticed the withheld action at once"
is "$(oracle)" "$before_stats" "nothing was deleted"
REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS stats_is "stats works without delete rights"

export REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS
rs plan -r "$REG_URL" --repos app/web --keep-last 0 --out "$HARNESS_TMP/plan-withheld.json"
is "$RUN_STATUS" 0 "plan without delete rights"
rs apply "$HARNESS_TMP/plan-withheld.json" -r "$REG_URL" --backup-dir "$HARNESS_TMP/backup-withheld"
is "$RUN_STATUS" 1 "apply without delete rights fails"
like "$RUN_STDOUT" "failed +app/web@.*lacks? 'delete'.*'app/web'" \
	"apply says that delete is lacking on 'app/web'"
like "$RUN_STDERR" "did not grant 'repository:app/web:delete'" "-v -v showed it while scanning"
is "$(oracle)" "$before_stats" "apply deleted nothing"
unset REGSWEEP_USERNAME REGSWEEP_PASSWORD
registry_stop

# --- short-lived tokens that expire mid-run -----------------------------------
registry_start --token-auth --token-ttl 2
secret "$REG_PASS"
for r in 1 2 3 4 5 6; do
	push_noise -q --repo "ttl/repo$r" --distinct-tags v --layers 1 3 >/dev/null
done
before=$(token_requests)
start=$(date +%s%N)
# --rate keeps the run longer than the tokens live (some 35 requests at 10/s)
REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS stats_is \
	"2-second tokens expiring mid-run: figures equal the oracle's" --rate 10 -j 2
ms=$((($(date +%s%N) - start) / 1000000))
used=$(($(token_requests) - before))
ok "$((ms > 2500 ? 0 : 1))" "the run outlasted the tokens (${ms} ms)"
ok "$((used > 8 ? 0 : 1))" "tokens were fetched again as they expired ($used requests for 8 scopes)"
unlike "$RUN_STDERR" "keeps answering 401" "no request was refused for good"
registry_stop

# ---------------------------------------------------------------------------
# TLS: a private CA, mutual TLS, --insecure, and a plain-http token realm

registry_start --tls
push_noise -q --repo tls/app --distinct-tags v --layers 1 2 >/dev/null
stats_is "a private CA (--cacert): figures equal the oracle's" --cacert "$REG_CACERT"
like "$RUN_STDERR" "GET /v2/ 200 \\([0-9]+ ms, HTTP/2\\)" "HTTP/2 is used over TLS"
rs stats -r "$REG_URL"
is "$RUN_STATUS" 1 "without the CA the certificate is refused"
like "$RUN_STDERR" "TLS failure: the server.s certificate cannot be verified.*--cacert" "and the message suggests --cacert"
stats_is "--insecure against a certificate it cannot verify: figures equal the oracle's" --insecure
like "$RUN_STDERR" "warning: TLS certificate verification is off \\(--insecure\\)" "--insecure warns on stderr"
rs stats -r "$REG_URL" --cacert "$HARNESS_TMP/no-such-ca.pem"
is "$RUN_STATUS" 2 "an unreadable --cacert is a usage error"
like "$RUN_STDERR" "cannot read --cacert" "and says which option"
registry_stop

registry_start --mtls
push_noise -q --repo mtls/app --distinct-tags v --layers 1 2 >/dev/null
stats_is "mutual TLS (--cert, --key): figures equal the oracle's" --cacert "$REG_CACERT" \
	--cert "$REG_CLIENT_CERT" --key "$REG_CLIENT_KEY"
rs stats -r "$REG_URL" --cacert "$REG_CACERT"
is "$RUN_STATUS" 1 "without a client certificate the registry refuses"
like "$RUN_STDERR" "client certificate: use --cert FILE --key FILE" "and the message suggests --cert"
rs stats -r "$REG_URL" --cacert "$REG_CACERT" --key "$REG_CLIENT_KEY"
is "$RUN_STATUS" 2 "--key without --cert is a usage error"
registry_stop

registry_start --tls --token-auth
secret "$REG_PASS"
push_noise -q --repo tlstoken/app --distinct-tags v --layers 1 1 >/dev/null
before=$(token_requests)
REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS rs stats -r "$REG_URL" --cacert "$REG_CACERT"
is "$RUN_STATUS" 1 "an https registry with an http:// token realm is refused"
like "$RUN_STDERR" "refusing token realm 'http://[^']*'.*--insecure" "and says why, and how to allow it"
is "$(token_requests)" "$before" "the password was not sent to the plain-http realm"
REGSWEEP_USERNAME=$REG_USER REGSWEEP_PASSWORD=$REG_PASS stats_is \
	"with --insecure the http realm is used: figures equal the oracle's" --cacert "$REG_CACERT" --insecure
like "$RUN_STDERR" "warning: asking the token realm 'http://" "and it warns"
registry_stop

# ---------------------------------------------------------------------------
# no secret in anything printed

leaks=0
for s in "${SECRETS[@]}"; do
	if grep -qF -- "$s" "$ALL_OUTPUT"; then
		leaks=$((leaks + 1))
		diag "a secret of ${#s} characters appears in the output"
	fi
done
is "$leaks" 0 "no password, token or Basic value in anything printed (${#SECRETS[@]} secrets)"
is "$(grep -c 'eyJ' "$ALL_OUTPUT")" 0 "no JWT in anything printed"
ok "$(($(wc -l <"$ALL_OUTPUT") > 200 ? 0 : 1))" "the output checked is the -v -v output ($(wc -l <"$ALL_OUTPUT") lines)"
if [[ -d $HOME/.cache ]]; then
	is "$(grep -rlF -e "${SECRETS[0]}" -e eyJ "$HOME/.cache" | wc -l)" 0 "nor in any file written"
else
	ok 0 "no file written under HOME"
fi
tap_done
