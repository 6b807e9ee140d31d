#!/usr/bin/env bash
# Integration test of the test harness itself: the registries it starts, the
# noise generator's pushes and records, the token server and the sshd.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../harness/lib.sh
. "${top_srcdir:-$here/../..}/tests/harness/lib.sh"

tap_noplan
harness_tmpdir

readonly ACCEPT_ALL='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'

# head_manifest REPO REF: "STATUS DIGEST CONTENT-TYPE" of a HEAD with all four types.
head_manifest() {
	reg_curl -I -o /dev/null -D - -H "Accept: $ACCEPT_ALL" "$REG_URL/v2/$1/manifests/$2" |
		awk '{ sub(/\r$/, "") }
			NR == 1 { status = $2 }
			tolower($1) == "docker-content-digest:" { digest = $2 }
			tolower($1) == "content-type:" { type = $2 }
			END { print status, digest, type }'
}

http_status() {
	reg_curl -o /dev/null -w '%{http_code}' "$@" || true
}

# last_tag OUTPUT REPO TAG: the digest of the last `tag` record for REPO:TAG.
last_tag() {
	awk -v repo="$2" -v tag="$3" '$1 == "tag" && $2 == repo && $3 == tag { d = $4 } END { print d }' <<<"$1"
}

count_records() {
	awk -v kind="$2" '$1 == kind { n++ } END { print n + 0 }' <<<"$1"
}

revisions() {
	local dir=$REG_ROOT/docker/registry/v2/repositories/$1/_manifests/revisions/sha256
	find "$dir" -mindepth 2 -maxdepth 2 -name link 2>/dev/null | wc -l
}

# json_get FILE EXPR: a value out of a JSON document (EXPR in Python over `d`).
json_get() {
	"$HARNESS_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# jwt_claim TOKEN EXPR: EXPR (Python over the claims `d`) of a JWT, as compact JSON.
jwt_claim() {
	"$HARNESS_PYTHON" -c 'import base64, json, sys
p = sys.argv[1].split(".")[1]
d = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
print(json.dumps(eval(sys.argv[2]), separators=(",", ":")))' "$1" "$2"
}

# ---------------------------------------------------------------------------
diag "plain registry"
registry_start
is "$(http_status "$REG_URL/v2/")" 200 "registry answers /v2/ with 200"
like "$REG_URL" '^http://127\.0\.0\.1:[0-9]+$' "REG_URL is http on loopback"
is "$REG_HOSTPORT" "127.0.0.1:$REG_PORT" "REG_HOSTPORT matches REG_PORT"
check "REG_PID is the running registry" test -r "/proc/$REG_PID/cmdline"

# Three docker pushes to one tag.
out=$(push_noise -q --repo docker/app 3)
is "$(count_records "$out" manifest)" 3 "3 pushes print 3 manifest records"
is "$(count_records "$out" tag)" 3 "3 pushes print 3 tag records"
is "$(count_records "$out" blob)" 9 "3 pushes of 2 layers print 9 blob records"
latest=$(last_tag "$out" docker/app latest)
read -r status digest ctype < <(head_manifest docker/app latest)
is "$status $digest" "200 $latest" "docker/app:latest resolves to the last push"
is "$ctype" application/vnd.docker.distribution.manifest.v2+json "docker manifest media type"
is "$(revisions docker/app)" 3 "storage holds 3 revision links for docker/app"
is "$(<"$REG_ROOT/docker/registry/v2/repositories/docker/app/_manifests/tags/latest/current/link")" \
	"$latest" "tag link in storage names the last push"
reg_curl -H "Accept: $ACCEPT_ALL" -o "$HARNESS_TMP/m.json" "$REG_URL/v2/docker/app/manifests/latest"
is "sha256:$(sha256sum <"$HARNESS_TMP/m.json" | cut -d' ' -f1)" "$latest" "manifest body hashes to its digest"
record_size=$(awk -v d="$latest" '$1 == "manifest" && $3 == d { print $5 }' <<<"$out")
is "$(stat -c %s "$HARNESS_TMP/m.json")" "$record_size" "manifest record size matches the body"
all_there=0
while read -r _ digest size; do
	got=$(reg_curl -I -o /dev/null -w '%{http_code} %header{content-length}' \
		"$REG_URL/v2/docker/app/blobs/$digest" 2>/dev/null || true)
	[[ $got == "200 $size" ]] || {
		all_there=1
		diag "blob $digest: $got, expected 200 $size"
	}
done < <(awk '$1 == "blob"' <<<"$out")
ok "$all_there" "every blob record is in the repository with its size"
config_digest=$(json_get "$HARNESS_TMP/m.json" 'd["config"]["digest"]')
reg_curl -o "$HARNESS_TMP/c.json" "$REG_URL/v2/docker/app/blobs/$config_digest"
is "$(json_get "$HARNESS_TMP/c.json" '" ".join(d["rootfs"]["diff_ids"])')" \
	"$(json_get "$HARNESS_TMP/m.json" '" ".join(l["digest"] for l in d["layers"])')" \
	"config diff_ids are the layer digests"
like "$(json_get "$HARNESS_TMP/c.json" 'd["created"]')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]+Z$' \
	"default created is the push time with nanoseconds"

# OCI, with set creation times.
out=$(push_noise -q --oci --repo oci/app --created 2024-01-01T00:00:00Z --created-step 86400 2)
latest=$(last_tag "$out" oci/app latest)
read -r status digest ctype < <(head_manifest oci/app latest)
is "$status $digest $ctype" "200 $latest application/vnd.oci.image.manifest.v1+json" \
	"OCI tag resolves with the OCI media type"
reg_curl -H "Accept: $ACCEPT_ALL" -o "$HARNESS_TMP/m.json" "$REG_URL/v2/oci/app/manifests/latest"
reg_curl -o "$HARNESS_TMP/c.json" \
	"$REG_URL/v2/oci/app/blobs/$(json_get "$HARNESS_TMP/m.json" 'd["config"]["digest"]')"
is "$(json_get "$HARNESS_TMP/c.json" 'd["created"]')" 2024-01-03T00:00:00Z \
	"push 2 is created + 2 * step"
is "$(http_status -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	"$REG_URL/v2/oci/app/manifests/latest")" 404 "OCI manifest is 404 without the OCI Accept type"

out=$(push_noise -q --repo noage --created none 1)
reg_curl -H "Accept: $ACCEPT_ALL" -o "$HARNESS_TMP/m.json" "$REG_URL/v2/noage/manifests/latest"
reg_curl -o "$HARNESS_TMP/c.json" \
	"$REG_URL/v2/noage/blobs/$(json_get "$HARNESS_TMP/m.json" 'd["config"]["digest"]')"
is "$(json_get "$HARNESS_TMP/c.json" '"created" in d')" False "--created none leaves created out"

# Multi-arch, docker and OCI.
for flavour in docker oci; do
	out=$(push_noise -q "--$flavour" --index --repo "multi/$flavour" 2)
	latest=$(last_tag "$out" "multi/$flavour" latest)
	if [[ $flavour == docker ]]; then
		want=application/vnd.docker.distribution.manifest.list.v2+json
	else
		want=application/vnd.oci.image.index.v1+json
	fi
	read -r status digest ctype < <(head_manifest "multi/$flavour" latest)
	is "$status $digest $ctype" "200 $latest $want" "$flavour index tag resolves to the index"
	is "$(count_records "$out" manifest)" 6 "$flavour: 2 index pushes print 6 manifest records"
	is "$(revisions "multi/$flavour")" 6 "$flavour: storage holds 6 revisions"
	reg_curl -H "Accept: $ACCEPT_ALL" -o "$HARNESS_TMP/i.json" "$REG_URL/v2/multi/$flavour/manifests/latest"
	is "$(json_get "$HARNESS_TMP/i.json" '" ".join(m["platform"]["architecture"] for m in d["manifests"])')" \
		"amd64 arm64" "$flavour index has amd64 and arm64 children"
	children_ok=0
	for child in $(json_get "$HARNESS_TMP/i.json" '" ".join(m["digest"] for m in d["manifests"])'); do
		read -r status digest _ < <(head_manifest "multi/$flavour" "$child")
		[[ "$status $digest" == "200 $child" ]] || children_ok=1
	done
	ok "$children_ok" "$flavour index children resolve by digest"
done
digest=$(reg_curl -I -o /dev/null -D - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	"$REG_URL/v2/multi/docker/manifests/latest" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
isnt "$digest" "$(last_tag "$out" multi/docker latest)" \
	"without the list types the registry answers with a child, not the index"

# Signatures and referrers.
out=$(push_noise -q --repo signed --sign --referrer 2)
latest=$(last_tag "$out" signed latest)
sig_tag=sha256-${latest#sha256:}.sig
sig=$(last_tag "$out" signed "$sig_tag")
read -r status digest ctype < <(head_manifest signed "$sig_tag")
is "$status $digest" "200 $sig" "signature tag sha256-HEX.sig resolves"
is "$(count_records "$out" manifest)" 6 "2 signed pushes with referrers print 6 manifest records"
is "$(count_records "$out" tag)" 4 "2 signed pushes print 4 tag records"
referrer=$(awk '$1 == "manifest" { d[++n] = $3 } END { print d[n] }' <<<"$out")
reg_curl -H "Accept: $ACCEPT_ALL" -o "$HARNESS_TMP/r.json" "$REG_URL/v2/signed/manifests/$referrer"
is "$(json_get "$HARNESS_TMP/r.json" 'd["subject"]["digest"] + " " + d["artifactType"]')" \
	"$latest application/vnd.example.sbom" "referrer names the push as its subject"
tags=$(reg_curl "$REG_URL/v2/signed/tags/list")
unlike "$tags" "\"$referrer\"" "referrer is untagged"

# A shared base layer across repositories; distinct tags.
out_a=$(push_noise -q --repo base/a --base-layer --layers 1 1)
out_b=$(push_noise -q --repo base/b --base-layer --layers 1 --distinct-tags v 3)
base_a=$(awk '$1 == "blob" { print $2; exit }' <<<"$out_a")
base_b=$(awk '$1 == "blob" && $3 == 4096 { print $2 }' <<<"$out_b" | sort -u)
is "$base_b" "$base_a" "the base layer is the same blob in every push and repository"
is "$(awk '$1 == "blob" { print $2 }' <<<"$out_b" | sort -u | wc -l)" 7 \
	"other blobs are distinct (1 base + 3 layers + 3 configs)"
tags=$(reg_curl "$REG_URL/v2/base/b/tags/list")
like "$tags" '"v1".*"v2".*"v3"|"v1".*"v3".*"v2"|"v2".*"v1".*"v3"|"v2".*"v3".*"v1"|"v3".*"v1".*"v2"|"v3".*"v2".*"v1"' \
	"--distinct-tags pushes v1, v2, v3"
out_s1=$(push_noise -q --repo seeded --seed s1 1)
out_s2=$(push_noise -q --repo seeded --seed s1 --created 2024-01-01T00:00:00Z 1)
is "$(awk '$1 == "blob" { print $2 }' <<<"$out_s2" | head -n 2)" \
	"$(awk '$1 == "blob" { print $2 }' <<<"$out_s1" | head -n 2)" "--seed makes layers reproducible"

catalog=$(reg_curl "$REG_URL/v2/_catalog")
missing=0
for repo in docker/app oci/app noage multi/docker multi/oci signed base/a base/b seeded; do
	[[ $catalog == *"\"$repo\""* ]] || missing=1
done
ok "$missing" "_catalog lists every pushed repository"

# Deleting, read-only restart, GC.
is "$(http_status -X DELETE "$REG_URL/v2/docker/app/manifests/$latest")" 404 \
	"DELETE of a digest from another repository is 404"
first=$(push_noise -q --repo deleteme 2 | awk '$1 == "manifest" { print $3; exit }')
is "$(http_status -X DELETE "$REG_URL/v2/deleteme/manifests/$first")" 202 "DELETE of an untagged digest is 202"
read -r status _ _ < <(head_manifest deleteme "$first")
is "$status" 404 "deleted manifest answers 404"
# What each registry build does where they differ (REGISTRY-FACTS)
diag "registry $HARNESS_REGISTRY: its own answers"
two=$(push_noise -q --repo differ --distinct-tags t 1 | awk '$1 == "tag" { print $4 }')
is "$(http_status -X PUT -H "Content-Type: application/vnd.docker.distribution.manifest.v2+json" \
	--data-binary @<(reg_curl -H "Accept: $ACCEPT_ALL" "$REG_URL/v2/differ/manifests/t1") \
	"$REG_URL/v2/differ/manifests/t0")" 201 "a second tag on the same digest"
deltag=$(reg_curl -X DELETE -w ' %{http_code}' "$REG_URL/v2/differ/manifests/t0")
read -r status _ _ < <(head_manifest differ t0)
if registry_is 3; then
	like "$deltag" ' 202$' "3.x: DELETE of a tag is 202"
	is "$status $(head_manifest differ "$two" | cut -d' ' -f1)" "404 200" \
		"and removes the tag alone: its manifest stays"
	like "$(reg_curl -X DELETE -w ' %{http_code}' "$REG_URL/v2/differ/manifests/no-such-tag")" \
		'MANIFEST_UNKNOWN.* 404$' "3.x: DELETE of an unknown tag is 404 MANIFEST_UNKNOWN"
else
	like "$deltag" 'DIGEST_INVALID.* 400$' "2.x: DELETE of a tag is 400 DIGEST_INVALID"
	is "$status" 200 "and the tag stays"
	like "$(reg_curl -X DELETE -w ' %{http_code}' "$REG_URL/v2/differ/manifests/no-such-tag")" \
		'DIGEST_INVALID.* 400$' "2.x: so is DELETE of an unknown tag"
fi
is "$(http_status -X DELETE "$REG_URL/v2/differ/manifests/$two")" 202 "the digest goes with its tags"
emptied=$(reg_curl "$REG_URL/v2/differ/tags/list")
if registry_is 3; then
	is "$emptied" '{"name":"differ","tags":[]}' "3.x lists an emptied repository's tags as []"
else
	is "$emptied" '{"name":"differ","tags":null}' "2.x lists an emptied repository's tags as null"
fi
like "$(reg_curl "$REG_URL/v2/_catalog")" '"differ"' "the catalog still lists the emptied repository"
push_noise -q --repo order --tag c 1 >/dev/null
push_noise -q --repo order --tag a 1 >/dev/null
push_noise -q --repo order --tag b 1 >/dev/null
if registry_is 3; then
	is "$(reg_curl "$REG_URL/v2/order/tags/list")" '{"name":"order","tags":["a","b","c"]}' \
		"3.x sorts tags"
	is "$(reg_curl -D - -o /dev/null "$REG_URL/v2/order/tags/list?n=2" | grep -ci '^link:')" 1 \
		"and links to the next page when more remain"
	is "$(reg_curl -D - -o /dev/null "$REG_URL/v2/order/tags/list?n=3" | grep -ci '^link:')" 0 \
		"but not from a last page that is full (3.0; 3.1 does)"
else
	like "$(reg_curl "$REG_URL/v2/order/tags/list?n=2")" '"tags":\["[abc]","[abc]","[abc]"\]' \
		"2.x does not paginate tag lists"
fi
# a schema 1 manifest in the storage, as registries upgraded from old ones hold
s1='{"schemaVersion":1,"name":"old","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}'
s1d=$(printf '%s' "$s1" | sha256sum | cut -c1-64)
s1root=$REG_ROOT/docker/registry/v2
mkdir -p "$s1root/blobs/sha256/${s1d:0:2}/$s1d" "$s1root/repositories/old/_manifests/revisions/sha256/$s1d" \
	"$s1root/repositories/old/_manifests/tags/v1/current" "$s1root/repositories/old/_layers"
printf '%s' "$s1" >"$s1root/blobs/sha256/${s1d:0:2}/$s1d/data"
printf 'sha256:%s' "$s1d" >"$s1root/repositories/old/_manifests/revisions/sha256/$s1d/link"
printf 'sha256:%s' "$s1d" >"$s1root/repositories/old/_manifests/tags/v1/current/link"
s1answer=$(reg_curl -H "Accept: $ACCEPT_ALL" -w ' %{http_code}' "$REG_URL/v2/old/manifests/v1")
if registry_is 3; then
	like "$s1answer" 'unrecognized manifest schema version 1.* 500$' \
		"3.x answers a stored schema 1 manifest with 500"
else
	like "$s1answer" '"schemaVersion":1.* 200$' "2.x still serves a stored schema 1 manifest"
fi
# (3.x garbage collection stops on it: it goes before the GC below)
rm -rf "$s1root/repositories/old" "$s1root/blobs/sha256/${s1d:0:2}/$s1d"

port_before=$REG_PORT
registry_restart --readonly
is "$REG_PORT" "$port_before" "restart keeps the port"
read -r status _ _ < <(head_manifest docker/app latest)
is "$status" 200 "read-only registry still serves manifests"
is "$(http_status -X POST "$REG_URL/v2/docker/app/blobs/uploads/")" 405 "read-only registry refuses uploads"
check_fails "push_noise fails clearly against a read-only registry" push_noise -q --repo ro 1
registry_stop
check "registry was stopped" test ! -e "/proc/$REG_PID/cmdline"
check "garbage-collect --dry-run on the stopped registry" registry_gc --dry-run
registry_restart
is "$(http_status -X POST "$REG_URL/v2/docker/app/blobs/uploads/")" 202 "restart without --readonly is writable"
registry_stop

registry_start --no-delete
noop=$(push_noise -q --repo nodelete 1 | awk '$1 == "tag" { print $4 }')
is "$(http_status -X DELETE "$REG_URL/v2/nodelete/manifests/$noop")" 405 "--no-delete registry answers DELETE with 405"
registry_stop

# ---------------------------------------------------------------------------
diag "htpasswd"
registry_start --htpasswd alice:s3cret
is "$REG_USER:$REG_PASS" alice:s3cret "REG_USER and REG_PASS exported"
is "$(http_status "$REG_URL/v2/")" 401 "htpasswd registry: 401 without credentials"
is "$(http_status -u alice:wrong "$REG_URL/v2/")" 401 "htpasswd registry: 401 with a wrong password"
is "$(http_status -u alice:s3cret "$REG_URL/v2/")" 200 "htpasswd registry: 200 with credentials"
out=$(push_noise -q --repo private 1)
read -r status digest _ < <(reg_curl -u alice:s3cret -I -o /dev/null -D - -H "Accept: $ACCEPT_ALL" \
	"$REG_URL/v2/private/manifests/latest" | awk '{ sub(/\r$/, "") } NR == 1 { s = $2 } tolower($1) == "docker-content-digest:" { d = $2 } END { print s, d }')
is "$status $digest" "200 $(last_tag "$out" private latest)" "push_noise uses the htpasswd credentials"
check_fails "generate-noise.sh fails without credentials" \
	bash "$HARNESS_NOISE" -q -r "$REG_URL" --repo private 1
registry_stop

# ---------------------------------------------------------------------------
diag "TLS and mutual TLS"
registry_start --tls
like "$REG_URL" '^https://127\.0\.0\.1:[0-9]+$' "TLS registry URL is https"
is "$(http_status "$REG_URL/v2/")" 200 "TLS registry trusted through REG_CACERT"
is "$(http_status "https://localhost:$REG_PORT/v2/")" 200 "server certificate is valid for localhost too"
rc=0
curl -q -sS --noproxy '*' -o /dev/null "$REG_URL/v2/" 2>/dev/null || rc=$?
is "$rc" 60 "without REG_CACERT curl refuses the certificate"
out=$(push_noise -q --repo tls/app 1)
is "$(count_records "$out" tag)" 1 "push_noise pushes over TLS"
registry_stop

registry_start --mtls
check "client cert and key exported" test -r "$REG_CLIENT_CERT" -a -r "$REG_CLIENT_KEY"
is "$(http_status "$REG_URL/v2/")" 200 "mTLS registry accepts the client certificate"
rc=0
curl -q -sS --noproxy '*' --cacert "$REG_CACERT" -o /dev/null "$REG_URL/v2/" 2>/dev/null || rc=$?
isnt "$rc" 0 "mTLS registry rejects a client without certificate"
out=$(push_noise -q --repo mtls/app 1)
is "$(count_records "$out" tag)" 1 "push_noise pushes over mutual TLS"
registry_stop

# ---------------------------------------------------------------------------
diag "token auth"
registry_start --token-auth
like "$REG_TOKEN_URL" '^http://127\.0\.0\.1:[0-9]+/token$' "REG_TOKEN_URL exported"
challenge=$(reg_curl -o /dev/null -D - "$REG_URL/v2/" | tr -d '\r' | awk 'tolower($1) == "www-authenticate:"')
like "$challenge" "Bearer realm=\"$REG_TOKEN_URL\",service=\"regsweep-test\"" "registry challenges with the token realm"
out=$(push_noise -q --repo tok/app 2)
latest=$(last_tag "$out" tok/app latest)
is "$(count_records "$out" tag)" 2 "push_noise does the token dance"
is "$(token_requests)" 1 "one token request served the whole push"
body=$(curl -q -sS --noproxy '*' -u "$REG_USER:$REG_PASS" -G --data-urlencode service=regsweep-test \
	--data-urlencode 'scope=repository:tok/app:pull' --data-urlencode 'scope=registry:catalog:*' "$REG_TOKEN_URL")
token=$("$HARNESS_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["token"])' "$body")
is "$(jwt_claim "$token" '[d["iss"], d["aud"], d["sub"]]')" '["regsweep-test-issuer","regsweep-test","tester"]' \
	"token names issuer, audience (the service) and subject"
is "$(jwt_claim "$token" 'd["access"]')" \
	'[{"type":"repository","name":"tok/app","actions":["pull"]},{"type":"registry","name":"catalog","actions":["*"]}]' \
	"token grants the requested scopes"
is "$(jwt_claim "$token" 'd["exp"] - d["iat"]')" 300 "token lives 300 s by default"
like "$body" '"expires_in": 300' "token answer carries expires_in"
read -r status digest _ < <(reg_curl -H "Authorization: Bearer $token" -I -o /dev/null -D - -H "Accept: $ACCEPT_ALL" \
	"$REG_URL/v2/tok/app/manifests/latest" | awk '{ sub(/\r$/, "") } NR == 1 { s = $2 } tolower($1) == "docker-content-digest:" { d = $2 } END { print s, d }')
is "$status $digest" "200 $latest" "the token opens the repository"
like "$(reg_curl -H "Authorization: Bearer $token" "$REG_URL/v2/_catalog")" '"tok/app"' "the token opens the catalog"
is "$(curl -q -sS --noproxy '*' -o /dev/null -w '%{http_code}' -u "$REG_USER:nope" "$REG_TOKEN_URL?service=regsweep-test")" \
	401 "token server refuses a wrong password"
anon=$(curl -q -sS --noproxy '*' "$REG_TOKEN_URL?service=regsweep-test&scope=repository:tok/app:pull")
anon=$("$HARNESS_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["token"])' "$anon")
is "$(jwt_claim "$anon" 'd["access"]')" '[]' "anonymous token grants nothing"
is "$(http_status -H "Authorization: Bearer $anon" "$REG_URL/v2/tok/app/tags/list")" 401 \
	"registry refuses the anonymous token"
body=$(curl -q -sS --noproxy '*' --data-urlencode grant_type=password --data-urlencode "username=$REG_USER" \
	--data-urlencode "password=$REG_PASS" --data-urlencode service=regsweep-test \
	--data-urlencode client_id=harness --data-urlencode access_type=offline \
	--data-urlencode 'scope=repository:tok/app:pull' "$REG_TOKEN_URL")
refresh=$("$HARNESS_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["refresh_token"])' "$body")
like "$body" '"access_token": ' "OAuth2 password grant answers an access_token"
body=$(curl -q -sS --noproxy '*' --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$refresh" \
	--data-urlencode service=regsweep-test --data-urlencode client_id=harness \
	--data-urlencode 'scope=repository:tok/app:pull,delete' "$REG_TOKEN_URL")
token=$("$HARNESS_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["access_token"])' "$body")
is "$(jwt_claim "$token" 'd["access"][0]["actions"]')" '["pull","delete"]' "refresh grant issues a token"
is "$(http_status -X DELETE -H "Authorization: Bearer $token" "$REG_URL/v2/tok/app/manifests/$latest")" 202 \
	"a token with delete can delete"
is "$(token_requests)" 6 "token server counted every request"
unlike "$(cat "$REG_TOKEN_LOG")" "$REG_PASS" "token log never shows the password"
registry_stop

registry_start --token-auth --token-withhold-delete --token-ttl 2
out=$(push_noise -q --repo tok/held 1)
latest=$(last_tag "$out" tok/held latest)
body=$(curl -q -sS --noproxy '*' -u "$REG_USER:$REG_PASS" \
	"$REG_TOKEN_URL?service=regsweep-test&scope=repository:tok/held:pull,delete")
like "$body" '"expires_in": 2' "--token-ttl sets expires_in"
token=$("$HARNESS_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["token"])' "$body")
is "$(jwt_claim "$token" 'd["access"][0]["actions"]')" '["pull"]' "withheld delete is not granted"
headers=$(reg_curl -o /dev/null -D - -X DELETE -H "Authorization: Bearer $token" "$REG_URL/v2/tok/held/manifests/$latest" | tr -d '\r')
like "$headers" '^HTTP/1.1 401' "DELETE without the delete scope is 401"
like "$headers" 'error="insufficient_scope"' "... with error=\"insufficient_scope\""
like "$headers" 'scope="repository:tok/held:delete"' "... naming the delete scope"
expired=1
for ((i = 0; i < 50; i++)); do
	if [[ $(http_status -H "Authorization: Bearer $token" "$REG_URL/v2/tok/held/tags/list") == 401 ]]; then
		expired=0
		break
	fi
	sleep 0.2
done
ok "$expired" "a --token-ttl 2 token stops working within 10 s"
registry_stop

# ---------------------------------------------------------------------------
diag "sshd"
sshd_start
like "$SSH_TARGET" "^$(id -un)@127\\.0\\.0\\.1:[0-9]+\$" "SSH_TARGET is USER@127.0.0.1:PORT"
like "$(<"$SSH_KNOWN_HOSTS")" "^\\[127\\.0\\.0\\.1\\]:$SSH_PORT ssh-ed25519 [A-Za-z0-9+/=]+\$" "known_hosts line format"
ssh_opts=(-F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o GlobalKnownHostsFile=/dev/null
	-o StrictHostKeyChecking=yes -o ConnectTimeout=10 -p "$SSH_PORT")
check "sshd accepts the key with the right known_hosts" \
	ssh "${ssh_opts[@]}" -i "$SSH_KEY" -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" "$SSH_USER@127.0.0.1" true
is "$(ssh_run echo hello 2>/dev/null)" hello "ssh_run runs a command"
check_fails "ssh refuses a wrong known_hosts" \
	ssh "${ssh_opts[@]}" -i "$SSH_KEY" -o UserKnownHostsFile="$SSH_KNOWN_HOSTS_WRONG" "$SSH_USER@127.0.0.1" true
check "the passphrase opens SSH_KEY_PASS" ssh-keygen -y -P "$SSH_KEY_PASSPHRASE" -f "$SSH_KEY_PASS"
check_fails "SSH_KEY_PASS needs its passphrase" ssh-keygen -y -P '' -f "$SSH_KEY_PASS"
# shellcheck disable=SC2016 # expanded by the askpass script
printf '#!/bin/sh\nprintf "%%s\\n" "$SSH_KEY_PASSPHRASE"\n' >"$HARNESS_TMP/askpass"
chmod +x "$HARNESS_TMP/askpass"
check "sshd accepts the passphrase key" env SSH_ASKPASS="$HARNESS_TMP/askpass" SSH_ASKPASS_REQUIRE=force \
	DISPLAY=none ssh "${ssh_opts[@]/BatchMode=yes/BatchMode=no}" -i "$SSH_KEY_PASS" \
	-o UserKnownHostsFile="$SSH_KNOWN_HOSTS" "$SSH_USER@127.0.0.1" true
# shellcheck disable=SC2016 # expanded by the inner shell
check "sshd serves sftp" bash -c 'printf "pwd\n" | sftp -q -b - -F /dev/null -i "$SSH_KEY" -o BatchMode=yes \
	-o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes -P "$SSH_PORT" "$SSH_USER@127.0.0.1"'
sshd_stop
check "sshd was stopped" test ! -e "/proc/$SSH_PID/cmdline"

sshd_start --host-keys ecdsa,ed25519
like "$(<"$SSH_KNOWN_HOSTS")" "ecdsa-sha2-nistp256" "SSH_KNOWN_HOSTS holds the first host key type"
is "$(wc -l <"$SSH_KNOWN_HOSTS_ALL")" 2 "SSH_KNOWN_HOSTS_ALL holds every host key type"
check "sshd with two host keys accepts ssh" ssh_run true

tap_done
