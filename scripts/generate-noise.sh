#!/usr/bin/env bash
# generate-noise.sh: push throw-away images to a registry through the v2 blob
# upload and manifest API, so that regsweep has something to clean up.
# Prints one machine-readable record per uploaded object on stdout (see usage).
set -euo pipefail

PROG=generate-noise.sh

usage() {
	cat <<'EOF'
Usage: generate-noise.sh [options] COUNT

Makes COUNT pushes to one tag, so COUNT pushes leave COUNT-1 untagged
manifests behind (with --distinct-tags, every push keeps its own tag).

  -r, --registry URL      registry base URL (default $REGSWEEP_REGISTRY,
                          else http://127.0.0.1:5000)
      --repo NAME         repository (default noise)
      --tag TAG           tag to push to (default latest)
      --distinct-tags P   push i goes to tag P<i>, i from 1
      --docker            Docker schema 2 media types (default)
      --oci               OCI media types
      --index             each push is a multi-arch index (manifest list) of
                          linux/amd64 and linux/arm64 images pushed by digest
      --layers K          random layers per image (default 2)
      --layer-size BYTES  size of each random layer (default 1024)
      --base-layer        add a first layer with the same bytes in every push
                          and every repository (4096 bytes from a fixed seed)
      --seed STRING       derive all random bytes from STRING (reproducible)
      --created RFC3339   config "created" of push i is RFC3339 + i*step;
                          "none" leaves the field out (default: the clock at
                          each push, with nanoseconds)
      --created-step SECS step for --created (default 0)
      --sign              after each push, a cosign-style signature manifest
                          tagged sha256-<HEX>.sig in the same repository
      --referrer          after each push, an OCI 1.1 artifact manifest with
                          a subject naming the push, pushed by digest only
  -u, --username USER     basic credentials; password from $REGSWEEP_PASSWORD
                          (default user $REGSWEEP_USERNAME); also used at the
                          token realm when the registry asks for a Bearer token
      --cacert FILE       CA bundle for https
      --cert FILE         client certificate (with --key) for mutual TLS
      --key FILE          client key
      --token TOKEN       send "Authorization: Bearer TOKEN"
  -q, --quiet             no progress on stderr
  -h, --help              this text

Output, one record per line on stdout:
  blob DIGEST SIZE                       every blob uploaded (configs, layers)
  manifest REPO DIGEST MEDIATYPE SIZE    every manifest pushed (children,
                                         signatures and referrers included)
  tag REPO TAG DIGEST                    every tag put
EOF
}

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

progress() {
	if [[ $quiet -eq 0 ]]; then
		printf '%s: %s\n' "$PROG" "$*" >&2
	fi
}

readonly MT_DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
readonly MT_DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
readonly MT_DOCKER_CONFIG=application/vnd.docker.container.image.v1+json
readonly MT_DOCKER_LAYER=application/vnd.docker.image.rootfs.diff.tar.gzip
readonly MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
readonly MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
readonly MT_OCI_CONFIG=application/vnd.oci.image.config.v1+json
readonly MT_OCI_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
readonly MT_OCI_EMPTY=application/vnd.oci.empty.v1+json
readonly MT_COSIGN_PAYLOAD=application/vnd.dev.cosign.simplesigning.v1+json
readonly ARTIFACT_TYPE_SBOM=application/vnd.example.sbom
readonly MT_SBOM_LAYER=application/spdx+json
readonly BASE_LAYER_SEED=regsweep-noise-base-layer-v1
readonly BASE_LAYER_SIZE=4096

registry=${REGSWEEP_REGISTRY:-http://127.0.0.1:5000}
repo=noise
tag=latest
tag_prefix=
kind=docker
index=0
layers=2
layer_size=1024
base_layer=0
seed=
created=
created_step=0
sign=0
referrer=0
username=${REGSWEEP_USERNAME:-}
cacert=
cert=
key=
token=
quiet=0
count=

is_uint() {
	[[ $1 =~ ^[0-9]+$ ]]
}

parse_args() {
	local opt value
	while [[ $# -gt 0 ]]; do
		opt=$1
		value=
		if [[ $opt == --*=* ]]; then
			value=${opt#*=}
			opt=${opt%%=*}
			set -- "$opt" "$value" "${@:2}"
		fi
		case $opt in
		-r | --registry | --repo | --tag | --distinct-tags | --layers | --layer-size | \
			--seed | --created | --created-step | -u | --username | --cacert | --cert | \
			--key | --token)
			[[ $# -ge 2 ]] || die "option $opt needs a value"
			value=$2
			shift 2
			;;
		*)
			shift
			;;
		esac
		case $opt in
		-r | --registry) registry=$value ;;
		--repo) repo=$value ;;
		--tag) tag=$value ;;
		--distinct-tags) tag_prefix=$value ;;
		--docker) kind=docker ;;
		--oci) kind=oci ;;
		--index) index=1 ;;
		--layers) layers=$value ;;
		--layer-size) layer_size=$value ;;
		--base-layer) base_layer=1 ;;
		--seed) seed=$value ;;
		--created) created=$value ;;
		--created-step) created_step=$value ;;
		--sign) sign=1 ;;
		--referrer) referrer=1 ;;
		-u | --username) username=$value ;;
		--cacert) cacert=$value ;;
		--cert) cert=$value ;;
		--key) key=$value ;;
		--token) token=$value ;;
		-q | --quiet) quiet=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			break
			;;
		-*) die "unknown option '$opt' (see --help)" ;;
		*)
			[[ -z $count ]] || die "unexpected argument '$opt'"
			count=$opt
			;;
		esac
	done
	if [[ $# -gt 0 && -z $count ]]; then
		count=$1
	fi

	[[ -n $count ]] || die "missing COUNT (see --help)"
	if ! is_uint "$count" || [[ $count -lt 1 ]]; then
		die "COUNT must be a positive integer, not '$count'"
	fi
	is_uint "$layers" || die "--layers must be a non-negative integer, not '$layers'"
	is_uint "$layer_size" || die "--layer-size must be a non-negative integer, not '$layer_size'"
	[[ $created_step =~ ^-?[0-9]+$ ]] || die "--created-step must be an integer, not '$created_step'"
	[[ $repo =~ ^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$ ]] ||
		die "invalid repository name '$repo'"
	if [[ -n $created && $created != none ]]; then
		created_epoch=$(date -u -d "$created" +%s 2>/dev/null) ||
			die "cannot parse --created '$created' (want RFC 3339, e.g. 2024-01-31T12:00:00Z)"
	fi
	[[ -z $cert && -z $key ]] || [[ -n $cert && -n $key ]] || die "--cert and --key go together"
	local f
	for f in "$cacert" "$cert" "$key"; do
		[[ -z $f || -r $f ]] || die "cannot read '$f'"
	done
	case $registry in
	http://* | https://*) ;;
	*) registry=http://$registry ;;
	esac
	registry=${registry%/}
	registry_origin=$(printf '%s' "$registry" | sed -E 's#^(https?://[^/]+).*#\1#')
	registry_host=${registry_origin#*://}
}

# curl reads its options from a file, so credentials never show in ps.
curl_quote() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

write_curl_configs() {
	local tls=
	[[ -z $cacert ]] || tls+="cacert = $(curl_quote "$cacert")"$'\n'
	[[ -z $cert ]] || tls+="cert = $(curl_quote "$cert")"$'\n'
	[[ -z $key ]] || tls+="key = $(curl_quote "$key")"$'\n'
	local common="silent"$'\n'"show-error"$'\n'"connect-timeout = 10"$'\n'"max-time = 120"$'\n'"$tls"
	local userline=
	if [[ -n $username ]]; then
		userline="user = $(curl_quote "$username:${REGSWEEP_PASSWORD:-}")"$'\n'
	fi
	(
		umask 077
		if [[ -n $token ]]; then
			printf '%sheader = %s\n' "$common" "$(curl_quote "Authorization: Bearer $token")" >"$work/registry.curlrc"
		else
			printf '%s%s' "$common" "$userline" >"$work/registry.curlrc"
		fi
		printf '%s%s' "$common" "$userline" >"$work/realm.curlrc"
	)
}

# header NAME: the value of a response header of the last request.
header() {
	awk -v want="${1,,}" '
		{ sub(/\r$/, "") }
		index($0, ":") > 0 {
			name = tolower(substr($0, 1, index($0, ":") - 1))
			if (name == want) { v = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", v); print v; exit }
		}' "$work/headers"
}

challenge_param() {
	local challenge=$1 name=$2 re
	re="$name=\"([^\"]*)\""
	if [[ $challenge =~ $re ]]; then
		printf '%s' "${BASH_REMATCH[1]}"
	fi
}

# On a Bearer challenge, ask the realm for a push/pull token for $repo.
fetch_token() {
	local challenge realm service url status body re
	challenge=$(header WWW-Authenticate)
	[[ $challenge == [Bb]earer* ]] || return 1
	realm=$(challenge_param "$challenge" realm)
	service=$(challenge_param "$challenge" service)
	[[ -n $realm ]] || die "Bearer challenge without realm: $challenge"
	url=$realm
	status=$(curl -K "$work/realm.curlrc" -G -o "$work/token.json" -w '%{http_code}' \
		--data-urlencode "service=$service" \
		--data-urlencode "scope=repository:$repo:pull,push" "$url") ||
		die "token request to $realm failed"
	[[ $status == 200 ]] || die "token request to $realm: HTTP $status: $(head -c 300 "$work/token.json")"
	body=$(<"$work/token.json")
	re='"(access_)?token"[[:space:]]*:[[:space:]]*"([^"]+)"'
	[[ $body =~ $re ]] || die "no token in the answer of $realm"
	token=${BASH_REMATCH[2]}
	write_curl_configs
	progress "got a Bearer token from $realm"
}

# request METHOD URL EXPECTED_STATUS [curl args...]
# Body in $work/body, headers in $work/headers; dies on another status.
request() {
	local method=$1 url=$2 expect=$3 attempt status
	shift 3
	for attempt in 1 2; do
		status=$(curl -K "$work/registry.curlrc" -X "$method" -o "$work/body" -D "$work/headers" \
			-w '%{http_code}' "$@" "$url") || die "$method $url: curl failed"
		if [[ $status == 401 && $attempt == 1 ]] && fetch_token; then
			continue
		fi
		break
	done
	if [[ $status != "$expect" ]]; then
		die "$method $url: HTTP $status, expected $expect: $(head -c 500 "$work/body" | tr -d '\r' | tr '\n' ' ')"
	fi
}

sha256_hex() {
	local hex _
	read -r hex _ < <(sha256sum "$1")
	printf '%s' "$hex"
}

file_size() {
	stat -c %s "$1"
}

# random_bytes FILE SIZE LABEL: /dev/urandom, or AES-CTR keyed by seed and label.
random_bytes() {
	local file=$1 size=$2 label=$3
	if [[ -n $seed ]]; then
		head -c "$size" /dev/zero |
			openssl enc -aes-256-ctr -nosalt -pbkdf2 -iter 1 -pass "pass:$seed/$label" >"$file"
	else
		head -c "$size" /dev/urandom >"$file"
	fi
}

# upload_blob FILE: monolithic upload (POST, then PUT with the digest); sets BLOB_DIGEST, BLOB_SIZE.
upload_blob() {
	local file=$1 hex location sep
	hex=$(sha256_hex "$file")
	BLOB_DIGEST=sha256:$hex
	BLOB_SIZE=$(file_size "$file")
	request POST "$registry/v2/$repo/blobs/uploads/" 202 -H 'Content-Length: 0'
	location=$(header Location)
	[[ -n $location ]] || die "POST $registry/v2/$repo/blobs/uploads/: no Location header"
	if [[ $location == /* ]]; then
		location=$registry_origin$location
	fi
	sep='?'
	[[ $location != *\?* ]] || sep='&'
	request PUT "$location${sep}digest=sha256%3A$hex" 201 \
		-H 'Content-Type: application/octet-stream' -H 'Expect:' -T "$file"
	printf 'blob %s %s\n' "$BLOB_DIGEST" "$BLOB_SIZE"
}

# push_manifest FILE MEDIATYPE [TAG]: PUT by tag, or by its own digest without one.
# Sets MANIFEST_DIGEST and MANIFEST_SIZE.
push_manifest() {
	local file=$1 mediatype=$2 ref_tag=${3:-} hex ref answered
	hex=$(sha256_hex "$file")
	MANIFEST_DIGEST=sha256:$hex
	MANIFEST_SIZE=$(file_size "$file")
	ref=${ref_tag:-$MANIFEST_DIGEST}
	request PUT "$registry/v2/$repo/manifests/$ref" 201 \
		-H "Content-Type: $mediatype" -H 'Expect:' --data-binary "@$file"
	answered=$(header Docker-Content-Digest)
	if [[ -n $answered && $answered != "$MANIFEST_DIGEST" ]]; then
		die "PUT manifest $repo:$ref: registry says $answered, sent $MANIFEST_DIGEST"
	fi
	printf 'manifest %s %s %s %s\n' "$repo" "$MANIFEST_DIGEST" "$mediatype" "$MANIFEST_SIZE"
	if [[ -n $ref_tag ]]; then
		printf 'tag %s %s %s\n' "$repo" "$ref_tag" "$MANIFEST_DIGEST"
	fi
}

# created_for PUSH: the config's "created" value for push i, or empty for none.
created_for() {
	local i=$1
	if [[ $created == none ]]; then
		return 0
	elif [[ -n $created ]]; then
		date -u -d "@$((created_epoch + i * created_step))" +%Y-%m-%dT%H:%M:%SZ
	else
		date -u +%Y-%m-%dT%H:%M:%S.%NZ
	fi
}

descriptor() {
	printf '{"mediaType":"%s","size":%s,"digest":"%s"}' "$1" "$2" "$3"
}

# push_image PUSH ARCH VARIANT [TAG]: layers, config and manifest of one image.
push_image() {
	local i=$1 arch=$2 variant=$3 ref_tag=${4:-}
	local layer_mt config_mt manifest_mt k file diff_ids="" layer_descs="" when config
	if [[ $kind == oci ]]; then
		layer_mt=$MT_OCI_LAYER config_mt=$MT_OCI_CONFIG manifest_mt=$MT_OCI_MANIFEST
	else
		layer_mt=$MT_DOCKER_LAYER config_mt=$MT_DOCKER_CONFIG manifest_mt=$MT_DOCKER_MANIFEST
	fi
	if [[ $base_layer -eq 1 ]]; then
		upload_blob "$work/base-layer"
		diff_ids+="\"$BLOB_DIGEST\","
		layer_descs+="$(descriptor "$layer_mt" "$BLOB_SIZE" "$BLOB_DIGEST"),"
	fi
	for ((k = 1; k <= layers; k++)); do
		file=$work/layer-$i-$arch-$k
		random_bytes "$file" "$layer_size" "$repo/$i/$arch/$k"
		upload_blob "$file"
		rm -f "$file"
		# The layers stand for gzip data whose uncompressed form is itself.
		diff_ids+="\"$BLOB_DIGEST\","
		layer_descs+="$(descriptor "$layer_mt" "$BLOB_SIZE" "$BLOB_DIGEST"),"
	done
	diff_ids=${diff_ids%,}
	layer_descs=${layer_descs%,}

	when=$(created_for "$i")
	config="{\"architecture\":\"$arch\",\"os\":\"linux\""
	[[ -z $variant ]] || config+=",\"variant\":\"$variant\""
	[[ -z $when ]] || config+=",\"created\":\"$when\""
	config+=",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_ids]}"
	config+=",\"config\":{\"Labels\":{\"org.example.noise.push\":\"$i\",\"org.example.noise.run\":\"$run_id\"}}}"
	printf '%s' "$config" >"$work/config"
	upload_blob "$work/config"

	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' \
		"$manifest_mt" "$(descriptor "$config_mt" "$BLOB_SIZE" "$BLOB_DIGEST")" "$layer_descs" \
		>"$work/manifest-$i-$arch"
	push_manifest "$work/manifest-$i-$arch" "$manifest_mt" "$ref_tag"
	PUSHED_MEDIATYPE=$manifest_mt
}

# push_index PUSH TAG: two platform images by digest, then the index at TAG.
push_index() {
	local i=$1 ref_tag=$2 index_mt child_mt amd64 arm64
	if [[ $kind == oci ]]; then
		index_mt=$MT_OCI_INDEX child_mt=$MT_OCI_MANIFEST
	else
		index_mt=$MT_DOCKER_LIST child_mt=$MT_DOCKER_MANIFEST
	fi
	push_image "$i" amd64 ""
	amd64="{\"mediaType\":\"$child_mt\",\"size\":$MANIFEST_SIZE,\"digest\":\"$MANIFEST_DIGEST\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
	push_image "$i" arm64 v8
	arm64="{\"mediaType\":\"$child_mt\",\"size\":$MANIFEST_SIZE,\"digest\":\"$MANIFEST_DIGEST\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}"
	printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s,%s]}' \
		"$index_mt" "$amd64" "$arm64" >"$work/index-$i"
	push_manifest "$work/index-$i" "$index_mt" "$ref_tag"
	PUSHED_MEDIATYPE=$index_mt
}

# push_signature DIGEST: what cosign stores for a signed image, tagged sha256-HEX.sig.
push_signature() {
	local subject=$1 payload_digest payload_size annotation
	printf '{"critical":{"identity":{"docker-reference":"%s/%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":{"org.example.noise.run":"%s"}}' \
		"$registry_host" "$repo" "$subject" "$run_id" >"$work/sig-payload"
	upload_blob "$work/sig-payload"
	payload_digest=$BLOB_DIGEST payload_size=$BLOB_SIZE
	# Not a real signature: tests only need the shape.
	annotation=$(printf 'not-a-signature:%s' "$payload_digest" | base64 -w0)
	printf '{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["%s"]},"config":{}}' \
		"$payload_digest" >"$work/sig-config"
	upload_blob "$work/sig-config"
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[{"mediaType":"%s","size":%s,"digest":"%s","annotations":{"dev.cosignproject.cosign/signature":"%s"}}]}' \
		"$MT_OCI_MANIFEST" "$(descriptor "$MT_OCI_CONFIG" "$BLOB_SIZE" "$BLOB_DIGEST")" \
		"$MT_COSIGN_PAYLOAD" "$payload_size" "$payload_digest" "$annotation" >"$work/sig-manifest"
	push_manifest "$work/sig-manifest" "$MT_OCI_MANIFEST" "sha256-${subject#sha256:}.sig"
}

# push_referrer DIGEST MEDIATYPE SIZE: an OCI 1.1 artifact whose subject is that manifest.
push_referrer() {
	local subject=$1 subject_mt=$2 subject_size=$3 layer_desc
	printf '{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"%s@%s","documentNamespace":"https://example.org/noise/%s","packages":[]}' \
		"$repo" "$subject" "$run_id" >"$work/sbom"
	upload_blob "$work/sbom"
	layer_desc=$(descriptor "$MT_SBOM_LAYER" "$BLOB_SIZE" "$BLOB_DIGEST")
	printf '{}' >"$work/empty"
	upload_blob "$work/empty"
	printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":%s,"layers":[%s],"subject":%s}' \
		"$MT_OCI_MANIFEST" "$ARTIFACT_TYPE_SBOM" "$(descriptor "$MT_OCI_EMPTY" "$BLOB_SIZE" "$BLOB_DIGEST")" \
		"$layer_desc" "$(descriptor "$subject_mt" "$subject_size" "$subject")" >"$work/referrer"
	push_manifest "$work/referrer" "$MT_OCI_MANIFEST"
}

main() {
	parse_args "$@"
	work=$(mktemp -d "${TMPDIR:-/tmp}/generate-noise.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	if [[ -n $seed ]]; then
		run_id=$(printf '%s' "$seed" | sha256sum | cut -c1-16)
	else
		run_id=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
	fi
	write_curl_configs
	if [[ $base_layer -eq 1 ]]; then
		seed=$BASE_LAYER_SEED random_bytes "$work/base-layer" "$BASE_LAYER_SIZE" base
	fi

	local i push_tag top_digest top_mt top_size
	for ((i = 1; i <= count; i++)); do
		push_tag=$tag
		[[ -z $tag_prefix ]] || push_tag=$tag_prefix$i
		if [[ $index -eq 1 ]]; then
			push_index "$i" "$push_tag"
		else
			push_image "$i" amd64 "" "$push_tag"
		fi
		top_digest=$MANIFEST_DIGEST top_mt=$PUSHED_MEDIATYPE top_size=$MANIFEST_SIZE
		progress "push $i/$count: $repo:$push_tag -> $top_digest"
		if [[ $sign -eq 1 ]]; then
			push_signature "$top_digest"
		fi
		if [[ $referrer -eq 1 ]]; then
			push_referrer "$top_digest" "$top_mt" "$top_size"
		fi
	done
}

main "$@"
