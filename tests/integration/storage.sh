#!/usr/bin/env bash
# storage.sh: the storage view. Repeated pushes to one tag leave untagged
# manifests that only the storage lists; `regsweep stats` with --ssh (SFTP)
# or a local --storage-root counts them, and reports the blob store's real
# count and bytes on disk. Checked against the storage oracle and find(1).
# `apply --ssh` then deletes that history without touching the children of
# a tagged multi-arch index.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness/lib.sh"
harness_tmpdir
require_regsweep
# libssh2 1.10 leaks in ECDSA signing: keep --enable-asan runs about our code
# (the suppression needs full stacks through libcrypto)
export LSAN_OPTIONS="suppressions=$HARNESS_SRCDIR/tests/integration/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

json_field() {
	/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], "absent"))' "$1" "$2"
}

# the figures without the storage ones, to compare with the oracle
api_figures() {
	/usr/bin/python3 -c 'import json,sys
d = json.loads(sys.argv[1])
print(json.dumps({k: d[k] for k in ("repositories", "tags", "manifests", "blobs", "bytes")},
                 separators=(",", ":")))' "$1"
}

oracle() {
	/usr/bin/python3 "$HARNESS_DIR/expected-stats.py" "$REG_ROOT" "$@"
}

disk_blobs() {
	find "$REG_ROOT/docker/registry/v2/blobs" -name data -type f | wc -l
}

disk_bytes() {
	find "$REG_ROOT/docker/registry/v2/blobs" -name data -type f -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }'
}

ssh_args() {
	printf '%s\n' --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" --ssh-known-hosts "$SSH_KNOWN_HOSTS"
}

sshd_start || bail_out "cannot start sshd"
registry_start || bail_out "cannot start the registry"
mapfile -t SSH_ARGS < <(ssh_args)

# --- a registry that never had a push -------------------------------------
run "$REGSWEEP" stats --json -r "$REG_URL" "${SSH_ARGS[@]}" --storage-root "$REG_ROOT"
is "$RUN_STATUS" 0 "stats with the storage view works on an empty registry"
is "$(json_field "$RUN_STDOUT" storage_blobs)" 0 "an empty registry has no blobs on disk"

# --- the seed's experiment: many pushes to one tag ------------------------
noise=$(push_noise -q --repo noise --tag latest 6)
push_noise -q --repo team/app/web --oci --tag v1 3 >/dev/null
multi=$(push_noise -q --repo multi --index --tag v1 2)

run "$REGSWEEP" stats --json -r "$REG_URL"
is "$(json_field "$RUN_STDOUT" manifests)" 5 \
	"through the API only the tagged manifests (and the index's two children) are seen"
is "$(json_field "$RUN_STDOUT" storage_blobs)" absent "no storage figures without a storage view"

run "$REGSWEEP" stats --json -v -r "$REG_URL" "${SSH_ARGS[@]}" --storage-root "$REG_ROOT"
is "$RUN_STATUS" 0 "stats with --ssh and --storage-root succeeds"
diag "$(grep '^storage:' <<<"$RUN_STDERR")"
is "$(api_figures "$RUN_STDOUT")" "$(oracle --all)" \
	"with the storage view, every stored manifest counts (the oracle's --all figures)"
is "$(json_field "$RUN_STDOUT" manifests)" 15 \
	"5 + 2 untagged pushes and an untagged index with its two children are listed"
is "$(json_field "$RUN_STDOUT" storage_blobs)" "$(disk_blobs)" "blobs on disk, as find counts them"
is "$(json_field "$RUN_STDOUT" storage_bytes)" "$(disk_bytes)" "bytes on disk, as find sums them"
like "$RUN_STDERR" "storage: '$REG_ROOT' on $SSH_USER@127.0.0.1:$SSH_PORT: 3 repositories, 15 manifest revisions \\(10 not reached through tags\\)" \
	"the log says how many revisions no tag reaches"
sftp_json=$RUN_STDOUT

# --- where the storage is: from the registry's own config on the host -----
run "$REGSWEEP" stats --json -r "$REG_URL" "${SSH_ARGS[@]}" --registry-config "$REG_CONFIG"
is "$RUN_STATUS" 0 "the storage root can come from the registry's config file on the host"
is "$RUN_STDOUT" "$sftp_json" "the same figures as with --storage-root"

# --- the local filesystem, without SSH -------------------------------------
run "$REGSWEEP" stats --json -r "$REG_URL" --storage-root "$REG_ROOT"
is "$RUN_STATUS" 0 "a local --storage-root works without --ssh"
is "$RUN_STDOUT" "$sftp_json" "the local walk agrees with the SFTP one"

run "$REGSWEEP" stats -r "$REG_URL" --storage-root "$REG_ROOT"
like "$RUN_STDOUT" $'Blobs on disk: [0-9]+\nOn disk: [0-9.]+ KiB' "the text summary shows the disk figures"

# --- errors say what is wrong ----------------------------------------------
run "$REGSWEEP" stats -r "$REG_URL" "${SSH_ARGS[@]}" --storage-root "$HARNESS_TMP"
isnt "$RUN_STATUS" 0 "a directory that is not a storage root is refused"
like "$RUN_STDERR" "is not a registry's storage root" "and the message says why"

run "$REGSWEEP" stats -r "$REG_URL" "${SSH_ARGS[@]}" --registry-config "$HARNESS_TMP/nope.yml"
is "$RUN_STATUS" 2 "a missing registry config file is a usage error"
like "$RUN_STDERR" "nope.yml' does not exist on" "naming the file"

printf 'storage:\n  azure: {container: b}\n' >"$HARNESS_TMP/azure.yml"
run "$REGSWEEP" stats -r "$REG_URL" --registry-config "$HARNESS_TMP/azure.yml"
is "$RUN_STATUS" 2 "a registry on a storage driver the view cannot read is refused"
like "$RUN_STDERR" "uses the 'azure' storage driver" "naming the driver"

# (the s3 driver is read: tests/integration/s3.sh) but a config must say where
printf 'storage:\n  s3: {bucket: b}\n' >"$HARNESS_TMP/s3.yml"
run "$REGSWEEP" stats -r "$REG_URL" --registry-config "$HARNESS_TMP/s3.yml"
is "$RUN_STATUS" 2 "an s3 config without a region or an endpoint is a usage error"
like "$RUN_STDERR" "names no storage.s3.region: give --s3-region REGION" "saying what to add"

run "$REGSWEEP" stats -r "$REG_URL" --ssh "$SSH_TARGET" --ssh-key "$SSH_KEY" \
	--ssh-known-hosts "$SSH_KNOWN_HOSTS_WRONG" --storage-root "$REG_ROOT"
isnt "$RUN_STATUS" 0 "the storage view refuses a host whose key changed"
like "$RUN_STDERR" "has CHANGED" "loudly"

# --- the planner removes what the storage view found, index-safely ---------
# The second push to multi:v1 left the first index and its two children
# untagged; the tagged index's children are untagged too, but needed.
mapfile -t multi_manifests < <(awk '$1 == "manifest" { print $3 }' <<<"$multi")
old_index=${multi_manifests[2]} new_index=${multi_manifests[5]}
old_children=("${multi_manifests[0]}" "${multi_manifests[1]}")
new_children=("${multi_manifests[3]}" "${multi_manifests[4]}")
is "$(awk '$1 == "tag" { d = $4 } END { print d }' <<<"$multi")" "$new_index" \
	"multi:v1 names the second index"
noise_current=$(awk '$1 == "tag" { d = $4 } END { print d }' <<<"$noise")
mapfile -t noise_untagged < <(awk -v cur="$noise_current" '$1 == "manifest" && $3 != cur { print $3 }' <<<"$noise")

manifest_code() {
	reg_curl -o /dev/null -w '%{http_code}' -I \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"$REG_URL/v2/$1/manifests/$2"
}

run "$REGSWEEP" apply -r "$REG_URL" "${SSH_ARGS[@]}" --storage-root "$REG_ROOT" \
	--untagged-grace 0s --backup-dir "$HARNESS_TMP/backup"
is "$RUN_STATUS" 0 "apply with --ssh deletes the untagged history the storage view lists"
like "$RUN_STDOUT$RUN_STDERR" "apply: 10 deleted, 0 already gone, 0 skipped, 0 failed" \
	"5 + 2 untagged pushes and the old index with its two children"
gone=0
for d in "${noise_untagged[@]}"; do
	[[ $(manifest_code noise "$d") == 404 ]] && gone=$((gone + 1))
done
is "$gone" 5 "noise's history is gone"
is "$(manifest_code noise latest)" 200 "noise:latest stays"
is "$(manifest_code multi v1)" 200 "the tagged index stays"
is "$(manifest_code multi "${new_children[0]}") $(manifest_code multi "${new_children[1]}")" "200 200" \
	"and so do its children, untagged as they are"
is "$(manifest_code multi "$old_index")" 404 "the untagged index is gone"
is "$(manifest_code multi "${old_children[0]}") $(manifest_code multi "${old_children[1]}")" "404 404" \
	"with the children only it needed"
run "$REGSWEEP" stats --json -v -r "$REG_URL" "${SSH_ARGS[@]}" --storage-root "$REG_ROOT"
is "$RUN_STATUS" 0 "stats after apply succeeds" || true
[[ $TAP_LAST -eq 0 ]] || diag "$RUN_STDERR"
is "$(json_field "$RUN_STDOUT" manifests)" 5 "the storage now holds only what tags reach"
like "$RUN_STDERR" "5 manifest revisions \\(0 not reached through tags\\)" "nothing untagged is left"
is "$(json_field "$RUN_STDOUT" storage_blobs)" "$(disk_blobs)" \
	"the blobs stay on disk until garbage collection"

tap_done
