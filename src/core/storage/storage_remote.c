/* storage_remote.c: the storage view from one `find` on the registry host. */
#include "storage/storage_remote.h"
#include "base/error.h"
#include "base/shell.h"
#include "model/manifest.h"
#include "base/map.h"
#include "host/ssh.h"
#include "base/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 50000000ULL

struct remote_view {
	struct rs_storage_view *view;
	struct rs_map repos;       /* name -> the view's copy of it */
	size_t repos_cap, manifests_cap;
	int state;                 /* 0 running, 1 no root, 2 not a registry, 3 done */
};

static const char *view_repo(struct remote_view *rv, const char *name, size_t len, int *rc)
{
	struct rs_storage_view *v = rv->view;
	char buf[512];
	char *known, *copy;

	*rc = 0;
	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (!rs_valid_repo_name(buf))
		return NULL;   /* not a repository name: skipped, as the walk does */
	known = rs_map_get(&rv->repos, buf);
	if (known)
		return known;
	if (v->nrepos == rv->repos_cap) {
		size_t cap = rv->repos_cap ? rv->repos_cap * 2 : 16;
		char **grown = realloc(v->repos, cap * sizeof(*grown));

		if (!grown) {
			*rc = rs_error_set(RS_ERROR, "out of memory");
			return NULL;
		}
		v->repos = grown;
		rv->repos_cap = cap;
	}
	copy = strdup(buf);
	if (!copy || rs_map_put(&rv->repos, buf, copy) < 0) {
		free(copy);
		*rc = rs_error_set(RS_ERROR, "out of memory");
		return NULL;
	}
	v->repos[v->nrepos++] = copy;
	return copy;
}

static int add_revision(struct remote_view *rv, const char *repo, const char *hex, int64_t when)
{
	struct rs_storage_view *v = rv->view;
	struct rs_stored_manifest *m;

	if (v->nmanifests == rv->manifests_cap) {
		size_t cap = rv->manifests_cap ? rv->manifests_cap * 2 : 64;
		struct rs_stored_manifest *grown = realloc(v->manifests, cap * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		v->manifests = grown;
		rv->manifests_cap = cap;
	}
	m = &v->manifests[v->nmanifests++];
	m->repo = repo;
	snprintf(m->digest, sizeof(m->digest), "sha256:%s", hex);
	m->stored_at = when;
	return 0;
}

/* "R repositories/NAME", "M SECONDS.FRACTION repositories/NAME/_manifests/
 * revisions/sha256/HEX/link", "B SIZE", or a marker "@@..." */
static int on_line(enum rs_ssh_stream stream, const char *line, size_t len, void *ud)
{
	static const char repos[] = "repositories/", rev[] = "/_manifests/revisions/sha256/";
	struct remote_view *rv = ud;
	const char *end = line + len;
	int rc = 0;

	if (stream != RS_SSH_STDOUT || len < 3)
		return 0;
	if (++rv->view->entries > MAX_LINES)
		return rs_error_set(RS_ERROR, "the storage holds more than %llu entries",
				    (unsigned long long)MAX_LINES);
	if (len == 8 && memcmp(line, "@@noroot", 8) == 0)
		rv->state = 1;
	else if (len == 13 && memcmp(line, "@@notregistry", 13) == 0)
		rv->state = 2;
	else if (len == 6 && memcmp(line, "@@done", 6) == 0)
		rv->state = 3;
	else if (line[0] == 'B' && line[1] == ' ') {
		char *num_end;
		unsigned long long size;

		errno = 0;
		size = strtoull(line + 2, &num_end, 10);
		if (num_end == end && errno == 0 && line[2] != '-' && size <= (unsigned long long)INT64_MAX) {
			rv->view->blobs++;
			/* a sum past what an int64 holds is pinned there, not wrapped */
			if ((int64_t)size > INT64_MAX - rv->view->bytes)
				rv->view->bytes = INT64_MAX;
			else
				rv->view->bytes += (int64_t)size;
		}
	} else if (line[0] == 'R' && line[1] == ' ' && len > 2 + sizeof(repos) - 1 &&
		   strncmp(line + 2, repos, sizeof(repos) - 1) == 0) {
		const char *name = line + 2 + sizeof(repos) - 1;

		view_repo(rv, name, (size_t)(end - name), &rc);
	} else if (line[0] == 'M' && line[1] == ' ') {
		char *num_end;
		double when = strtod(line + 2, &num_end);
		const char *path = num_end + 1, *r, *hex;
		const char *repo;

		if (*num_end != ' ' || strncmp(path, repos, sizeof(repos) - 1) != 0)
			return 0;
		path += sizeof(repos) - 1;
		r = memmem(path, (size_t)(end - path), rev, sizeof(rev) - 1);
		if (!r)
			return 0;
		hex = r + sizeof(rev) - 1;
		if (end - hex != 64 + 5 || strncmp(hex + 64, "/link", 5) != 0)
			return 0;
		repo = view_repo(rv, path, (size_t)(r - path), &rc);
		if (repo) {
			char digest[RS_DIGEST_MAX];

			snprintf(digest, sizeof(digest), "sha256:%.64s", hex);
			if (rs_digest_valid(digest))
				rc = add_revision(rv, repo, digest + 7,
						  when > 0 ? rs_double_to_int64(when, RS_TIME_UNKNOWN)
							   : RS_TIME_UNKNOWN);
		}
	}
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rs_storage_remote_exec(struct rs_ssh *ssh, const char *root, const char *script,
			   rs_ssh_line_fn line_fn, void *userdata, long timeout_ms,
			   struct rs_ssh_exit *exit)
{
	struct rs_ssh_exec_options opts = RS_SSH_EXEC_OPTIONS_INIT;
	struct rs_buf cmd = RS_BUF_INIT;
	int rc = rs_buf_puts(&cmd, "cd ");

	if (rc == 0)
		rc = rs_shell_quote(&cmd, root);
	if (rc == 0)
		rc = rs_buf_puts(&cmd, script);
	if (rc == 0) {
		opts.on_line = line_fn;
		opts.userdata = userdata;
		opts.timeout_ms = timeout_ms;
		rc = rs_ssh_exec(ssh, cmd.ptr, &opts, exit);
	}
	rs_buf_release(&cmd);
	return rc;
}

int rs_storage_read_remote(struct rs_storage_view **out, struct rs_ssh *ssh, const char *root,
			   long timeout_ms)
{
	struct rs_ssh_exit exit;
	struct remote_view rv;
	int rc;

	*out = NULL;
	memset(&rv, 0, sizeof(rv));
	rv.view = calloc(1, sizeof(*rv.view));
	if (!rv.view || !(rv.view->root = strdup(root))) {
		free(rv.view);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rv.view->blobs = 0;
	rv.view->bytes = 0;
	rc = rs_storage_remote_exec(ssh, root,
			" 2>/dev/null || { echo @@noroot; exit 0; }; "
			"if [ ! -d docker/registry/v2 ]; then "
			"[ -z \"$(ls -A)\" ] && echo @@done || echo @@notregistry; exit 0; fi; "
			"cd docker/registry/v2 && export LC_ALL=C && "
			"{ [ ! -d repositories ] || { "
			"find repositories -type d -name _manifests -printf 'R %h\\n' && "
			"find repositories -type f -path '*/_manifests/revisions/sha256/*/link' "
			"-printf 'M %T@ %p\\n'; }; } && "
			"{ [ ! -d blobs ] || find blobs -type f -name data -printf 'B %s\\n'; } && "
			"echo @@done", on_line, &rv, timeout_ms, &exit);
	if (rc < 0)
		goto done;
	if (rv.state == 1)
		rc = rs_error_set(RS_ENOTFOUND, "storage root '%s' does not exist on the host", root);
	else if (rv.state == 2)
		rc = rs_error_set(RS_ENOTFOUND, "'%s' is not a registry's storage root: it has no "
				  "docker/registry/v2", root);
	else if (rv.state != 3 || exit.status != 0)
		rc = rs_error_set(RS_ERROR, "reading the storage under '%s' on the host failed (exit "
				  "status %d)", root, exit.status);
	else if (rv.view->nrepos > 1)
		qsort(rv.view->repos, rv.view->nrepos, sizeof(*rv.view->repos), cmp_name);
done:
	rs_map_release(&rv.repos);
	if (rc < 0) {
		rs_storage_view_free(rv.view);
		return rc;
	}
	*out = rv.view;
	return 0;
}
