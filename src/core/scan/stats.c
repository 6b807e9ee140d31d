/* stats.c: counting an inventory the way the seed's summary did, exactly. */
#include "scan/stats.h"
#include "base/error.h"
#include "base/map.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>

static int count_blob(struct rs_map *seen, const struct rs_descriptor *d, struct rs_stats *s)
{
	if (!d->digest[0] || rs_map_get(seen, d->digest))
		return 0;
	if (rs_map_put(seen, d->digest, (void *)1) < 0)
		return RS_ERROR;
	s->blobs++;
	s->bytes = rs_add_u64(s->bytes, d->size);
	return 0;
}

static int count_repo(struct rs_map *seen, const struct rs_repo *repo, struct rs_stats *s)
{
	s->tags += repo->ntags;
	s->manifests += repo->nmanifests;
	for (size_t i = 0; i < repo->nmanifests; i++) {
		const struct rs_manifest *m = repo->manifests[i];

		if (count_blob(seen, &m->config, s) < 0)
			return RS_ERROR;
		for (size_t l = 0; l < m->nlayers; l++)
			if (count_blob(seen, &m->layers[l], s) < 0)
				return RS_ERROR;
	}
	return 0;
}

int rs_stats_compute(struct rs_stats *out, const struct rs_inventory *inv)
{
	struct rs_map seen = RS_MAP_INIT_BORROWED;   /* digests live in the inventory */
	int rc = 0;

	*out = (struct rs_stats){0, 0, 0, 0, 0, -1, -1};
	out->repositories = inv->nrepos;
	for (size_t r = 0; r < inv->nrepos && rc == 0; r++)
		rc = count_repo(&seen, inv->repos[r], out);
	rs_map_release(&seen);
	return rc;
}

int rs_stats_per_repo(struct rs_repo_stats **out, const struct rs_inventory *inv)
{
	struct rs_repo_stats *list = calloc(inv->nrepos ? inv->nrepos : 1, sizeof(*list));

	*out = NULL;
	if (!list)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t r = 0; r < inv->nrepos; r++) {
		struct rs_map seen = RS_MAP_INIT_BORROWED;
		int rc;

		list[r].name = inv->repos[r]->name;
		list[r].stats = (struct rs_stats){1, 0, 0, 0, 0, -1, -1};
		rc = count_repo(&seen, inv->repos[r], &list[r].stats);
		rs_map_release(&seen);
		if (rc < 0) {
			free(list);
			return rc;
		}
	}
	*out = list;
	return 0;
}

int rs_stats_format_text(struct rs_buf *out, const struct rs_stats *s)
{
	char size[32];
	int rc;

	rc = rs_buf_printf(out,
			   "[ Data summary ]\n"
			   "Repositories: %" PRIu64 "\n"
			   "Tags: %" PRIu64 "\n"
			   "Manifests: %" PRIu64 "\n"
			   "Blobs: %" PRIu64 "\n"
			   "Size of blobs: %s\n",
			   s->repositories, s->tags, s->manifests, s->blobs,
			   rs_size_format(size, sizeof(size), s->bytes));
	if (rc == 0 && s->storage_bytes >= 0)
		rc = rs_buf_printf(out, "Blobs on disk: %" PRId64 "\nOn disk: %s\n", s->storage_blobs,
				   rs_size_format(size, sizeof(size), (uint64_t)s->storage_bytes));
	return rc;
}

static int json_figures(struct rs_buf *out, const struct rs_stats *s)
{
	int rc = rs_buf_printf(out,
			       "\"repositories\":%" PRIu64 ",\"tags\":%" PRIu64
			       ",\"manifests\":%" PRIu64 ",\"blobs\":%" PRIu64 ",\"bytes\":%" PRIu64,
			       s->repositories, s->tags, s->manifests, s->blobs, s->bytes);

	if (rc == 0 && s->storage_bytes >= 0)
		rc = rs_buf_printf(out, ",\"storage_blobs\":%" PRId64 ",\"storage_bytes\":%" PRId64,
				   s->storage_blobs, s->storage_bytes);
	return rc;
}

int rs_stats_format_json(struct rs_buf *out, const struct rs_stats *stats,
			 const struct rs_repo_stats *per_repo, size_t nrepos)
{
	int rc = rs_buf_puts(out, "{");

	if (rc == 0)
		rc = json_figures(out, stats);
	if (rc == 0 && per_repo) {
		rc = rs_buf_puts(out, ",\"repos\":[");
		for (size_t i = 0; rc == 0 && i < nrepos; i++) {
			/* repository names follow the distribution grammar: no escaping needed */
			rc = rs_buf_printf(out, "%s{\"name\":\"%s\",", i ? "," : "", per_repo[i].name);
			if (rc == 0)
				rc = json_figures(out, &per_repo[i].stats);
			if (rc == 0)
				rc = rs_buf_puts(out, "}");
		}
		if (rc == 0)
			rc = rs_buf_puts(out, "]");
	}
	if (rc == 0)
		rc = rs_buf_puts(out, "}\n");
	return rc;
}
