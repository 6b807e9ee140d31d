/* cache.c: the on-disk content-addressed cache (packs with sorted indexes)
 * and the per-registry tag map. */
#include "scan/cache.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAX_ENTRY (8u * 1024 * 1024)
#define PACK_MAGIC "RSCPACK1"
#define IDX_MAGIC "RSCIDX01"
#define MAGIC_LEN 8
#define IDX_HEADER 16              /* magic, entry count */
#define IDX_ENTRY 48               /* id[32], offset, length, last-used day */
#define ID_LEN RS_DIGEST_ID_LEN
#define TMP_MAX_AGE (24 * 3600)    /* an abandoned temporary pack is removed after this */
#define MERGE_MIN_DEAD (1u << 20)  /* dead bytes below this never trigger a merge */

/* flags per entry, in memory only */
#define E_USED 1    /* read or written by this run */
#define E_BAD 2     /* failed verification */

/* An index entry in memory: this run's new entries, and merge candidates. */
struct entry {
	unsigned char id[ID_LEN];
	uint64_t off;
	uint32_t len;
	uint32_t day;
	uint32_t pack;   /* merge: index into packs[], or npacks for the new pack */
};

struct old_tag {
	uint64_t hash;
	unsigned char id[ID_LEN];
};

struct pack {
	char *name;              /* path without the extension */
	int fd;                  /* the .pack, for pread */
	uint64_t size;
	unsigned char *idx;      /* the mapped .idx */
	size_t map_len;
	size_t count;
	int writable;            /* the index may be stamped in place */
	unsigned char *flags;    /* per entry: E_USED, E_BAD */
};

struct rs_cache {
	char *dir;
	char *packs_dir;
	struct pack *packs;      /* newest first */
	size_t npacks;
	uint32_t today;

	/* this run's pack */
	FILE *out;
	char *out_path;
	uint64_t out_off;
	int out_dirty;           /* bytes buffered in `out`, not yet readable */
	struct entry *fresh;
	unsigned char *fresh_flags;
	size_t nfresh, fresh_cap;
	uint32_t *table;         /* open addressing: index + 1 into fresh, 0 empty */
	size_t table_cap;
	int failed;              /* writing this run's pack failed: stop adding */

	char *tags_registry;          /* registry whose old map is loaded */
	/* that map, sorted by the hash of "repo\ttag": 40 bytes a tag (a
	 * colliding hash can only cost a 200 instead of a 304: the registry
	 * answers 304 only when the tag still has the digest sent) */
	struct old_tag *old_tags;
	size_t nold_tags;
	char old_digest[RS_DIGEST_MAX]; /* the last digest rs_cache_tag_digest gave */
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

/* --- encoding ------------------------------------------------------------ */

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The 32 bytes a sha256 digest names; 0 when it is not one. */
static int digest_id(unsigned char id[ID_LEN], const char *digest)
{
	return rs_digest_id(id, digest) == 1;
}


static uint32_t today_utc(void)
{
	time_t now = time(NULL);

	return now > 0 ? (uint32_t)(now / 86400) : 0;
}

/* --- packs on disk ------------------------------------------------------- */

static void pack_close(struct pack *p)
{
	if (p->idx)
		munmap(p->idx, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p->flags);
	free(p->name);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

/* Map `base`.idx and open `base`.pack; 0 and a closed pack when either is
 * missing or malformed (such a pair is simply not used). */
static int pack_load(struct pack *p, const char *base)
{
	char path[4200];
	unsigned char magic[MAGIC_LEN];
	struct stat st;
	int fd;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	snprintf(path, sizeof(path), "%s.idx", base);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		p->writable = 1;
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_size < IDX_HEADER ||
	    (uint64_t)(st.st_size - IDX_HEADER) % IDX_ENTRY != 0) {
		close(fd);
		rs_log(RS_LOG_VERBOSE, "cache: %s is malformed: not used", path);
		return 0;
	}
	p->map_len = (size_t)st.st_size;
	p->idx = mmap(NULL, p->map_len, PROT_READ | (p->writable ? PROT_WRITE : 0), MAP_SHARED,
		      fd, 0);
	close(fd);
	if (p->idx == MAP_FAILED) {
		p->idx = NULL;
		return 0;
	}
	p->count = (p->map_len - IDX_HEADER) / IDX_ENTRY;
	if (memcmp(p->idx, IDX_MAGIC, MAGIC_LEN) != 0 || get_be64(p->idx + MAGIC_LEN) != p->count)
		goto bad;
	snprintf(path, sizeof(path), "%s.pack", base);
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0 || fstat(p->fd, &st) < 0 || pread(p->fd, magic, MAGIC_LEN, 0) != MAGIC_LEN ||
	    memcmp(magic, PACK_MAGIC, MAGIC_LEN) != 0)
		goto bad;
	p->size = (uint64_t)st.st_size;
	p->flags = calloc(p->count ? p->count : 1, 1);
	p->name = strdup(base);
	if (!p->flags || !p->name) {
		pack_close(p);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 1;
bad:
	rs_log(RS_LOG_VERBOSE, "cache: pack %s is malformed: not used", base);
	pack_close(p);
	return 0;
}

static int by_mtime_desc(const void *a, const void *b)
{
	const struct pack *pa = a, *pb = b;
	struct stat sa, sb;

	if (fstat(pa->fd, &sa) < 0 || fstat(pb->fd, &sb) < 0)
		return 0;
	if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec)
		return sa.st_mtim.tv_sec < sb.st_mtim.tv_sec ? 1 : -1;
	return strcmp(pb->name, pa->name);
}

/* The names (without extension) of the published packs in `dir`. */
static int list_packs(const char *dir, char ***out, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name;

		if (strncmp(de->d_name, "pack-", 5) != 0 || len < 9 ||
		    strcmp(de->d_name + len - 4, ".idx") != 0)
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));

			if (!grown)
				goto oom;
			names = grown;
			cap = cap ? cap * 2 : 16;
		}
		name = malloc(strlen(dir) + 1 + len);
		if (!name)
			goto oom;
		sprintf(name, "%s/%.*s", dir, (int)(len - 4), de->d_name);
		names[n++] = name;
	}
	closedir(d);
	*out = names;
	*count = n;
	return 0;
oom:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rs_error_set(RS_ERROR, "out of memory");
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int load_packs(struct rs_cache *cache)
{
	char **names;
	size_t n;
	int rc = list_packs(cache->packs_dir, &names, &n);

	if (rc < 0)
		return rc;
	cache->packs = n ? calloc(n, sizeof(*cache->packs)) : NULL;
	if (n && !cache->packs) {
		free_names(names, n);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t i = 0; i < n && rc >= 0; i++) {
		rc = pack_load(&cache->packs[cache->npacks], names[i]);
		if (rc == 1)
			cache->npacks++;
	}
	free_names(names, n);
	if (rc < 0)
		return rc;
	/* newest first: a fresh copy of an entry wins over an older one */
	if (cache->npacks > 1)
		qsort(cache->packs, cache->npacks, sizeof(*cache->packs), by_mtime_desc);
	return 0;
}

/* The old layout, one file per entry: removed once, it is only a cache. */
static int unlink_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* What a crash leaves in the packs directory: a pack published without its
 * index (the two renames of publish() are back to back, so one older than a
 * minute has none coming), and temporary files of a process that is gone. */
static void sweep(const struct rs_cache *cache)
{
	DIR *d = opendir(cache->packs_dir);
	struct dirent *de;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		char path[4400];
		struct stat st;
		long pid;

		snprintf(path, sizeof(path), "%s/%s", cache->packs_dir, name);
		if (strncmp(name, "pack-", 5) == 0 && len > 10 && strcmp(name + len - 5, ".pack") == 0) {
			char idx[4400];

			snprintf(idx, sizeof(idx), "%.*s.idx", (int)(strlen(path) - 5), path);
			if (access(idx, F_OK) == 0 || stat(path, &st) < 0 || st.st_mtime > now - 60)
				continue;
			rs_log(RS_LOG_VERBOSE, "cache: removing '%s', which a crash left without its index",
			       name);
			unlink(path);
		} else if ((sscanf(name, ".tmp-%ld.", &pid) == 1 || sscanf(name, "tmp-%ld-", &pid) == 1) &&
			   pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			rs_log(RS_LOG_VERBOSE, "cache: removing '%s', left by a run that is gone", name);
			unlink(path);
		}
	}
	closedir(d);
}

int rs_cache_open(struct rs_cache **out, const char *dir)
{
	struct rs_cache *cache;
	struct rs_buf path = RS_BUF_INIT;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char legacy[4200];
	struct stat st;
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
	rc = rs_buf_puts(&path, "/packs");
	if (rc == 0)
		rc = mkdir_p(path.ptr);
	if (rc < 0) {
		rs_buf_release(&path);
		return rc;
	}
	cache = calloc(1, sizeof(*cache));
	if (!cache || !(cache->packs_dir = strdup(path.ptr))) {
		free(cache);
		rs_buf_release(&path);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	path.ptr[path.len - strlen("/packs")] = '\0';
	cache->dir = rs_buf_detach(&path);
	cache->today = today_utc();
	snprintf(legacy, sizeof(legacy), "%s/blobs", cache->dir);
	if (lstat(legacy, &st) == 0 && S_ISDIR(st.st_mode)) {
		rs_log(RS_LOG_VERBOSE, "cache: removing the old one-file-per-entry layout");
		nftw(legacy, unlink_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	sweep(cache);
	rc = load_packs(cache);
	if (rc < 0) {
		rs_cache_free(cache);
		return rc;
	}
	*out = cache;
	return 0;
}

void rs_cache_set_today(struct rs_cache *cache, uint32_t day)
{
	cache->today = day;
}

const char *rs_cache_dir(const struct rs_cache *cache)
{
	return cache->dir;
}

/* --- lookup -------------------------------------------------------------- */

static const unsigned char *idx_entry(const struct pack *p, size_t i)
{
	return p->idx + IDX_HEADER + i * IDX_ENTRY;
}

/* Binary search; the index is sorted by id (an unsorted one only misses). */
static int pack_find(const struct pack *p, const unsigned char *id, size_t *pos)
{
	size_t lo = 0, hi = p->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(idx_entry(p, mid), id, ID_LEN);

		if (c == 0) {
			*pos = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static uint64_t id_hash(const unsigned char *id)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));   /* a digest: already uniform */
	return h;
}

/* This run's entry for `id`: index into fresh, or -1. */
static long fresh_find(const struct rs_cache *cache, const unsigned char *id)
{
	size_t mask = cache->table_cap - 1;

	if (!cache->table_cap)
		return -1;
	for (size_t i = id_hash(id) & mask, n = 0; n < cache->table_cap; i = (i + 1) & mask, n++) {
		uint32_t slot = cache->table[i];

		if (!slot)
			return -1;
		if (memcmp(cache->fresh[slot - 1].id, id, ID_LEN) == 0)
			return (long)slot - 1;
	}
	return -1;
}

static void table_insert(uint32_t *table, size_t cap, const unsigned char *id, uint32_t slot)
{
	size_t mask = cap - 1, i = id_hash(id) & mask;

	while (table[i])
		i = (i + 1) & mask;
	table[i] = slot;
}

static int fresh_add(struct rs_cache *cache, const unsigned char *id, uint64_t off, uint32_t len)
{
	struct entry *e;

	if (cache->nfresh == cache->fresh_cap) {
		size_t cap = cache->fresh_cap ? cache->fresh_cap * 2 : 256;
		struct entry *grown = realloc(cache->fresh, cap * sizeof(*grown));
		unsigned char *flags;

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		cache->fresh = grown;
		flags = realloc(cache->fresh_flags, cap);
		if (!flags)
			return rs_error_set(RS_ERROR, "out of memory");
		cache->fresh_flags = flags;
		cache->fresh_cap = cap;
	}
	if ((cache->nfresh + 1) * 2 > cache->table_cap) {
		size_t cap = cache->table_cap ? cache->table_cap * 2 : 512;
		uint32_t *table = calloc(cap, sizeof(*table));

		if (!table)
			return rs_error_set(RS_ERROR, "out of memory");
		for (size_t i = 0; i < cache->nfresh; i++)
			table_insert(table, cap, cache->fresh[i].id, (uint32_t)i + 1);
		free(cache->table);
		cache->table = table;
		cache->table_cap = cap;
	}
	e = &cache->fresh[cache->nfresh];
	memcpy(e->id, id, ID_LEN);
	e->off = off;
	e->len = len;
	e->day = cache->today;
	e->pack = 0;
	cache->fresh_flags[cache->nfresh] = E_USED;
	table_insert(cache->table, cache->table_cap, id, (uint32_t)++cache->nfresh);
	return 0;
}

/* Read `len` bytes at `off` and check them against `digest`: 1 when they
 * match (*out is the caller's), 0 when not, negative on error. */
static int read_entry(int fd, uint64_t off, uint32_t len, const char *digest, char **out)
{
	char *data;

	*out = NULL;
	if (len > CACHE_MAX_ENTRY || off < MAGIC_LEN)
		return 0;
	data = malloc((size_t)len + 1);
	if (!data)
		return rs_error_set(RS_ERROR, "out of memory");
	if (pread(fd, data, len, (off_t)off) != (ssize_t)len ||
	    !rs_digest_matches(digest, data, len)) {
		free(data);
		return 0;
	}
	data[len] = '\0';
	*out = data;
	return 1;
}

static void stamp(struct pack *p, size_t pos, uint32_t today)
{
	unsigned char *e = (unsigned char *)idx_entry(p, pos);

	p->flags[pos] |= E_USED;
	if (p->writable && get_be32(e + 44) != today)
		put_be32(e + 44, today);
}

static void report_corrupt(struct rs_cache *cache, const char *digest)
{
	rs_log(RS_LOG_VERBOSE, "cache: entry for %s is corrupt: dropped, reading it again", digest);
	cache->stats.corrupt++;
}

int rs_cache_get(struct rs_cache *cache, const char *digest, char **out, size_t *len)
{
	unsigned char id[ID_LEN];
	long f;
	int rc;

	*out = NULL;
	*len = 0;
	if (!digest_id(id, digest))
		return 0;
	f = fresh_find(cache, id);
	if (f >= 0 && !(cache->fresh_flags[f] & E_BAD)) {
		struct entry *e = &cache->fresh[f];

		if (cache->out_dirty) {
			if (fflush(cache->out) != 0)
				return 0;
			cache->out_dirty = 0;
		}
		rc = read_entry(fileno(cache->out), e->off, e->len, digest, out);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			*len = e->len;
			cache->stats.hits++;
			return 1;
		}
		cache->fresh_flags[f] |= E_BAD;
		report_corrupt(cache, digest);
	}
	for (size_t i = 0; i < cache->npacks; i++) {
		struct pack *p = &cache->packs[i];
		const unsigned char *e;
		size_t pos;

		if (!pack_find(p, id, &pos) || (p->flags[pos] & E_BAD))
			continue;
		e = idx_entry(p, pos);
		rc = read_entry(p->fd, get_be64(e + 32), get_be32(e + 40), digest, out);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			*len = get_be32(e + 40);
			stamp(p, pos, cache->today);
			cache->stats.hits++;
			return 1;
		}
		p->flags[pos] |= E_BAD;
		report_corrupt(cache, digest);
	}
	cache->stats.misses++;
	return 0;
}

/* --- this run's pack ----------------------------------------------------- */

static int publish_fresh(struct rs_cache *cache);

/* This run's pack is a temporary file next to the published ones, named
 * for this process (".tmp-PID.pack.XXXXXX") so that a later open can tell
 * one a crash left behind from one a live run is writing. */
static int temp_in_packs(const struct rs_cache *cache, int *fd, char **tmp, const char *what)
{
	char near[4200];

	snprintf(near, sizeof(near), "%s/tmp-%ld.%s", cache->packs_dir, (long)getpid(), what);
	return rs_file_temp(fd, tmp, near);
}

static int open_out(struct rs_cache *cache)
{
	int fd, rc = temp_in_packs(cache, &fd, &cache->out_path, "pack");

	if (rc < 0)
		return rc;
	cache->out = fdopen(fd, "w+");
	if (!cache->out) {
		close(fd);
		unlink(cache->out_path);
		free(cache->out_path);
		cache->out_path = NULL;
		return rs_error_set(RS_ERROR, "out of memory");
	}
	setvbuf(cache->out, NULL, _IOFBF, 256 * 1024);
	if (fwrite(PACK_MAGIC, 1, MAGIC_LEN, cache->out) != MAGIC_LEN)
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", cache->out_path, strerror(errno));
	cache->out_off = MAGIC_LEN;
	return 0;
}

int rs_cache_put(struct rs_cache *cache, const char *digest, const void *data, size_t len)
{
	unsigned char id[ID_LEN];
	long f;
	int rc;

	if (!rs_digest_matches(digest, data, len))
		return rs_error_set(RS_EPROTO, "refusing to cache bytes that do not match %s", digest);
	if (!digest_id(id, digest) || len > CACHE_MAX_ENTRY || cache->failed)
		return 0;
	/* an intact copy is already there: only note that this run used it */
	f = fresh_find(cache, id);
	if (f >= 0 && !(cache->fresh_flags[f] & E_BAD))
		return 0;
	for (size_t i = 0; i < cache->npacks; i++) {
		size_t pos;

		if (pack_find(&cache->packs[i], id, &pos) && !(cache->packs[i].flags[pos] & E_BAD)) {
			stamp(&cache->packs[i], pos, cache->today);
			return 0;
		}
	}
	if (!cache->out && (rc = open_out(cache)) < 0) {
		cache->failed = 1;
		return rc;
	}
	if (fwrite(data, 1, len, cache->out) != len) {
		cache->failed = 1;
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", cache->out_path,
				    strerror(errno));
	}
	rc = fresh_add(cache, id, cache->out_off, (uint32_t)len);
	if (rc < 0)
		return rc;
	cache->out_off += len;
	cache->out_dirty = 1;
	cache->stats.writes++;
	/* a long cold run publishes as it goes: its index never grows large
	 * in memory */
	if (cache->nfresh >= RS_CACHE_FRESH_MAX && (rc = publish_fresh(cache)) < 0)
		cache->failed = 1;
	return rc;
}

static int by_id(const void *a, const void *b)
{
	const struct entry *ea = a, *eb = b;
	int c = memcmp(ea->id, eb->id, ID_LEN);

	if (c)
		return c;
	/* the most recently used copy first */
	return ea->day != eb->day ? (ea->day > eb->day ? -1 : 1) : 0;
}

/* Write `n` sorted entries as an index into a new temporary file next to
 * the packs, synced to disk; *tmp is its name (the caller's). */
static int write_index(const struct rs_cache *cache, char **tmp, const struct entry *entries,
		       size_t n)
{
	unsigned char rec[IDX_ENTRY];
	FILE *fp;
	int fd, rc = temp_in_packs(cache, &fd, tmp, "idx");

	if (rc < 0)
		return rc;
	if (!(fp = fdopen(fd, "w"))) {
		close(fd);
		unlink(*tmp);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", *tmp, strerror(errno));
	}
	memcpy(rec, IDX_MAGIC, MAGIC_LEN);
	put_be64(rec + MAGIC_LEN, n);
	fwrite(rec, 1, IDX_HEADER, fp);
	for (size_t i = 0; i < n; i++) {
		memcpy(rec, entries[i].id, ID_LEN);
		put_be64(rec + 32, entries[i].off);
		put_be32(rec + 40, entries[i].len);
		put_be32(rec + 44, entries[i].day);
		fwrite(rec, 1, IDX_ENTRY, fp);
	}
	if (ferror(fp) | (fflush(fp) != 0) | (fsync(fileno(fp)) != 0) | (fclose(fp) != 0)) {
		unlink(*tmp);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", *tmp, strerror(errno));
	}
	return 0;
}

/* Give the temporary pack at `tmp_pack` (its index written to `tmp_idx`) a
 * published name: the pack first, so a published index always has its pack. */
static int publish(const struct rs_cache *cache, const char *tmp_pack, const char *tmp_idx,
		   char *base, size_t basesize)
{
	static unsigned seq;
	char pack[4300], idx[4300];

	snprintf(base, basesize, "%s/pack-%ld-%ld-%u", cache->packs_dir, (long)time(NULL),
		 (long)getpid(), seq++);
	snprintf(pack, sizeof(pack), "%s.pack", base);
	snprintf(idx, sizeof(idx), "%s.idx", base);
	if (rename(tmp_pack, pack) < 0)
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", pack, strerror(errno));
	if (rename(tmp_idx, idx) < 0) {
		unlink(pack);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", idx, strerror(errno));
	}
	/* a crash before this leaves a pack without its index: the next open
	 * removes it (sweep) */
	return rs_file_sync_dir(idx);
}

/* Publish this run's pack; on success it joins the loaded packs (first). */
static int publish_fresh(struct rs_cache *cache)
{
	char *tmp_idx = NULL, base[4300];
	struct entry *sorted;
	struct pack *grown;
	int rc, published = 0;

	if (!cache->out)
		return 0;
	rc = fflush(cache->out) == 0 && fsync(fileno(cache->out)) == 0
	     ? 0 : rs_error_set(RS_ERROR, "cannot write '%s': %s", cache->out_path, strerror(errno));
	if (rc == 0 && cache->failed)
		rc = rs_error_set(RS_ERROR, "cannot write '%s'", cache->out_path);
	sorted = rc == 0 && cache->nfresh ? malloc(cache->nfresh * sizeof(*sorted)) : NULL;
	if (rc == 0 && cache->nfresh && !sorted)
		rc = rs_error_set(RS_ERROR, "out of memory");
	if (rc == 0 && cache->nfresh) {
		size_t n = 0;

		for (size_t i = 0; i < cache->nfresh; i++)
			if (!(cache->fresh_flags[i] & E_BAD))
				sorted[n++] = cache->fresh[i];
		if (n > 1)
			qsort(sorted, n, sizeof(*sorted), by_id);
		rc = write_index(cache, &tmp_idx, sorted, n);
		if (rc == 0)
			rc = publish(cache, cache->out_path, tmp_idx, base, sizeof(base));
		if (rc < 0 && tmp_idx)
			unlink(tmp_idx);
		published = rc == 0;
	}
	free(tmp_idx);
	free(sorted);
	fclose(cache->out);
	cache->out = NULL;
	if (!published)
		unlink(cache->out_path);
	free(cache->out_path);
	cache->out_path = NULL;
	free(cache->fresh);
	free(cache->fresh_flags);
	free(cache->table);
	cache->fresh = NULL;
	cache->fresh_flags = NULL;
	cache->table = NULL;
	cache->nfresh = cache->fresh_cap = cache->table_cap = 0;
	cache->out_dirty = 0;
	if (rc == 0 && published) {
		struct pack p;

		rc = pack_load(&p, base);
		if (rc == 1) {
			grown = realloc(cache->packs, (cache->npacks + 1) * sizeof(*grown));
			if (!grown) {
				pack_close(&p);
				return rs_error_set(RS_ERROR, "out of memory");
			}
			memmove(grown + 1, grown, cache->npacks * sizeof(*grown));
			memset(p.flags, E_USED, p.count);
			grown[0] = p;
			cache->packs = grown;
			cache->npacks++;
			cache->stats.packs++;
		}
		rc = rc < 0 ? rc : 0;
	}
	return rc;
}

/* --- merging ------------------------------------------------------------- */

static int expired(const struct rs_cache *cache, unsigned char flags, uint32_t day)
{
	return !(flags & E_USED) && (uint64_t)day + RS_CACHE_KEEP_DAYS < cache->today;
}

/* Packs are merged when there are too many, or when dropped entries (corrupt,
 * or unused for RS_CACHE_KEEP_DAYS) would free half the bytes. */
static int merge_due(const struct rs_cache *cache)
{
	uint64_t total = 0, dead = 0;
	int bad = 0;

	if (cache->npacks > RS_CACHE_MAX_PACKS)
		return 1;
	for (size_t i = 0; i < cache->npacks; i++) {
		const struct pack *p = &cache->packs[i];

		total += p->size > MAGIC_LEN ? p->size - MAGIC_LEN : 0;
		for (size_t j = 0; j < p->count; j++) {
			const unsigned char *e = idx_entry(p, j);

			if (p->flags[j] & E_BAD)
				bad = 1;
			if ((p->flags[j] & E_BAD) || expired(cache, p->flags[j], get_be32(e + 44)))
				dead += get_be32(e + 40);
		}
	}
	return bad || (dead >= MERGE_MIN_DEAD && dead * 2 >= total);
}

/* Remove temporary packs that a process which died left behind. */
static void remove_stale(const struct rs_cache *cache)
{
	DIR *d = opendir(cache->packs_dir);
	struct dirent *de;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[4300];
		struct stat st;

		if (strncmp(de->d_name, "tmp-", 4) != 0 && strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", cache->packs_dir, de->d_name);
		if (lstat(path, &st) == 0 && now - st.st_mtime > TMP_MAX_AGE)
			unlink(path);
	}
	closedir(d);
}

/* Is every loaded pack still published? (Another process may have merged.) */
static int packs_current(const struct rs_cache *cache)
{
	char **names;
	size_t n, found = 0;

	if (list_packs(cache->packs_dir, &names, &n) < 0)
		return 0;
	for (size_t i = 0; i < cache->npacks; i++)
		for (size_t j = 0; j < n; j++)
			if (strcmp(cache->packs[i].name, names[j]) == 0) {
				found++;
				break;
			}
	free_names(names, n);
	return found == cache->npacks;
}

/* Copy the entries worth keeping, verified, into one new pack. */
static int write_merged(struct rs_cache *cache, struct entry *list, size_t n, size_t *kept,
			char *base, size_t basesize)
{
	char *tmp_pack = NULL, *tmp_idx = NULL, digest[RS_DIGEST_MAX];
	uint64_t off = MAGIC_LEN;
	size_t out = 0;
	FILE *fp;
	int fd, rc = temp_in_packs(cache, &fd, &tmp_pack, "pack");

	if (rc < 0)
		return rc;
	if (!(fp = fdopen(fd, "w"))) {
		close(fd);
		unlink(tmp_pack);
		free(tmp_pack);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	fwrite(PACK_MAGIC, 1, MAGIC_LEN, fp);
	for (size_t i = 0; i < n && rc >= 0; i++) {
		char *data;

		if (i > 0 && memcmp(list[i].id, list[i - 1].id, ID_LEN) == 0)
			continue;
		rs_digest_from_id(digest, list[i].id);
		rc = read_entry(cache->packs[list[i].pack].fd, list[i].off, list[i].len, digest,
				&data);
		if (rc == 0) {
			rs_log(RS_LOG_VERBOSE, "cache: entry for %s is corrupt: dropped", digest);
			continue;
		}
		if (rc < 0)
			break;
		fwrite(data, 1, list[i].len, fp);
		free(data);
		list[out] = list[i];
		list[out].off = off;
		off += list[out].len;
		out++;
	}
	if ((ferror(fp) | (fflush(fp) != 0) | (fsync(fileno(fp)) != 0) | (fclose(fp) != 0)) &&
	    rc >= 0)
		rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", tmp_pack, strerror(errno));
	if (rc >= 0)
		rc = write_index(cache, &tmp_idx, list, out);
	if (rc >= 0)
		rc = publish(cache, tmp_pack, tmp_idx, base, basesize);
	if (rc < 0) {
		unlink(tmp_pack);
		if (tmp_idx)
			unlink(tmp_idx);
	} else {
		*kept = out;
		rc = 0;
	}
	free(tmp_pack);
	free(tmp_idx);
	return rc;
}

static int merge(struct rs_cache *cache)
{
	char lock[4300], base[4300];
	struct entry *list = NULL;
	size_t n = 0, total = 0, kept = 0;
	struct pack merged;
	int fd, rc = 0;

	snprintf(lock, sizeof(lock), "%s/lock", cache->packs_dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	/* someone else merging, or merged since this run began: their turn */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !packs_current(cache))
		goto out;
	remove_stale(cache);
	for (size_t i = 0; i < cache->npacks; i++)
		total += cache->packs[i].count;
	list = total ? malloc(total * sizeof(*list)) : NULL;
	if (total && !list) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cache->npacks; i++) {
		const struct pack *p = &cache->packs[i];

		for (size_t j = 0; j < p->count; j++) {
			const unsigned char *e = idx_entry(p, j);
			uint32_t day = get_be32(e + 44);

			if ((p->flags[j] & E_BAD) || expired(cache, p->flags[j], day))
				continue;
			memcpy(list[n].id, e, ID_LEN);
			list[n].off = get_be64(e + 32);
			list[n].len = get_be32(e + 40);
			list[n].day = (p->flags[j] & E_USED) ? cache->today : day;
			list[n].pack = (uint32_t)i;
			n++;
		}
	}
	if (n > 1)
		qsort(list, n, sizeof(*list), by_id);
	rc = write_merged(cache, list, n, &kept, base, sizeof(base));
	if (rc < 0)
		goto out;
	/* the index first: a pack without one is never read */
	for (size_t i = 0; i < cache->npacks; i++) {
		char path[4300];

		snprintf(path, sizeof(path), "%s.idx", cache->packs[i].name);
		unlink(path);
		snprintf(path, sizeof(path), "%s.pack", cache->packs[i].name);
		unlink(path);
	}
	rs_log(RS_LOG_VERBOSE, "cache: merged %zu packs into one: %zu entries kept, %zu dropped",
	       cache->npacks, kept, total - kept);
	cache->stats.packs++;
	cache->stats.dropped += total - kept;
	for (size_t i = 0; i < cache->npacks; i++)
		pack_close(&cache->packs[i]);
	cache->npacks = 0;
	if (pack_load(&merged, base) == 1) {
		memset(merged.flags, E_USED, merged.count);
		cache->packs[0] = merged;
		cache->npacks = 1;
	}
out:
	free(list);
	close(fd);
	return rc;
}

int rs_cache_flush(struct rs_cache *cache)
{
	return publish_fresh(cache);
}

int rs_cache_maintain(struct rs_cache *cache)
{
	return merge_due(cache) ? merge(cache) : 0;
}

static void free_tags(struct rs_cache *cache)
{
	free(cache->old_tags);
	cache->old_tags = NULL;
	cache->nold_tags = 0;
}

void rs_cache_free(struct rs_cache *cache)
{
	if (!cache)
		return;
	if (cache->packs_dir && (rs_cache_flush(cache) < 0 || rs_cache_maintain(cache) < 0))
		rs_log(RS_LOG_WARN, "warning: cache: %s", rs_error_message());
	for (size_t i = 0; i < cache->npacks; i++)
		pack_close(&cache->packs[i]);
	free(cache->packs);
	free_tags(cache);
	free(cache->tags_registry);
	free(cache->packs_dir);
	free(cache->dir);
	free(cache);
}

/* --- the tag map --------------------------------------------------------- */

static void tags_path(char *out, size_t outsize, const struct rs_cache *cache, const char *registry)
{
	char digest[RS_DIGEST_MAX];

	rs_digest_sha256(digest, registry, strlen(registry));
	snprintf(out, outsize, "%s/tags/%.16s", cache->dir, digest + 7);
}

static uint64_t tag_hash(const char *repo, const char *tag)
{
	char key[800];

	snprintf(key, sizeof(key), "%s\t%s", repo, tag);
	return rs_hash(key);
}

static int by_hash(const void *a, const void *b)
{
	uint64_t x = ((const struct old_tag *)a)->hash, y = ((const struct old_tag *)b)->hash;

	return x < y ? -1 : x > y;
}

static int load_tags(struct rs_cache *cache, const char *registry)
{
	char path[4096], line[1024];
	size_t cap = 0;
	FILE *fp;

	if (cache->tags_registry && strcmp(cache->tags_registry, registry) == 0)
		return 0;
	free_tags(cache);
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
		struct old_tag *t;

		if (sscanf(line, "%511s %255s %79s", repo, tag, digest) != 3 || !rs_digest_valid(digest))
			continue;
		if (cache->nold_tags == cap) {
			size_t grown = cap ? cap + cap / 2 : 1024;
			struct old_tag *v = realloc(cache->old_tags, grown * sizeof(*v));

			if (!v)
				break;   /* a shorter map only costs requests */
			cache->old_tags = v;
			cap = grown;
		}
		t = &cache->old_tags[cache->nold_tags++];
		t->hash = tag_hash(repo, tag);
		rs_digest_id(t->id, digest);
	}
	fclose(fp);
	if (cache->nold_tags > 1)
		qsort(cache->old_tags, cache->nold_tags, sizeof(*cache->old_tags), by_hash);
	return 0;
}

const char *rs_cache_tag_digest(struct rs_cache *cache, const char *registry, const char *repo,
				const char *tag)
{
	struct old_tag key, *found;

	if (load_tags(cache, registry) < 0 || !cache->nold_tags)
		return NULL;
	key.hash = tag_hash(repo, tag);
	found = bsearch(&key, cache->old_tags, cache->nold_tags, sizeof(key), by_hash);
	if (!found)
		return NULL;
	rs_digest_from_id(cache->old_digest, found->id);
	return cache->old_digest;
}

int rs_cache_save_tags(struct rs_cache *cache, const char *registry, rs_cache_tag_iter next,
		       void *userdata)
{
	char path[4096], dir[4096];
	const char *repo, *tag, *digest;
	struct rs_buf text = RS_BUF_INIT;
	int rc;

	free_tags(cache);
	free(cache->tags_registry);
	cache->tags_registry = NULL;
	snprintf(dir, sizeof(dir), "%s/tags", cache->dir);
	rc = mkdir_p(dir);
	if (rc < 0)
		return rc;
	tags_path(path, sizeof(path), cache, registry);
	while (rc == 0 && next(userdata, &repo, &tag, &digest))
		rc = rs_buf_printf(&text, "%s %s %s\n", repo, tag, digest);
	if (rc == 0)
		rc = rs_file_write(path, text.ptr ? text.ptr : "", text.len);
	rs_buf_release(&text);
	return rc;
}

void rs_cache_stats(const struct rs_cache *cache, struct rs_cache_stats *out)
{
	*out = cache->stats;
}
