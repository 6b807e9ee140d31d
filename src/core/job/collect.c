/* collect.c: garbage collection as a job (see job/collect.h). */
#include "job/collect.h"
#include "job/inventory.h"
#include "base/error.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does repository `repo` tag `digest`? */
static int tagged(const struct rs_repo *repo, const char *digest)
{
	for (size_t t = 0; t < repo->ntags; t++)
		if (strcmp(repo->tags[t].digest, digest) == 0)
			return 1;
	return 0;
}

int rs_collect_check_delete_untagged(const struct rs_inventory *inv, int major)
{
	if (major >= 3 && !inv->from_storage)
		return rs_error_set(RS_EUSAGE, "refusing --delete-untagged: on distribution 3.x it "
				    "deletes untagged OCI referrers (signatures, SBOMs pushed by digest) "
				    "whose subject is kept, and only the storage view lists them: give "
				    "--storage-root DIR or --registry-config FILE");
	for (size_t r = 0; r < inv->nrepos; r++) {
		const struct rs_repo *repo = inv->repos[r];

		if (repo->failed)
			return rs_error_set(RS_EUSAGE, "refusing --delete-untagged: the scan could not "
					    "read all of '%s', so it cannot rule out %s there", repo->name,
					    major >= 3 ? "untagged referrers" : "multi-arch images");
		for (size_t m = 0; m < repo->nmanifests; m++) {
			const struct rs_manifest *man = repo->manifests[m];

			if (major >= 3) {
				/* 3.x marks an index's children, but knows nothing of subjects */
				if (!man->subject[0] || tagged(repo, man->digest) ||
				    !rs_repo_find_manifest(repo, man->subject))
					continue;
				return rs_error_set(RS_EUSAGE,
						    "refusing --delete-untagged: '%s' holds the untagged "
						    "referrer '%s' of '%s', and garbage-collect "
						    "--delete-untagged on distribution 3.x deletes it although "
						    "its subject stays; remove untagged history with 'regsweep "
						    "apply' instead, which keeps the referrers of what it keeps",
						    repo->name, man->digest, man->subject);
			}
			if (!rs_media_type_is_index(man->type))
				continue;
			return rs_error_set(RS_EUSAGE,
					    "refusing --delete-untagged: '%s' holds the multi-arch "
					    "index '%s', and garbage-collect --delete-untagged on "
					    "distribution 2.x deletes the children of tagged indexes "
					    "(their images stop pulling; fixed only in 3.0); remove "
					    "untagged history with 'regsweep apply' instead, which "
					    "keeps what indexes need", repo->name, man->digest);
		}
	}
	return 0;
}

/* The registry read for the check, when the caller had no inventory:
 * through the API, and through the storage view when one is named (3.x
 * needs it to see untagged referrers). */
static int check_delete_untagged(const struct rs_collect_options *opts,
				 const struct rs_storage_location *loc, int major)
{
	struct rs_scan_options scan = RS_SCAN_OPTIONS_INIT;
	struct rs_job_read read = {opts->reg, &scan, NULL, 0, 0};
	struct rs_job_storage_figures figures;
	struct rs_inventory *scanned = NULL;
	int rc = 0;

	if (opts->inv)
		return rs_collect_check_delete_untagged(opts->inv, major);
	rs_log(RS_LOG_INFO, "gc: reading the registry for what --delete-untagged would take");
	if ((loc->root && *loc->root) || (loc->registry_config && *loc->registry_config))
		rc = rs_storage_open(&read.storage, loc);
	if (rc == 0)
		rc = rs_job_inventory(&scanned, &figures, &read);
	if (rc == RS_EPARTIAL)
		rc = rs_error_set(RS_EUSAGE, "refusing --delete-untagged: the registry could not be "
				  "read completely (%s)", rs_error_message());
	if (rc == 0)
		rc = rs_collect_check_delete_untagged(scanned, major);
	rs_inventory_free(scanned);
	rs_storage_free(read.storage);
	return rc;
}

/* What the garbage-collect command's program says of its version: the GC
 * command with everything from " garbage-collect" on replaced by
 * "--version", run by the remote user's shell as the GC command is. *out
 * is the version ("v3.0.0", "2.8.2+ds1"; the caller's), NULL when it
 * cannot be told; *major its first number, 0 when unknown. */
struct version_read {
	char first[256];
};

static int on_version_line(enum rs_ssh_stream stream, const char *line, size_t len, void *ud)
{
	struct version_read *v = ud;

	(void)stream;
	if (!v->first[0] && len)
		snprintf(v->first, sizeof(v->first), "%.*s", (int)len, line);
	return 0;
}

static void registry_version(struct rs_ssh *ssh, const char *gc_command, long timeout_ms,
			     char **out, int *major)
{
	static const char script[] =
		"# regsweep: the version of the registry program that collects garbage\n"
		"\"${SHELL:-/bin/sh}\" -c \"$1 --version\" </dev/null 2>&1 | head -n 1\n";
	struct rs_ssh_exec_options opts = RS_SSH_EXEC_OPTIONS_INIT;
	struct version_read v = {""};
	struct rs_ssh_exit exit;
	const char *gc = gc_command ? strstr(gc_command, " garbage-collect") : NULL;
	char *program, *tok, *save = NULL;
	const char *argv[1];

	*out = NULL;
	*major = 0;
	if (!gc || gc == gc_command)
		return;
	program = strndup(gc_command, (size_t)(gc - gc_command));
	if (!program)
		return;
	argv[0] = program;
	opts.on_line = on_version_line;
	opts.userdata = &v;
	opts.timeout_ms = timeout_ms > 0 && timeout_ms < 60000 ? timeout_ms : 60000;
	if (rs_ssh_script(ssh, script, argv, 1, &opts, &exit) < 0) {
		rs_log(RS_LOG_VERBOSE, "gc: the registry's version is unknown: %s", rs_error_message());
		rs_error_clear();
	}
	free(program);
	/* "registry github.com/distribution/distribution/v3 v3.0.0" or
	 * "docker-registry github.com/docker/distribution 2.8.2+ds1" */
	for (tok = strtok_r(v.first, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		const char *d = tok[0] == 'v' ? tok + 1 : tok;

		if (d[0] >= '0' && d[0] <= '9' && strchr(d, '.') && !strchr(tok, '/')) {
			*out = strdup(tok);
			*major = atoi(d);
		}
	}
	if (*out)
		rs_log(RS_LOG_VERBOSE, "gc: the registry program is version %s", *out);
}

/* The blob store's count and bytes. */
static int measure(const struct rs_storage_location *loc, int64_t *blobs, int64_t *bytes)
{
	struct rs_storage *st = NULL;
	struct rs_storage_view *view = NULL;
	int rc = rs_storage_open(&st, loc);

	if (rc == 0)
		rc = rs_storage_read(&view, st, RS_STORAGE_BLOBS);
	if (rc == 0) {
		*blobs = view->blobs;
		*bytes = view->bytes;
	}
	rs_storage_view_free(view);
	rs_storage_free(st);
	return rc;
}

int rs_collect_run(struct rs_collect *out, const struct rs_collect_options *opts)
{
	struct rs_storage_location loc = opts->storage;
	struct rs_ssh *ssh = NULL;
	int rc, measured;

	memset(out, 0, sizeof(*out));
	rs_gc_result_init(&out->result, "");
	out->dry_run = opts->gc.dry_run;
	out->blobs_before = out->bytes_before = out->blobs_after = out->bytes_after = -1;
	rc = rs_gc_validate(&opts->gc);
	if (rc == 0 && opts->gc.delete_untagged && !opts->inv && !opts->reg)
		rc = rs_error_set(RS_EUSAGE, "--delete-untagged needs -r URL: regsweep first checks "
				  "that garbage-collect --delete-untagged would take nothing a kept "
				  "image needs (the children of multi-arch indexes on 2.x, the "
				  "referrers of kept images on 3.x)");
	if (rc < 0)
		return rc;
	if (!opts->gc.dry_run && !(opts->gc.before && *opts->gc.before))
		rs_log(RS_LOG_WARN, "warning: no --before-gc command: garbage-collect runs while the "
		       "registry accepts pushes, and a push during GC can lose blobs; make it "
		       "read-only or stop it with --before-gc, and restore it with --after-gc");
	rc = rs_ssh_connect(&ssh, opts->ssh);
	if (rc < 0)
		return rc;
	out->host = strdup(rs_ssh_describe(ssh));
	if (!out->host) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	loc.ssh = ssh;
	registry_version(ssh, opts->gc.gc_command, opts->gc.timeout_ms, &out->registry_version,
			 &out->registry_major);
	if (opts->gc.delete_untagged) {
		rc = check_delete_untagged(opts, &loc, out->registry_major);
		if (rc < 0)
			goto done;
	}
	measured = (loc.root && *loc.root) || (loc.registry_config && *loc.registry_config);
	if (measured) {
		rc = measure(&loc, &out->blobs_before, &out->bytes_before);
		if (rc < 0)
			goto done;
	}
	rc = rs_gc_run(&out->result, ssh, &opts->gc);
	if (rc == 0 && measured && !opts->gc.dry_run) {
		rc = measure(&loc, &out->blobs_after, &out->bytes_after);
		if (rc < 0)
			rs_error_prefix("garbage collection done, but measuring the storage failed: ");
	}
done:
	rs_ssh_free(ssh);
	return rc;
}

void rs_collect_release(struct rs_collect *c)
{
	free(c->host);
	free(c->registry_version);
	c->host = NULL;
	c->registry_version = NULL;
}

int rs_collect_started(const struct rs_collect *c)
{
	return c->host && c->result.id[0];
}
