/* cache.c: the on-disk content-addressed cache and the per-registry tag map. */
#include "cache.h"
#include "buf.h"
#include "error.h"
#include "log.h"
#include "map.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAX_ENTRY (8u * 1024 * 1024)

struct rs_cache {
	char *dir;
	char *tags_registry;          /* registry whose old map is loaded */
	/* "repo\ttag" -> digest; one allocation per entry holds the key and,
	 * after its NUL, the digest: the map borrows the key from it */
	struct rs_map old_tags;
	struct rs_cache_stats stats;
};

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return rs_error_set(RS_ERROR, "cache path too long");
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return rs_error_set(RS_ERROR, "cannot create '%s': %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return rs_error_set(RS_ERROR, "cannot create '%s': %s", tmp, strerror(errno));
	return 0;
}

int rs_cache_open(struct rs_cache **out, const char *dir)
{
	struct rs_cache *cache;
	struct rs_buf path = RS_BUF_INIT;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int rc;

	*out = NULL;
	if (dir && *dir)
		rc = rs_buf_puts(&path, dir);
	else if (xdg && *xdg == '/')
		rc = rs_buf_printf(&path, "%s/regsweep", xdg);
	else if (home && *home)
		rc = rs_buf_printf(&path, "%s/.cache/regsweep", home);
	else
		return rs_error_set(RS_EUSAGE, "no cache directory: set --cache-dir or HOME, "
				    "or use --no-cache");
	if (rc < 0)
		return rc;
	rc = mkdir_p(path.ptr);
	if (rc < 0) {
		rs_buf_release(&path);
		return rc;
	}
	cache = calloc(1, sizeof(*cache));
	if (!cache) {
		rs_buf_release(&path);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	cache->dir = rs_buf_detach(&path);
	cache->old_tags.borrow_keys = 1;
	*out = cache;
	return 0;
}

static void free_tags(struct rs_map *map)
{
	size_t pos = 0;
	const char *key;

	while (rs_map_next(map, &pos, &key, NULL))
		free((char *)key);
	rs_map_release(map);
	map->borrow_keys = 1;
}

void rs_cache_free(struct rs_cache *cache)
{
	if (!cache)
		return;
	free_tags(&cache->old_tags);
	free(cache->tags_registry);
	free(cache->dir);
	free(cache);
}

const char *rs_cache_dir(const struct rs_cache *cache)
{
	return cache->dir;
}

static int entry_path(char *out, size_t outsize, const struct rs_cache *cache, const char *digest)
{
	if (!rs_digest_valid(digest))
		return rs_error_set(RS_EPROTO, "invalid digest '%.80s'", digest);
	if ((size_t)snprintf(out, outsize, "%s/blobs/sha256/%.2s/%s", cache->dir, digest + 7,
			     digest + 7) >= outsize)
		return rs_error_set(RS_ERROR, "cache path too long");
	return 0;
}

int rs_cache_get(const struct rs_cache *cache, const char *digest, char **out, size_t *len)
{
	struct rs_cache *mut = (struct rs_cache *)cache;
	char path[4096];
	struct stat st;
	char *data;
	ssize_t n;
	int fd;

	*out = NULL;
	*len = 0;
	if (entry_path(path, sizeof(path), cache, digest) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		mut->stats.misses++;
		return 0;
	}
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > CACHE_MAX_ENTRY) {
		close(fd);
		goto corrupt;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		close(fd);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size || !rs_digest_matches(digest, data, (size_t)n)) {
		free(data);
		goto corrupt;
	}
	data[n] = '\0';
	*out = data;
	*len = (size_t)n;
	mut->stats.hits++;
	return 1;
corrupt:
	rs_log(RS_LOG_VERBOSE, "cache: entry for %s is corrupt: dropped, reading it again", digest);
	unlink(path);
	mut->stats.corrupt++;
	mut->stats.misses++;
	return 0;
}

int rs_cache_put(const struct rs_cache *cache, const char *digest, const void *data, size_t len)
{
	char path[4096], dir[4096];
	struct rs_cache *mut = (struct rs_cache *)cache;
	int fd, rc;

	if (!rs_digest_matches(digest, data, len))
		return rs_error_set(RS_EPROTO, "refusing to cache bytes that do not match %s", digest);
	rc = entry_path(path, sizeof(path), cache, digest);
	if (rc < 0)
		return rc;
	/* No temp file and rename: entries are verified when read, so a torn
	 * write is only a miss. An entry that exists is left alone. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		snprintf(dir, sizeof(dir), "%s/blobs/sha256/%.2s", cache->dir, digest + 7);
		rc = mkdir_p(dir);
		if (rc < 0)
			return rc;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return errno == EEXIST ? 0 : rs_error_set(RS_ERROR, "cannot write '%s': %s", path,
							  strerror(errno));
	if (write(fd, data, len) != (ssize_t)len) {
		rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return rc;
	}
	if (close(fd) < 0) {
		unlink(path);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
	}
	mut->stats.writes++;
	return 0;
}

static void tags_path(char *out, size_t outsize, const struct rs_cache *cache, const char *registry)
{
	char digest[RS_DIGEST_MAX];

	rs_digest_sha256(digest, registry, strlen(registry));
	snprintf(out, outsize, "%s/tags/%.16s", cache->dir, digest + 7);
}

static int load_tags(struct rs_cache *cache, const char *registry)
{
	char path[4096], line[1024];
	FILE *fp;

	if (cache->tags_registry && strcmp(cache->tags_registry, registry) == 0)
		return 0;
	free_tags(&cache->old_tags);
	free(cache->tags_registry);
	cache->tags_registry = strdup(registry);
	if (!cache->tags_registry)
		return rs_error_set(RS_ERROR, "out of memory");
	tags_path(path, sizeof(path), cache, registry);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		char repo[512], tag[256], digest[RS_DIGEST_MAX + 8];
		size_t klen;
		char *entry;

		if (sscanf(line, "%511s %255s %79s", repo, tag, digest) != 3 || !rs_digest_valid(digest))
			continue;
		klen = strlen(repo) + 1 + strlen(tag);
		entry = malloc(klen + 1 + strlen(digest) + 1);
		if (!entry)
			break;
		sprintf(entry, "%s\t%s", repo, tag);
		strcpy(entry + klen + 1, digest);
		if (rs_map_get(&cache->old_tags, entry) || rs_map_put(&cache->old_tags, entry,
								      entry + klen + 1) < 0) {
			free(entry);
			continue;
		}
	}
	fclose(fp);
	return 0;
}

const char *rs_cache_tag_digest(struct rs_cache *cache, const char *registry, const char *repo,
				const char *tag)
{
	char key[800];

	if (load_tags(cache, registry) < 0)
		return NULL;
	snprintf(key, sizeof(key), "%s\t%s", repo, tag);
	return rs_map_get(&cache->old_tags, key);
}

int rs_cache_save_tags(struct rs_cache *cache, const char *registry, rs_cache_tag_iter next,
		       void *userdata)
{
	char path[4096], tmp[4200], dir[4096];
	const char *repo, *tag, *digest;
	FILE *fp;
	int fd, rc;

	free_tags(&cache->old_tags);
	free(cache->tags_registry);
	cache->tags_registry = NULL;
	snprintf(dir, sizeof(dir), "%s/tags", cache->dir);
	rc = mkdir_p(dir);
	if (rc < 0)
		return rc;
	tags_path(path, sizeof(path), cache, registry);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", tmp, strerror(errno));
	}
	while (next(userdata, &repo, &tag, &digest))
		fprintf(fp, "%s %s %s\n", repo, tag, digest);
	if (fclose(fp) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
	}
	return 0;
}

void rs_cache_stats(const struct rs_cache *cache, struct rs_cache_stats *out)
{
	*out = cache->stats;
}
