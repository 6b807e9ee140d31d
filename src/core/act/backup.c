/* backup.c: the backup directory: manifests byte for byte and the JSON
 * index that says which repository and tags each belonged to. */
#include "act/backup.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/file.h"
#include "net/url.h"
#include "model/manifest.h"
#include "policy/planfile.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_FORMAT "regsweep-backup"
#define BACKUP_VERSION 1
#define INDEX_NAME "index.json"
#define INDEX_MAX_BYTES (256u * 1024 * 1024)
#define BODY_MAX_BYTES (16u * 1024 * 1024)

char *rs_backup_default_dir(char *out, size_t outsize, int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, outsize, "./regsweep-backup-%s", stamp);
	return out;
}

static void entry_release(struct rs_backup_entry *e)
{
	free(e->repo);
	free(e->media_type);
	for (size_t i = 0; i < e->ntags; i++)
		free(e->tags[i]);
	free(e->tags);
	free(e->file);
	memset(e, 0, sizeof(*e));
}

void rs_backup_free(struct rs_backup *backup)
{
	if (!backup)
		return;
	for (size_t i = 0; i < backup->nentries; i++)
		entry_release(&backup->entries[i]);
	free(backup->entries);
	rs_map_release(&backup->index);
	free(backup->dir);
	free(backup->registry);
	free(backup);
}

static int path_in(struct rs_buf *out, const struct rs_backup *b, const char *name)
{
	rs_buf_reset(out);
	return rs_buf_printf(out, "%s/%s", b->dir, name);
}

/* A whole file, as rs_file_read, with a message when it is missing. */
static int read_whole(char **out, size_t *len, const char *path, size_t max)
{
	int rc = rs_file_read(out, len, path, max);

	if (rc == RS_ENOTFOUND)
		return rs_error_set(RS_ENOTFOUND, "cannot read '%s': it does not exist", path);
	return rc;
}

static int make_dir(const char *path)
{
	return rs_file_private_dir(path);
}

/* -------------------------------------------------------------- the index */

static int index_key(char *out, size_t outsize, const char *repo, const char *digest)
{
	if (snprintf(out, outsize, "%s@%s", repo, digest) >= (int)outsize)
		return rs_error_set(RS_EUSAGE, "repository name '%.64s...' is too long", repo);
	return 0;
}

/* Remember entry `i` under its repository and digest. */
static int index_entry(struct rs_backup *b, size_t i)
{
	char key[600];
	int rc = index_key(key, sizeof(key), b->entries[i].repo, b->entries[i].digest);

	if (rc == 0 && rs_map_get(&b->index, key))
		rc = rs_error_set(RS_EUSAGE, "backup '%s' lists %s twice", b->dir, key);
	if (rc == 0)
		rc = rs_map_put(&b->index, key, (void *)(uintptr_t)(i + 1));
	return rc;
}

static int parse_entry(struct rs_backup_entry *e, const cJSON *obj, const char *dir)
{
	const char *repo = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "repository"));
	const char *digest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "digest"));
	const char *mt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "media_type"));
	const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "file"));
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(obj, "tags");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(obj, "size");
	const cJSON *untag = cJSON_GetObjectItemCaseSensitive(obj, "untag");
	const cJSON *tag;

	if (!repo || !rs_valid_repo_name(repo) || !digest || !rs_digest_valid(digest) ||
	    strlen(digest) >= RS_DIGEST_MAX || (tags && !cJSON_IsArray(tags)))
		return rs_error_set(RS_EUSAGE, "backup '%s' has an invalid entry", dir);
	/* the file name is derived from the digest, never taken from the index */
	if (file && strcmp(file, "") != 0) {
		char want[RS_DIGEST_MAX + 16];

		snprintf(want, sizeof(want), "manifests/%.*s/%s", (int)strcspn(digest, ":"), digest,
			 strchr(digest, ':') + 1);
		if (strcmp(file, want) != 0)
			return rs_error_set(RS_EUSAGE, "backup '%s' names an unexpected file '%s'", dir,
					    file);
		if (!(e->file = strdup(want)))
			return rs_error_set(RS_ERROR, "out of memory");
	}
	rs_strlcpy(e->digest, digest, sizeof(e->digest));
	e->repo = strdup(repo);
	e->media_type = rs_strdup(mt);
	e->size = cJSON_IsNumber(size) ? rs_double_to_int64(size->valuedouble, 0) : 0;
	e->untag = cJSON_IsTrue(untag);
	if (!e->repo || (mt && !e->media_type))
		return rs_error_set(RS_ERROR, "out of memory");
	e->tags = calloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof(*e->tags));
	if (!e->tags)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(tag, tags) {
		if (!cJSON_IsString(tag) || !rs_valid_tag(tag->valuestring))
			return rs_error_set(RS_EUSAGE, "backup '%s' has an invalid tag", dir);
		if (!(e->tags[e->ntags] = strdup(tag->valuestring)))
			return rs_error_set(RS_ERROR, "out of memory");
		e->ntags++;
	}
	return 0;
}

static int parse_index(struct rs_backup *b, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "manifests"), *item;
	const char *format = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "format"));
	const char *registry = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "registry"));
	const char *created = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "created"));
	int rc = 0;

	if (!root || !format || strcmp(format, BACKUP_FORMAT) != 0 || !registry ||
	    !cJSON_IsArray(list)) {
		cJSON_Delete(root);
		return rs_error_set(RS_EUSAGE, "'%s' is not a regsweep backup (bad %s)", b->dir,
				    INDEX_NAME);
	}
	b->registry = strdup(registry);
	if (!created || rs_time_parse(&b->created, created) < 0)
		b->created = RS_TIME_UNKNOWN;
	b->entries_cap = (size_t)cJSON_GetArraySize(list) + 1;
	b->entries = calloc(b->entries_cap, sizeof(*b->entries));
	if (!b->registry || !b->entries)
		rc = rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, list) {
		if (rc < 0)
			break;
		b->nentries++;
		rc = parse_entry(&b->entries[b->nentries - 1], item, b->dir);
		if (rc == 0)
			rc = index_entry(b, b->nentries - 1);
	}
	cJSON_Delete(root);
	return rc;
}

int rs_backup_save(const struct rs_backup *b)
{
	cJSON *root = cJSON_CreateObject(), *list;
	struct rs_buf path = RS_BUF_INIT, text = RS_BUF_INIT;
	char when[64], *json = NULL;
	int rc = 0;

	if (!root)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_AddStringToObject(root, "format", BACKUP_FORMAT);
	cJSON_AddNumberToObject(root, "version", BACKUP_VERSION);
	cJSON_AddStringToObject(root, "registry", b->registry);
	cJSON_AddStringToObject(root, "created", rs_time_format(when, sizeof(when), b->created));
	list = cJSON_AddArrayToObject(root, "manifests");
	for (size_t i = 0; list && i < b->nentries; i++) {
		const struct rs_backup_entry *e = &b->entries[i];
		cJSON *obj = cJSON_CreateObject(), *tags;

		if (!obj)
			break;
		cJSON_AddStringToObject(obj, "repository", e->repo);
		cJSON_AddStringToObject(obj, "digest", e->digest);
		if (e->media_type)
			cJSON_AddStringToObject(obj, "media_type", e->media_type);
		tags = cJSON_AddArrayToObject(obj, "tags");
		for (size_t t = 0; tags && t < e->ntags; t++)
			cJSON_AddItemToArray(tags, cJSON_CreateString(e->tags[t]));
		cJSON_AddNumberToObject(obj, "size", (double)e->size);
		if (e->file)
			cJSON_AddStringToObject(obj, "file", e->file);
		if (e->untag)
			cJSON_AddBoolToObject(obj, "untag", 1);
		cJSON_AddItemToArray(list, obj);
	}
	json = cJSON_Print(root);
	cJSON_Delete(root);
	if (!json || !list)
		rc = rs_error_set(RS_ERROR, "out of memory");
	if (rc == 0)
		rc = rs_buf_printf(&text, "%s\n", json);
	if (rc == 0)
		rc = path_in(&path, b, INDEX_NAME);
	if (rc == 0)
		rc = rs_file_write(path.ptr, text.ptr, text.len);
	free(json);
	rs_buf_release(&path);
	rs_buf_release(&text);
	return rc;
}

/* ------------------------------------------------------------ open / load */

static int backup_new(struct rs_backup **out, const char *dir)
{
	struct rs_backup *b = calloc(1, sizeof(*b));
	size_t n;

	*out = NULL;
	if (!b || !(b->dir = strdup(dir))) {
		free(b);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	n = strlen(b->dir);
	while (n > 1 && b->dir[n - 1] == '/')
		b->dir[--n] = '\0';
	*out = b;
	return 0;
}

static int load_index(struct rs_backup *b)
{
	struct rs_buf path = RS_BUF_INIT;
	char *text = NULL;
	size_t len = 0;
	int rc = path_in(&path, b, INDEX_NAME);

	if (rc == 0)
		rc = read_whole(&text, &len, path.ptr, INDEX_MAX_BYTES);
	if (rc == RS_ENOTFOUND)
		rc = rs_error_set(RS_EUSAGE, "'%s' is not a regsweep backup (no %s)", b->dir,
				  INDEX_NAME);
	if (rc == 0)
		rc = parse_index(b, text, len);
	free(text);
	rs_buf_release(&path);
	return rc;
}

int rs_backup_load(struct rs_backup **out, const char *dir)
{
	struct rs_backup *b;
	int rc = backup_new(&b, dir);

	*out = NULL;
	if (rc < 0)
		return rc;
	rc = load_index(b);
	if (rc < 0) {
		rs_backup_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	int empty = 1;

	if (!d)
		return 0;
	while (empty && (ent = readdir(d)))
		if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

int rs_backup_open(struct rs_backup **out, const char *dir, const char *registry, int64_t now)
{
	struct rs_backup *b = NULL;
	struct rs_buf path = RS_BUF_INIT, index = RS_BUF_INIT;
	struct stat st;
	char url[2048];
	int rc;

	*out = NULL;
	rc = backup_new(&b, dir);
	if (rc < 0)
		return rc;
	rs_url_strip_userinfo(url, sizeof(url), registry);
	/* a backup holds what a deletion took: only in a directory of our own */
	rc = rs_file_private_dir(b->dir);
	if (rc < 0) {
		rs_error_prefix("backup directory: ");
		goto out;
	}
	rc = path_in(&index, b, INDEX_NAME);
	if (rc == 0 && stat(index.ptr, &st) == 0) {
		rc = load_index(b);
		if (rc == 0 && strcmp(b->registry, url) != 0)
			rc = rs_error_set(RS_EUSAGE, "backup directory '%s' holds a backup of '%s', not "
					  "of '%s': use another --backup-dir", b->dir, b->registry, url);
	} else if (rc == 0 && !dir_is_empty(b->dir)) {
		rc = rs_error_set(RS_EUSAGE, "backup directory '%s' is not empty and holds no "
				  "regsweep backup: use another --backup-dir", b->dir);
	} else if (rc == 0) {
		b->created = now;
		if (!(b->registry = strdup(url)))
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	if (rc == 0)
		rc = path_in(&path, b, "manifests");
	if (rc == 0)
		rc = make_dir(path.ptr);
	if (rc == 0)
		rc = path_in(&path, b, "manifests/sha256");
	if (rc == 0)
		rc = make_dir(path.ptr);
	if (rc == 0)
		rc = rs_backup_save(b);
out:
	rs_buf_release(&path);
	rs_buf_release(&index);
	if (rc < 0) {
		rs_backup_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* ---------------------------------------------------------------- entries */

static int merge_tags(struct rs_backup_entry *e, char *const *tags, size_t ntags)
{
	for (size_t i = 0; i < ntags; i++) {
		int known = 0;
		char **grown;

		for (size_t k = 0; k < e->ntags; k++)
			known |= strcmp(e->tags[k], tags[i]) == 0;
		if (known)
			continue;
		grown = realloc(e->tags, (e->ntags + 1) * sizeof(*grown));
		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		e->tags = grown;
		if (!(e->tags[e->ntags] = strdup(tags[i])))
			return rs_error_set(RS_ERROR, "out of memory");
		e->ntags++;
	}
	return 0;
}

static int backup_add(struct rs_backup *b, const char *repo, const char *digest,
		      const char *media_type, char *const *tags, size_t ntags, const void *body,
		      size_t len, int untag);

int rs_backup_add(struct rs_backup *b, const char *repo, const char *digest,
		  const char *media_type, char *const *tags, size_t ntags, const void *body,
		  size_t len)
{
	return backup_add(b, repo, digest, media_type, tags, ntags, body, len, 0);
}

int rs_backup_add_untag(struct rs_backup *b, const char *repo, const char *digest,
			const char *media_type, char *const *tags, size_t ntags, const void *body,
			size_t len)
{
	return backup_add(b, repo, digest, media_type, tags, ntags, body, len, 1);
}

static int backup_add(struct rs_backup *b, const char *repo, const char *digest,
		      const char *media_type, char *const *tags, size_t ntags, const void *body,
		      size_t len, int untag)
{
	struct rs_backup_entry *e = NULL, *grown;
	struct rs_buf path = RS_BUF_INIT, file = RS_BUF_INIT;
	const char *colon = strchr(digest, ':');
	char key[600];
	uintptr_t slot;
	int rc = 0;

	if (!colon || !rs_digest_valid(digest))
		return rs_error_set(RS_EPROTO, "invalid digest '%s'", digest);
	if (body && !rs_digest_matches(digest, body, len))
		return rs_error_set(RS_EPROTO, "the manifest read for %s does not match its digest",
				    digest);
	if (body) {
		rc = rs_buf_printf(&file, "manifests/%.*s/%s", (int)(colon - digest), digest,
				   colon + 1);
		if (rc == 0)
			rc = path_in(&path, b, file.ptr);
		if (rc == 0)
			rc = rs_file_write(path.ptr, body, len);
		if (rc < 0)
			goto out;
	}
	rc = index_key(key, sizeof(key), repo, digest);
	if (rc < 0)
		goto out;
	slot = (uintptr_t)rs_map_get(&b->index, key);
	if (slot)
		e = &b->entries[slot - 1];
	if (!e && b->nentries == b->entries_cap) {
		size_t cap = b->entries_cap ? b->entries_cap * 2 : 16;

		grown = realloc(b->entries, cap * sizeof(*grown));
		if (!grown) {
			rc = rs_error_set(RS_ERROR, "out of memory");
			goto out;
		}
		b->entries = grown;
		b->entries_cap = cap;
	}
	if (!e) {
		e = &b->entries[b->nentries++];
		memset(e, 0, sizeof(*e));
		rs_strlcpy(e->digest, digest, sizeof(e->digest));
		e->repo = strdup(repo);
		e->media_type = rs_strdup(media_type);
		e->untag = untag;
		if (!e->repo || (media_type && !e->media_type)) {
			rc = rs_error_set(RS_ERROR, "out of memory");
			goto out;
		}
		rc = index_entry(b, b->nentries - 1);
		if (rc < 0)
			goto out;
	}
	if (body && !e->file) {
		e->file = rs_buf_detach(&file);
		e->size = (int64_t)len;
		if (!e->file)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	if (rc == 0)
		rc = merge_tags(e, tags, ntags);
out:
	rs_buf_release(&path);
	rs_buf_release(&file);
	return rc;
}

int rs_backup_read(const struct rs_backup *b, const struct rs_backup_entry *e, char **body,
		   size_t *len)
{
	struct rs_buf path = RS_BUF_INIT;
	int rc;

	*body = NULL;
	*len = 0;
	if (!e->file)
		return rs_error_set(RS_ENOTFOUND, "the backup holds no copy of %s", e->digest);
	rc = path_in(&path, b, e->file);
	if (rc == 0)
		rc = read_whole(body, len, path.ptr, BODY_MAX_BYTES);
	if (rc == 0 && !rs_digest_matches(e->digest, *body, *len)) {
		rc = rs_error_set(RS_EPROTO, "'%s' does not match its digest: the backup is damaged",
				  path.ptr);
		free(*body);
		*body = NULL;
		*len = 0;
	}
	rs_buf_release(&path);
	return rc;
}

int rs_backup_write_file(const struct rs_backup *b, const char *name, const char *text)
{
	struct rs_buf path = RS_BUF_INIT;
	int rc = path_in(&path, b, name);

	if (rc == 0)
		rc = rs_file_write(path.ptr, text, strlen(text));
	rs_buf_release(&path);
	return rc;
}
