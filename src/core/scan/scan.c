/* scan.c: the catalog -> tags -> manifests -> configs pipeline. */
#include "scan/scan.h"
#include "scan/cache.h"
#include "base/error.h"
#include "base/log.h"
#include "model/manifest.h"
#include "base/map.h"
#include "base/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 1000
#define CATALOG_MAX_BODY (32u * 1024 * 1024)
#define TAGS_MAX_BODY (64u * 1024 * 1024)
#define MANIFEST_MAX_BODY (4u * 1024 * 1024)
#define CONFIG_MAX_BODY (8u * 1024 * 1024)
#define MAX_PAGES 100000
/* Tag manifests in flight or queued at once: enough to keep every
 * connection busy, few enough that 100,000 tags never sit in memory as
 * 100,000 prepared requests. */
#define TAG_WINDOW 256
#define KNOWN_BATCH 2048   /* tags read from storage, fetched by digest per round */

/* A run of tags of one repository still to be read. */
struct tag_run {
	struct rs_repo *repo;
	size_t next;               /* index of the next tag to submit */
	size_t end;
};

struct config_entry {
	int64_t created;
	int state;                 /* 0 pending, 1 done, -1 failed */
};

struct scan {
	struct rs_registry *reg;
	struct rs_inventory *inv;
	const struct rs_scan_options *opts;
	struct rs_map pending;     /* "repo@digest" -> marker: fetch in flight or done */
	struct rs_map configs;     /* config digest -> struct config_entry * */
	struct rs_map pages;       /* page URLs already requested (loop guard) */
	int fatal;                 /* a registry-wide failure: stop */
	int borrowed_inv;          /* the inventory is the caller's: never free it */
	int first_rc;
	char first_message[2048];
	struct rs_scan_progress progress;
	char tag_map[1100];
	struct tag_run *runs;      /* FIFO of tags waiting for a slot */
	size_t runs_head, runs_len, runs_cap;
	size_t tags_in_flight;
	struct rs_map tags_seen;   /* "repo\ttag" of paginated tag lists */
	struct rs_map tag_indexed; /* repo -> how many of its tags are in tags_seen */
};

struct tags_job {
	struct scan *scan;
	struct rs_repo *repo;
};

struct manifest_job {
	struct scan *scan;
	struct rs_repo *repo;
	int from_storage;          /* listed by the storage view */
	int64_t stored_at;         /* when the storage says it was stored */
	size_t tag_index;          /* (size_t)-1 when fetched by digest */
	char digest[RS_DIGEST_MAX]; /* requested digest, "" for a tag */
	char known[RS_DIGEST_MAX]; /* the tag's digest last run, sent as If-None-Match */
	char *cached;              /* that digest's body from the cache */
	size_t cached_len;
};

struct config_job {
	struct scan *scan;
	struct config_entry *entry;
	char digest[RS_DIGEST_MAX];
};

int rs_shard_parse(int *index, int *count, const char *text)
{
	int k, n;
	char extra;

	*index = *count = 0;
	if (!text || sscanf(text, "%d/%d%c", &k, &n, &extra) != 2 || n < 1 || k < 1 || k > n)
		return rs_error_set(RS_EUSAGE, "invalid shard '%s' (use K/N with 1 <= K <= N)",
				    text ? text : "");
	*index = k;
	*count = n;
	return 0;
}

int rs_shard_member(const char *name, int index, int count)
{
	if (count <= 1)
		return 1;
	return (int)(rs_hash(name) % (uint64_t)count) == index - 1;
}

static void report(struct scan *scan, const char *stage)
{
	scan->progress.stage = stage;
	scan->progress.requests = rs_http_request_count(rs_registry_http(scan->reg));
	if (scan->opts->progress)
		scan->opts->progress(&scan->progress, scan->opts->progress_userdata);
}

/* Remember a failure; the first one's message is what the user sees. */
static void fail(struct scan *scan, struct rs_repo *repo, int rc)
{
	scan->progress.errors++;
	if (repo)
		rs_repo_set_failed(repo, rs_error_message());
	if (!scan->first_rc) {
		scan->first_rc = rc;
		rs_strlcpy(scan->first_message, rs_error_message(), sizeof(scan->first_message));
	}
	rs_log(RS_LOG_VERBOSE, "scan: %s", rs_error_message());
}

static void fail_fatal(struct scan *scan, int rc)
{
	fail(scan, NULL, rc);
	scan->fatal = 1;
	rs_http_cancel(rs_registry_http(scan->reg));
}

/* Has this page been asked for already (1), have too many been (2), or is
 * memory out (3)? */
static int page_seen(struct scan *scan, const char *url)
{
	if (rs_map_get(&scan->pages, url))
		return 1;
	if (scan->pages.len >= MAX_PAGES)
		return 2;
	if (rs_map_put(&scan->pages, url, (void *)1) < 0)
		return 3;
	return 0;
}

/* The message for a Link that must not be followed (page_seen's answer). */
static int link_refused(int seen, const char *what, const char *url)
{
	if (seen == 3)
		return rs_error_set(RS_ERROR, "out of memory");
	if (seen == 2)
		return rs_error_set(RS_EPROTO, "%s has more than %d pages: its Link header never "
				    "ends (last '%s')", what, MAX_PAGES, url);
	return rs_error_set(RS_EPROTO, "%s has a Link header that loops back to '%s'", what, url);
}

static int page_size(const struct scan *scan)
{
	int n = scan->opts->page_size;

	return n > 0 && n <= PAGE_SIZE ? n : PAGE_SIZE;
}

static void submit_tags(struct scan *scan, struct rs_repo *repo, const char *url);
static void submit_manifest(struct scan *scan, struct rs_repo *repo, size_t tag_index,
			    const char *ref);

static void on_catalog(struct rs_reg_result *res, void *ud);

static void submit_catalog(struct scan *scan, const char *url)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/v2/_catalog?n=%d", page_size(scan));
	call.path = url ? url : path;
	call.accept = "Accept: application/json";
	call.scope = "registry:catalog:*";
	call.max_body = CATALOG_MAX_BODY;
	rc = rs_registry_submit(scan->reg, &call, on_catalog, scan);
	if (rc < 0)
		fail_fatal(scan, rc);
}

static int wanted(struct scan *scan, const char *name)
{
	const struct rs_scan_options *o = scan->opts;

	if (o->shard_count > 1 && !rs_shard_member(name, o->shard_index, o->shard_count))
		return 0;
	if (o->repo_filter && !o->repo_filter(name, o->filter_userdata))
		return 0;
	return 1;
}

static void on_catalog(struct rs_reg_result *res, void *ud)
{
	struct scan *scan = ud;
	char **names = NULL, *next = NULL;
	int rc = res->rc;

	if (rc == 0)
		rc = rs_catalog_parse(&names, res->body->ptr, res->body->len);
	/* an empty page is the last, whatever its Link says (see on_tags) */
	if (rc == 0 && names[0])
		rc = rs_http_link_next(&next, res->link, res->url);
	if (rc < 0) {
		if (rc == RS_EPROTO)
			rs_error_prefix("catalog page '%s': ", res->url);
		fail_fatal(scan, rc);
		goto done;
	}
	for (size_t i = 0; names[i]; i++) {
		struct rs_repo *repo;

		if (!wanted(scan, names[i]) || rs_inventory_find_repo(scan->inv, names[i]))
			continue;
		if (rs_inventory_add_repo(&repo, scan->inv, names[i]) < 0) {
			fail_fatal(scan, RS_ERROR);
			goto done;
		}
		scan->progress.repos++;
		submit_tags(scan, repo, NULL);
	}
	if (next) {
		int seen = page_seen(scan, next);

		if (seen) {
			fail_fatal(scan, link_refused(seen, "the catalog", next));
			goto done;
		}
		submit_catalog(scan, next);
	}
	report(scan, "catalog");
done:
	free(next);
	rs_strv_free(names);
}

/* Only a tag list that spans pages can repeat a tag: index the tags of
 * earlier pages (once, lazily) and look the new one up. */
static int tag_seen(struct scan *scan, struct rs_repo *repo, size_t first, const char *tag)
{
	char key[800];
	size_t done;

	if (first == 0)
		return 0;
	done = (size_t)(uintptr_t)rs_map_get(&scan->tag_indexed, repo->name);
	for (; done < first; done++) {
		snprintf(key, sizeof(key), "%s\t%s", repo->name, repo->tags[done].name);
		if (rs_map_put(&scan->tags_seen, key, (void *)1) < 0)
			return rs_error_set(RS_ERROR, "out of memory");
	}
	if (rs_map_put(&scan->tag_indexed, repo->name, (void *)(uintptr_t)done) < 0)
		return rs_error_set(RS_ERROR, "out of memory");
	snprintf(key, sizeof(key), "%s\t%s", repo->name, tag);
	return rs_map_get(&scan->tags_seen, key) != NULL;
}

static int queue_tags(struct scan *scan, struct rs_repo *repo, size_t first, size_t end)
{
	if (scan->runs_head + scan->runs_len == scan->runs_cap) {
		if (scan->runs_head > 0) {
			memmove(scan->runs, scan->runs + scan->runs_head,
				scan->runs_len * sizeof(*scan->runs));
			scan->runs_head = 0;
		} else {
			size_t cap = scan->runs_cap ? scan->runs_cap * 2 : 64;
			struct tag_run *grown = realloc(scan->runs, cap * sizeof(*grown));

			if (!grown)
				return rs_error_set(RS_ERROR, "out of memory");
			scan->runs = grown;
			scan->runs_cap = cap;
		}
	}
	scan->runs[scan->runs_head + scan->runs_len++] = (struct tag_run){repo, first, end};
	return 0;
}

/* Submit queued tags while the window has room. */
static void pump_tags(struct scan *scan)
{
	while (scan->runs_len && scan->tags_in_flight < TAG_WINDOW && !scan->fatal) {
		struct tag_run *run = &scan->runs[scan->runs_head];
		size_t i = run->next++;

		if (run->next >= run->end) {
			scan->runs_head++;
			scan->runs_len--;
		}
		scan->tags_in_flight++;
		submit_manifest(scan, run->repo, i, run->repo->tags[i].name);
	}
}

static void on_tags(struct rs_reg_result *res, void *ud)
{
	struct tags_job *job = ud;
	struct scan *scan = job->scan;
	struct rs_repo *repo = job->repo;
	char **tags = NULL, *next = NULL;
	int rc = res->rc;

	free(job);
	if (scan->fatal)
		return;
	if (rc == RS_ENOTFOUND) {
		/* listed in the catalog but unknown: nothing to list, nothing to delete */
		rs_repo_set_failed(repo, "the catalog lists it, but it has no tag list (404)");
		rs_log(RS_LOG_VERBOSE, "repository '%s' is in the catalog but has no tag list (404)",
		       repo->name);
		return;
	}
	if (rc == 0)
		rc = rs_tags_parse(&tags, res->body->ptr, res->body->len);
	/* distribution 3.1 sends Link on every full page, so the last page can
	 * be empty ("tags": [] or null): an empty page ends the list */
	if (rc == 0 && tags[0])
		rc = rs_http_link_next(&next, res->link, res->url);
	if (rc < 0) {
		rs_error_prefix("listing tags of '%s': ", repo->name);
		if (rc == RS_EAUTH)
			fail_fatal(scan, rc);
		else
			fail(scan, repo, rc);
		goto done;
	}
	{
		size_t first = repo->ntags;

		for (size_t i = 0; tags[i]; i++) {
			int seen = tag_seen(scan, repo, first, tags[i]);

			if (seen < 0) {
				fail_fatal(scan, seen);
				goto done;
			}
			if (seen)
				continue;   /* a page boundary repeated a tag */
			if (rs_repo_add_tag(NULL, repo, tags[i], "") < 0) {
				fail_fatal(scan, RS_ERROR);
				goto done;
			}
			scan->progress.tags++;
		}
		if (repo->ntags > first && queue_tags(scan, repo, first, repo->ntags) < 0) {
			fail_fatal(scan, RS_ERROR);
			goto done;
		}
		pump_tags(scan);
	}
	if (next) {
		int seen = page_seen(scan, next);

		if (seen) {
			char what[600];

			snprintf(what, sizeof(what), "the tag list of '%s'", repo->name);
			fail(scan, repo, link_refused(seen, what, next));
			goto done;
		}
		submit_tags(scan, repo, next);
	}
	report(scan, "tags");
done:
	free(next);
	rs_strv_free(tags);
}

static void submit_tags(struct scan *scan, struct rs_repo *repo, const char *url)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct tags_job *job = calloc(1, sizeof(*job));
	char scope[512], path[512];
	int rc;

	if (!job) {
		fail_fatal(scan, rs_error_set(RS_ERROR, "out of memory"));
		return;
	}
	job->scan = scan;
	job->repo = repo;
	snprintf(path, sizeof(path), "/v2/%s/tags/list?n=%d", repo->name, page_size(scan));
	call.path = url ? url : path;
	call.accept = "Accept: application/json";
	call.scope = rs_registry_scope(scope, sizeof(scope), repo->name, "pull");
	call.max_body = TAGS_MAX_BODY;
	rc = rs_registry_submit(scan->reg, &call, on_tags, job);
	if (rc < 0) {
		free(job);
		fail(scan, repo, rc);
	}
}

static void on_config(struct rs_reg_result *res, void *ud)
{
	struct config_job *job = ud;
	int rc = res->rc;

	if (rc == 0 && !rs_digest_matches(job->digest, res->body->ptr ? res->body->ptr : "",
					  res->body->len))
		rc = rs_error_set(RS_EPROTO, "config blob %s does not match its digest", job->digest);
	if (rc == 0)
		rc = rs_config_parse_created(&job->entry->created, res->body->ptr, res->body->len);
	if (rc == 0 && job->scan->opts->cache)
		rs_cache_put(job->scan->opts->cache, job->digest, res->body->ptr, res->body->len);
	if (rc < 0) {
		/* an unreadable date is an unknown date: the policy keeps the image */
		job->entry->state = -1;
		job->entry->created = RS_TIME_UNKNOWN;
		rs_log(RS_LOG_VERBOSE, "config %s: %s (its age counts as unknown)", job->digest,
		       rs_error_message());
	} else {
		job->entry->state = 1;
	}
	job->scan->progress.configs++;
	free(job);
}

static void submit_config(struct scan *scan, struct rs_repo *repo, const char *digest)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct config_entry *entry;
	struct config_job *job;
	char scope[512], path[1024];
	int rc;

	if (rs_map_get(&scan->configs, digest))
		return;
	entry = calloc(1, sizeof(*entry));
	if (entry && scan->opts->cache) {
		char *body = NULL;
		size_t len = 0;

		if (rs_cache_get(scan->opts->cache, digest, &body, &len) == 1 &&
		    rs_config_parse_created(&entry->created, body, len) == 0 &&
		    rs_map_put(&scan->configs, digest, entry) == 0) {
			entry->state = 1;
			scan->progress.configs++;
			free(body);
			return;
		}
		free(body);
		entry->created = RS_TIME_UNKNOWN;
	}
	job = calloc(1, sizeof(*job));
	if (!entry || !job || rs_map_put(&scan->configs, digest, entry) < 0) {
		free(entry);
		free(job);
		fail_fatal(scan, rs_error_set(RS_ERROR, "out of memory"));
		return;
	}
	entry->created = RS_TIME_UNKNOWN;
	job->scan = scan;
	job->entry = entry;
	rs_strlcpy(job->digest, digest, sizeof(job->digest));
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo->name, digest);
	call.path = path;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo->name, "pull");
	call.max_body = CONFIG_MAX_BODY;
	call.follow = 1;
	rc = rs_registry_submit(scan->reg, &call, on_config, job);
	if (rc < 0) {
		free(job);
		entry->state = -1;
	}
}

/* The cache keeps one tag map per registry and shard, so that shards run
 * one after another do not overwrite each other's maps. */
static const char *tag_map_name(struct scan *scan)
{
	if (!scan->tag_map[0])
		snprintf(scan->tag_map, sizeof(scan->tag_map), "%s#%d/%d", scan->inv->registry,
			 scan->opts->shard_index, scan->opts->shard_count);
	return scan->tag_map;
}

static int pending_key(char *out, size_t outsize, const struct rs_repo *repo, const char *digest)
{
	return snprintf(out, outsize, "%s@%s", repo->name, digest) >= (int)outsize ? -1 : 0;
}

/* A verified manifest body arrived for `repo`: record it and follow it. */
static void fetch_child(struct scan *scan, struct rs_repo *repo, const char *digest);

static int take_manifest(struct scan *scan, struct rs_repo *repo, const char *digest,
			 const char *body, size_t len, const char *content_type,
			 const struct manifest_job *job)
{
	struct rs_manifest *m = rs_repo_find_manifest(repo, digest);
	int rc;

	if (m)
		return 0;
	rc = rs_manifest_parse(&m, digest, body ? body : "", len, content_type);
	if (rc < 0)
		return rc;
	m->flags |= RS_MF_FETCHED;
	if (job && job->from_storage && strcmp(job->digest, digest) == 0) {
		m->flags |= RS_MF_FROM_STORAGE;
		m->stored_at = job->stored_at;
	}
	rc = rs_repo_add_manifest(repo, m);
	if (rc < 0)
		return rc;
	scan->progress.manifests++;
	if (scan->opts->cache && !(job && job->cached))
		rs_cache_put(scan->opts->cache, digest, body, len);
	for (size_t i = 0; i < m->nchildren; i++) {
		if (strcmp(m->children[i].digest, m->digest) == 0)
			continue;   /* an index naming itself: nothing more to read */
		fetch_child(scan, repo, m->children[i].digest);
	}
	if (scan->opts->need_dates && m->config.digest[0])
		submit_config(scan, repo, m->config.digest);
	return 0;
}

/* An index child: from the cache when it is there (no request), else GET
 * it by digest, once per repository. */
static void fetch_child(struct scan *scan, struct rs_repo *repo, const char *digest)
{
	char key[600], *body = NULL;
	size_t len = 0;
	int rc;

	if (pending_key(key, sizeof(key), repo, digest) < 0 || rs_map_get(&scan->pending, key) ||
	    rs_repo_find_manifest(repo, digest))
		return;
	if (rs_map_put(&scan->pending, key, (void *)1) < 0) {
		fail_fatal(scan, rs_error_set(RS_ERROR, "out of memory"));
		return;
	}
	if (scan->opts->cache && rs_cache_get(scan->opts->cache, digest, &body, &len) == 1) {
		struct manifest_job job;

		memset(&job, 0, sizeof(job));
		job.cached = body;
		rc = take_manifest(scan, repo, digest, body, len, NULL, &job);
		free(body);
		if (rc == 0)
			return;
		/* a cached body that does not parse is read again from the registry */
	}
	submit_manifest(scan, repo, (size_t)-1, digest);
}

static void on_manifest(struct rs_reg_result *res, void *ud)
{
	struct manifest_job *job = ud;
	struct scan *scan = job->scan;
	struct rs_repo *repo = job->repo;
	char actual[RS_DIGEST_MAX];
	const char *what;
	int rc = res->rc;

	if (scan->fatal)
		goto done;
	what = job->digest[0] ? job->digest : repo->tags[job->tag_index].name;
	if (rc == 0 && res->status == 304) {
		/* unchanged since the last run: the cached body, already verified */
		if (!job->cached) {
			rc = rs_error_set(RS_EPROTO, "the registry answered 304 to a request "
					  "that was not conditional");
		} else {
			rs_strlcpy(actual, job->known, sizeof(actual));
			rc = take_manifest(scan, repo, actual, job->cached, job->cached_len, NULL, job);
		}
		goto taken;
	}
	if (rc == 0 && rs_digest_sha256(actual, res->body->ptr ? res->body->ptr : "",
					res->body->len) < 0)
		rc = RS_ERROR;
	if (rc == 0 && res->digest && strcmp(res->digest, actual) != 0)
		rc = rs_error_set(RS_EPROTO, "the body does not match Docker-Content-Digest %.80s",
				  res->digest);
	if (rc == 0 && job->digest[0] && strcmp(job->digest, actual) != 0)
		rc = rs_error_set(RS_EPROTO, "the body does not match the digest asked for "
				  "(its digest is %s)", actual);
	if (rc == 0) {
		struct manifest_job fresh = *job;

		fresh.cached = NULL;   /* the body came from the registry: cache it */
		rc = take_manifest(scan, repo, actual, res->body->ptr, res->body->len,
				   res->content_type, &fresh);
	}
taken:
	if (rc < 0) {
		rs_error_prefix("reading manifest '%s:%s': ", repo->name, what);
		if (rc == RS_EAUTH)
			fail_fatal(scan, rc);
		else
			fail(scan, repo, rc);
		goto done;
	}
	if (!job->digest[0])
		rs_strlcpy(repo->tags[job->tag_index].digest, actual, RS_DIGEST_MAX);
	if ((scan->progress.manifests & 255) == 0)
		report(scan, "manifests");
done:
	if (job->tag_index != (size_t)-1) {
		scan->tags_in_flight--;
		pump_tags(scan);
	}
	free(job->cached);
	free(job);
}

static void submit_manifest_at(struct scan *scan, struct rs_repo *repo, size_t tag_index,
			       const char *ref, int from_storage, int64_t stored_at);

static void submit_manifest(struct scan *scan, struct rs_repo *repo, size_t tag_index,
			    const char *ref)
{
	submit_manifest_at(scan, repo, tag_index, ref, 0, RS_TIME_UNKNOWN);
}

static void submit_manifest_at(struct scan *scan, struct rs_repo *repo, size_t tag_index,
			       const char *ref, int from_storage, int64_t stored_at)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct manifest_job *job = calloc(1, sizeof(*job));
	char scope[512], path[1024], inm[128];
	int rc;

	if (!job) {
		fail_fatal(scan, rs_error_set(RS_ERROR, "out of memory"));
		return;
	}
	job->scan = scan;
	job->repo = repo;
	job->tag_index = tag_index;
	job->from_storage = from_storage;
	job->stored_at = stored_at;
	if (tag_index == (size_t)-1)
		rs_strlcpy(job->digest, ref, sizeof(job->digest));
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo->name, ref);
	if (tag_index != (size_t)-1 && scan->opts->cache) {
		const char *known = rs_cache_tag_digest(scan->opts->cache, tag_map_name(scan),
							repo->name, ref);

		if (known && rs_cache_get(scan->opts->cache, known, &job->cached,
					  &job->cached_len) == 1) {
			rs_strlcpy(job->known, known, sizeof(job->known));
			snprintf(inm, sizeof(inm), "If-None-Match: \"%s\"", known);
			call.extra_header = inm;
		}
	}
	call.path = path;
	call.accept = RS_MANIFEST_ACCEPT;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo->name, "pull");
	call.max_body = MANIFEST_MAX_BODY;
	rc = rs_registry_submit(scan->reg, &call, on_manifest, job);
	if (rc < 0) {
		if (tag_index != (size_t)-1)
			scan->tags_in_flight--;
		free(job->cached);
		free(job);
		fail(scan, repo, rc);
	}
}

/* Dates: configs fill image manifests; an index is as new as its newest
 * child, and unknown if any child's date is unknown. */
static void assign_dates(struct scan *scan)
{
	for (size_t r = 0; r < scan->inv->nrepos; r++) {
		struct rs_repo *repo = scan->inv->repos[r];

		for (size_t i = 0; i < repo->nmanifests; i++) {
			struct rs_manifest *m = repo->manifests[i];
			struct config_entry *e;

			if (!m->config.digest[0])
				continue;
			e = rs_map_get(&scan->configs, m->config.digest);
			if (e && e->state == 1) {
				m->created = e->created;
				m->flags |= RS_MF_CONFIG_READ;
			}
		}
		for (size_t i = 0; i < repo->nmanifests; i++) {
			struct rs_manifest *m = repo->manifests[i];
			int64_t newest = RS_TIME_UNKNOWN;
			int unknown = m->nchildren == 0;

			if (!rs_media_type_is_index(m->type))
				continue;
			for (size_t c = 0; c < m->nchildren; c++) {
				struct rs_manifest *child = rs_repo_find_manifest(repo, m->children[c].digest);

				if (!child || child->created == RS_TIME_UNKNOWN || child == m) {
					unknown = 1;
					break;
				}
				if (child->created > newest)
					newest = child->created;
			}
			m->created = unknown ? RS_TIME_UNKNOWN : newest;
		}
	}
}

static void scan_release(struct scan *scan)
{
	size_t pos = 0;
	void *value;

	while (rs_map_next(&scan->configs, &pos, NULL, &value))
		free(value);
	rs_map_release(&scan->configs);
	rs_map_release(&scan->pending);
	rs_map_release(&scan->pages);
	free(scan->runs);
	rs_map_release(&scan->tags_seen);
	rs_map_release(&scan->tag_indexed);
}

struct tag_cursor {
	const struct rs_inventory *inv;
	size_t repo, tag;
};

static int next_resolved_tag(void *ud, const char **repo, const char **tag, const char **digest)
{
	struct tag_cursor *c = ud;

	for (; c->repo < c->inv->nrepos; c->repo++, c->tag = 0) {
		const struct rs_repo *r = c->inv->repos[c->repo];

		while (c->tag < r->ntags) {
			const struct rs_tag *t = &r->tags[c->tag++];

			if (t->digest[0]) {
				*repo = r->name;
				*tag = t->name;
				*digest = t->digest;
				return 1;
			}
		}
	}
	return 0;
}

/* Remember every resolved tag for the next run's conditional requests. */
static void remember_tags(struct scan *scan)
{
	struct rs_cache *cache = scan->opts->cache;
	struct tag_cursor cursor = {scan->inv, 0, 0};

	if (!cache)
		return;
	if (rs_cache_save_tags(cache, tag_map_name(scan), next_resolved_tag, &cursor) < 0)
		rs_log(RS_LOG_WARN, "warning: %s", rs_error_message());
}

/* The partial result's message: the failures of the first few failing
 * repositories by name (the order failures happen in depends on timing),
 * and how many more there are. */
#define PARTIAL_NAMED 3

static int partial_error(const struct scan *scan)
{
	struct rs_buf msg = RS_BUF_INIT;
	size_t failed = 0;
	int rc = 0;

	/* the inventory is sorted by name by now */
	for (size_t i = 0; rc == 0 && i < scan->inv->nrepos; i++) {
		const struct rs_repo *r = scan->inv->repos[i];

		if (!r->failed || !r->failure)
			continue;
		if (failed++ < PARTIAL_NAMED)
			rc = rs_buf_printf(&msg, "%s%s", msg.len ? "; " : "", r->failure);
	}
	if (rc == 0 && failed > PARTIAL_NAMED)
		rc = rs_buf_printf(&msg, "; and %zu more repositories", failed - PARTIAL_NAMED);
	rc = rs_error_set(RS_EPARTIAL, "%s", msg.len ? rs_buf_cstr(&msg) : scan->first_message);
	rs_buf_release(&msg);
	return rc;
}

static int scan_finish(struct scan *scan, int rc, struct rs_inventory **out)
{
	if (rc == 0 && scan->opts->need_dates)
		assign_dates(scan);
	if (rc == 0 && !scan->fatal && !scan->borrowed_inv)
		remember_tags(scan);
	/* publish what was fetched now: the run goes on without holding its
	 * index in memory */
	if (rc == 0 && scan->opts->cache && rs_cache_flush(scan->opts->cache) < 0)
		rs_log(RS_LOG_WARN, "warning: cache: %s", rs_error_message());
	report(scan, "done");
	scan_release(scan);
	if (scan->borrowed_inv && rc == 0 && !scan->fatal)
		rs_inventory_sort(scan->inv);
	if (scan->borrowed_inv) {
		*out = scan->inv;
		if ((scan->fatal || rc < 0) && scan->first_rc)
			return rs_error_set(scan->first_rc, "%s", scan->first_message);
		if (rc < 0)
			return rc;
		if (scan->first_rc)
			return partial_error(scan);
		return 0;
	}
	if (rc == RS_ECANCELLED && !scan->fatal) {
		rs_inventory_free(scan->inv);
		return rs_error_set(RS_ECANCELLED, "scan stopped: %s", rs_stop_reason());
	}
	if (scan->fatal) {
		rs_inventory_free(scan->inv);
		return rs_error_set(scan->first_rc, "%s", scan->first_message);
	}
	if (rc < 0) {
		rs_inventory_free(scan->inv);
		return rc;
	}
	rs_inventory_sort(scan->inv);
	*out = scan->inv;
	if (scan->first_rc) {
		partial_error(scan);
		return RS_EPARTIAL;
	}
	return 0;
}

int rs_scan(struct rs_inventory **out, struct rs_registry *reg, const struct rs_scan_options *opts)
{
	struct scan scan;
	int rc;

	*out = NULL;
	memset(&scan, 0, sizeof(scan));
	scan.reg = reg;
	scan.opts = opts;
	rc = rs_registry_ping(reg);
	if (rc < 0)
		return rc;
	rc = rs_inventory_new(&scan.inv, rs_registry_url(reg));
	if (rc < 0)
		return rc;
	submit_catalog(&scan, NULL);
	rc = rs_http_run(rs_registry_http(reg));
	return scan_finish(&scan, rc, out);
}

int rs_scan_repo(struct rs_inventory **out, struct rs_registry *reg, const char *name)
{
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct rs_repo *repo;
	struct scan scan;
	int rc;

	*out = NULL;
	memset(&scan, 0, sizeof(scan));
	scan.reg = reg;
	scan.opts = &opts;
	rc = rs_inventory_new(&scan.inv, rs_registry_url(reg));
	if (rc < 0)
		return rc;
	rc = rs_inventory_add_repo(&repo, scan.inv, name);
	if (rc < 0) {
		rs_inventory_free(scan.inv);
		return rc;
	}
	submit_tags(&scan, repo, NULL);
	rc = rs_http_run(rs_registry_http(reg));
	return scan_finish(&scan, rc, out);
}

int rs_scan_add_stored(struct rs_inventory *inv, struct rs_registry *reg,
		       const struct rs_stored_manifest *list, size_t count,
		       const struct rs_scan_options *opts)
{
	struct scan scan;
	struct rs_inventory *same;
	int rc;

	memset(&scan, 0, sizeof(scan));
	scan.reg = reg;
	scan.opts = opts;
	scan.inv = inv;
	for (size_t i = 0; i < count; i++) {
		struct rs_repo *repo = rs_inventory_find_repo(inv, list[i].repo);
		struct rs_manifest *m;
		char key[600];

		if (!repo)
			continue;
		m = rs_repo_find_manifest(repo, list[i].digest);
		if (m) {
			m->flags |= RS_MF_FROM_STORAGE;
			m->stored_at = list[i].stored_at;
			continue;
		}
		if (pending_key(key, sizeof(key), repo, list[i].digest) < 0 ||
		    rs_map_get(&scan.pending, key))
			continue;
		if (rs_map_put(&scan.pending, key, (void *)1) < 0) {
			fail_fatal(&scan, rs_error_set(RS_ERROR, "out of memory"));
			break;
		}
		if (opts->cache) {
			struct manifest_job job;
			char *body = NULL;
			size_t len = 0;
			int taken = 0;

			memset(&job, 0, sizeof(job));
			job.from_storage = 1;
			job.stored_at = list[i].stored_at;
			rs_strlcpy(job.digest, list[i].digest, sizeof(job.digest));
			if (rs_cache_get(opts->cache, list[i].digest, &body, &len) == 1) {
				job.cached = body;
				taken = take_manifest(&scan, repo, list[i].digest, body, len, NULL,
						      &job) == 0;
			}
			free(body);
			if (taken)
				continue;
		}
		submit_manifest_at(&scan, repo, (size_t)-1, list[i].digest, 1, list[i].stored_at);
	}
	rc = rs_http_run(rs_registry_http(reg));
	inv->from_storage = 1;
	scan.borrowed_inv = 1;
	return scan_finish(&scan, rc, &same);
}

int rs_scan_known_tags(struct rs_inventory **out, struct rs_registry *reg,
		       const struct rs_scan_options *opts, char *const *repos,
		       const unsigned char *failed_repos, size_t nrepos,
		       const struct rs_known_tag *tags, size_t ntags)
{
	struct scan scan;
	int rc;

	*out = NULL;
	memset(&scan, 0, sizeof(scan));
	scan.reg = reg;
	scan.opts = opts;
	rc = rs_registry_ping(reg);
	if (rc == 0)
		rc = rs_inventory_new(&scan.inv, rs_registry_url(reg));
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nrepos && rc == 0; i++) {
		struct rs_repo *repo;

		if (!wanted(&scan, repos[i]))
			continue;
		rc = rs_inventory_add_repo(&repo, scan.inv, repos[i]);
		/* a partial read, as when a tag list fails: nothing is deleted
		 * there, and the run says so (exit 3) */
		if (rc == 0 && failed_repos && failed_repos[i])
			fail(&scan, repo, rs_error_set(RS_EPROTO, "'%s': the storage could not vouch "
						       "for all of it", repos[i]));
		scan.progress.repos++;
	}
	/* a batch at a time, so that requests waiting their turn stay few (the
	 * tag window of a scan by tag): the batch's last requests are the only
	 * time the connections are not all busy */
	for (size_t i = 0; i < ntags && rc == 0;) {
		size_t end = ntags - i > KNOWN_BATCH ? i + KNOWN_BATCH : ntags;

		for (; i < end && rc == 0; i++) {
			struct rs_repo *repo = rs_inventory_find_repo(scan.inv, tags[i].repo);

			if (!repo)
				continue;
			if (!rs_digest_valid(tags[i].digest)) {
				/* never guessed: the repository is not read completely */
				fail(&scan, repo, rs_error_set(RS_EPROTO, "'%s': the tag '%s' has no "
							       "digest in the storage", tags[i].repo,
							       tags[i].tag));
				continue;
			}
			rc = rs_repo_add_tag(NULL, repo, tags[i].tag, tags[i].digest);
			scan.progress.tags++;
			if (rc == 0)
				fetch_child(&scan, repo, tags[i].digest);
		}
		if (rc < 0) {
			fail_fatal(&scan, rc);
			rs_http_cancel(rs_registry_http(reg));
		}
		rc = rs_http_run(rs_registry_http(reg));
		if (scan.fatal)
			break;
	}
	return scan_finish(&scan, rc, out);
}
