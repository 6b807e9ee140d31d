/* inventory.c: the registry graph's storage and look-ups. */
#include "model/inventory.h"
#include "base/error.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
	enum rs_media_type type;
	const char *name;
} media_types[] = {
	{RS_MT_DOCKER_MANIFEST, RS_MT_STR_DOCKER_MANIFEST},
	{RS_MT_DOCKER_LIST, RS_MT_STR_DOCKER_LIST},
	{RS_MT_OCI_MANIFEST, RS_MT_STR_OCI_MANIFEST},
	{RS_MT_OCI_INDEX, RS_MT_STR_OCI_INDEX},
	{RS_MT_DOCKER_SCHEMA1, "application/vnd.docker.distribution.manifest.v1+prettyjws"},
	{RS_MT_DOCKER_SCHEMA1, "application/vnd.docker.distribution.manifest.v1+json"},
};

int rs_media_type_is_index(enum rs_media_type type)
{
	return type == RS_MT_DOCKER_LIST || type == RS_MT_OCI_INDEX;
}

enum rs_media_type rs_media_type_from_string(const char *str)
{
	size_t n;

	if (!str)
		return RS_MT_UNKNOWN;
	/* Content-Type may carry parameters ("; charset=utf-8"). */
	n = strcspn(str, "; \t");
	for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (strlen(media_types[i].name) == n && strncmp(media_types[i].name, str, n) == 0)
			return media_types[i].type;
	return RS_MT_UNKNOWN;
}

const char *rs_media_type_name(enum rs_media_type type)
{
	for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (media_types[i].type == type)
			return media_types[i].name;
	return "unknown";
}

/* Media types almost every descriptor carries: shared, never copied (a
 * registry of 100,000 images with ten layers each holds a million). */
static const char *const common_types[] = {
	RS_MT_STR_DOCKER_MANIFEST,
	RS_MT_STR_DOCKER_LIST,
	RS_MT_STR_OCI_MANIFEST,
	RS_MT_STR_OCI_INDEX,
	"application/vnd.docker.container.image.v1+json",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	"application/vnd.oci.image.config.v1+json",
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.empty.v1+json",
	"application/vnd.dev.cosign.simplesigning.v1+json",
	"application/vnd.dsse.envelope.v1+json",
	"application/vnd.in-toto+json",
};

char *rs_media_type_dup(const char *str)
{
	if (!str)
		return NULL;
	for (size_t i = 0; i < sizeof(common_types) / sizeof(common_types[0]); i++)
		if (strcmp(common_types[i], str) == 0)
			return (char *)common_types[i];
	return strdup(str);
}

void rs_media_type_free(char *str)
{
	for (size_t i = 0; i < sizeof(common_types) / sizeof(common_types[0]); i++)
		if (str == common_types[i])
			return;
	free(str);
}

static int grow(void **ptr, size_t *cap, size_t len, size_t size)
{
	size_t ncap;
	void *n;

	if (len < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	n = realloc(*ptr, ncap * size);
	if (!n)
		return rs_error_set(RS_ERROR, "out of memory");
	*ptr = n;
	*cap = ncap;
	return 0;
}

int rs_inventory_new(struct rs_inventory **out, const char *registry)
{
	struct rs_inventory *inv = calloc(1, sizeof(*inv));

	*out = NULL;
	if (!inv)
		return rs_error_set(RS_ERROR, "out of memory");
	inv->registry = rs_strdup(registry ? registry : "");
	if (!inv->registry) {
		free(inv);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	inv->scanned_at = (int64_t)time(NULL);
	*out = inv;
	return 0;
}

void rs_repo_clear(struct rs_repo *repo)
{
	int borrow = repo->by_digest.borrow_keys;

	for (size_t i = 0; i < repo->ntags; i++)
		free(repo->tags[i].name);
	free(repo->tags);
	repo->tags = NULL;
	repo->ntags = repo->tags_cap = 0;
	for (size_t i = 0; i < repo->nmanifests; i++)
		rs_manifest_free(repo->manifests[i]);
	free(repo->manifests);
	repo->manifests = NULL;
	repo->nmanifests = repo->manifests_cap = 0;
	rs_map_release(&repo->by_digest);
	repo->by_digest.borrow_keys = borrow;
}

void rs_repo_set_failed(struct rs_repo *repo, const char *why)
{
	repo->failed = 1;
	/* out of memory leaves the repository failed without its reason */
	if (!repo->failure && why && *why)
		repo->failure = strdup(why);
}

static void repo_free(struct rs_repo *repo)
{
	if (!repo)
		return;
	rs_repo_clear(repo);
	free(repo->failure);
	free(repo->name);
	free(repo);
}

void rs_inventory_free(struct rs_inventory *inv)
{
	if (!inv)
		return;
	for (size_t i = 0; i < inv->nrepos; i++)
		repo_free(inv->repos[i]);
	free(inv->repos);
	rs_map_release(&inv->by_name);
	free(inv->registry);
	free(inv);
}

struct rs_repo *rs_inventory_find_repo(const struct rs_inventory *inv, const char *name)
{
	return rs_map_get(&inv->by_name, name);
}

int rs_inventory_add_repo(struct rs_repo **out, struct rs_inventory *inv, const char *name)
{
	struct rs_repo *repo = rs_inventory_find_repo(inv, name);
	int rc;

	*out = NULL;
	if (repo) {
		*out = repo;
		return 0;
	}
	rc = grow((void **)&inv->repos, &inv->repos_cap, inv->nrepos, sizeof(*inv->repos));
	if (rc < 0)
		return rc;
	repo = calloc(1, sizeof(*repo));
	if (repo)
		repo->by_digest.borrow_keys = 1;   /* keys are the manifests' own digests */
	if (!repo || !(repo->name = strdup(name))) {
		free(repo);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rc = rs_map_put(&inv->by_name, name, repo);
	if (rc < 0) {
		repo_free(repo);
		return rc;
	}
	inv->repos[inv->nrepos++] = repo;
	*out = repo;
	return 0;
}

int rs_repo_add_tag(struct rs_tag **out, struct rs_repo *repo, const char *name, const char *digest)
{
	struct rs_tag *tag;
	int rc;

	if (out)
		*out = NULL;
	rc = grow((void **)&repo->tags, &repo->tags_cap, repo->ntags, sizeof(*repo->tags));
	if (rc < 0)
		return rc;
	tag = &repo->tags[repo->ntags];
	memset(tag, 0, sizeof(*tag));
	tag->name = strdup(name);
	if (!tag->name)
		return rs_error_set(RS_ERROR, "out of memory");
	rs_strlcpy(tag->digest, digest ? digest : "", sizeof(tag->digest));
	tag->pushed_at = RS_TIME_UNKNOWN;
	repo->ntags++;
	if (out)
		*out = tag;
	return 0;
}

struct rs_tag *rs_repo_find_tag(const struct rs_repo *repo, const char *name)
{
	for (size_t i = 0; i < repo->ntags; i++)
		if (strcmp(repo->tags[i].name, name) == 0)
			return &repo->tags[i];
	return NULL;
}

int rs_repo_add_manifest(struct rs_repo *repo, struct rs_manifest *m)
{
	int rc;

	if (rs_map_get(&repo->by_digest, m->digest)) {
		rc = rs_error_set(RS_ERROR, "manifest '%s' already in '%s'", m->digest, repo->name);
		rs_manifest_free(m);
		return rc;
	}
	rc = grow((void **)&repo->manifests, &repo->manifests_cap, repo->nmanifests,
		  sizeof(*repo->manifests));
	if (rc == 0)
		rc = rs_map_put(&repo->by_digest, m->digest, m);
	if (rc < 0) {
		rs_manifest_free(m);
		return rc;
	}
	repo->manifests[repo->nmanifests++] = m;
	return 0;
}

struct rs_manifest *rs_repo_find_manifest(const struct rs_repo *repo, const char *digest)
{
	return rs_map_get(&repo->by_digest, digest);
}

static int cmp_repo(const void *a, const void *b)
{
	const struct rs_repo *ra = *(const struct rs_repo *const *)a;
	const struct rs_repo *rb = *(const struct rs_repo *const *)b;

	return strcmp(ra->name, rb->name);
}

static int cmp_tag(const void *a, const void *b)
{
	return strcmp(((const struct rs_tag *)a)->name, ((const struct rs_tag *)b)->name);
}

static int cmp_manifest(const void *a, const void *b)
{
	const struct rs_manifest *ma = *(const struct rs_manifest *const *)a;
	const struct rs_manifest *mb = *(const struct rs_manifest *const *)b;

	return strcmp(ma->digest, mb->digest);
}

void rs_inventory_sort(struct rs_inventory *inv)
{
	if (inv->nrepos > 1)
		qsort(inv->repos, inv->nrepos, sizeof(*inv->repos), cmp_repo);
	for (size_t i = 0; i < inv->nrepos; i++) {
		struct rs_repo *repo = inv->repos[i];

		if (repo->ntags > 1)
			qsort(repo->tags, repo->ntags, sizeof(*repo->tags), cmp_tag);
		if (repo->nmanifests > 1)
			qsort(repo->manifests, repo->nmanifests, sizeof(*repo->manifests), cmp_manifest);
	}
}

/* Most manifests have no subject: they share this instead of 72 bytes each. */
static const char no_subject[] = "";

int rs_manifest_set_subject(struct rs_manifest *m, const char *digest)
{
	char *copy = digest && *digest ? strdup(digest) : (char *)no_subject;

	if (!copy)
		return rs_error_set(RS_ERROR, "out of memory");
	if (m->subject != no_subject)
		free(m->subject);
	m->subject = copy;
	return 0;
}

int rs_manifest_new(struct rs_manifest **out, const char *digest)
{
	struct rs_manifest *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return rs_error_set(RS_ERROR, "out of memory");
	rs_strlcpy(m->digest, digest ? digest : "", sizeof(m->digest));
	m->subject = (char *)no_subject;
	m->created = INT64_MIN;
	m->stored_at = INT64_MIN;
	*out = m;
	return 0;
}

static void descriptor_release(struct rs_descriptor *d)
{
	rs_media_type_free(d->media_type);
	free(d->platform);
	d->media_type = NULL;
	d->platform = NULL;
}

static int descriptor_copy(struct rs_descriptor *dst, const struct rs_descriptor *src)
{
	*dst = *src;
	dst->media_type = rs_media_type_dup(src->media_type);
	dst->platform = rs_strdup(src->platform);
	if ((src->media_type && !dst->media_type) || (src->platform && !dst->platform)) {
		descriptor_release(dst);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

static int descriptors_copy(struct rs_descriptor **dst, const struct rs_descriptor *src, size_t n)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = calloc(n, sizeof(**dst));
	if (!*dst)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (descriptor_copy(&(*dst)[i], &src[i]) < 0) {
			for (size_t j = 0; j < i; j++)
				descriptor_release(&(*dst)[j]);
			free(*dst);
			*dst = NULL;
			return RS_ERROR;
		}
	}
	return 0;
}

int rs_manifest_dup(struct rs_manifest **out, const struct rs_manifest *m)
{
	struct rs_manifest *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return rs_error_set(RS_ERROR, "out of memory");
	*c = *m;
	c->media_type = NULL;
	c->artifact_type = NULL;
	c->subject = (char *)no_subject;
	c->config.media_type = c->config.platform = NULL;
	c->layers = c->children = NULL;
	c->nlayers = c->nchildren = 0;
	if ((m->media_type && !(c->media_type = rs_media_type_dup(m->media_type))) ||
	    (m->artifact_type && !(c->artifact_type = strdup(m->artifact_type))) ||
	    descriptor_copy(&c->config, &m->config) < 0 ||
	    descriptors_copy(&c->layers, m->layers, m->nlayers) < 0 ||
	    descriptors_copy(&c->children, m->children, m->nchildren) < 0 ||
	    rs_manifest_set_subject(c, m->subject) < 0) {
		rs_manifest_free(c);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	c->nlayers = m->nlayers;
	c->nchildren = m->nchildren;
	*out = c;
	return 0;
}

void rs_manifest_free(struct rs_manifest *m)
{
	if (!m)
		return;
	rs_media_type_free(m->media_type);
	free(m->artifact_type);
	if (m->subject != no_subject)
		free(m->subject);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->nlayers; i++)
		descriptor_release(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->nchildren; i++)
		descriptor_release(&m->children[i]);
	free(m->children);
	free(m);
}
