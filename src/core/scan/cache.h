/* cache.h: a persistent, content-addressed cache of manifests and configs.
 *
 * Entries are keyed by digest and verified by digest when read: a corrupt or
 * truncated entry is reported as a miss, so it is refetched and never
 * trusted. Alongside, the cache remembers each registry's last
 * tag -> digest map, which lets a re-run ask "still this digest?" with
 * If-None-Match and get a body-less 304 for every unchanged tag.
 *
 * Layout under the cache directory (created 0700, files 0600):
 *   packs/pack-NAME.pack   entries' bytes, appended by one run
 *   packs/pack-NAME.idx    sorted (digest, offset, length, last-used day)
 *   packs/lock             held while packs are merged
 *   tags/HASH              "repo tag digest" lines, HASH from the registry URL
 *
 * A run appends what it fetches to a pack of its own (a temporary name until
 * it is published with its index, so others never see it half written): a
 * file per scan (or per 65,536 entries), not one per entry.
 * A hit stamps the entry's day in the index. When packs pile up, or entries
 * unused for RS_CACHE_KEEP_DAYS (or found corrupt) make up half the bytes,
 * the packs are merged into one, dropping those entries: the cache stays
 * bounded by what recent runs used. Several processes may share a cache.
 */
#ifndef RS_CACHE_H
#define RS_CACHE_H

#include "base/digest.h"

#include <stddef.h>
#include <stdint.h>

/* An entry not used for this many days is dropped when packs are merged. */
#define RS_CACHE_KEEP_DAYS 14
/* More packs than this are merged into one. */
#define RS_CACHE_MAX_PACKS 8
/* A run publishes a pack whenever it has written this many entries. */
#define RS_CACHE_FRESH_MAX 65536

struct rs_cache;

/* Open (creating) the cache at `dir`; NULL `dir` means the default,
 * $XDG_CACHE_HOME/regsweep or ~/.cache/regsweep. *out is the caller's. */
int rs_cache_open(struct rs_cache **out, const char *dir);
/* Publish this run's pack, merge packs when due (rs_cache_maintain), free. */
void rs_cache_free(struct rs_cache *cache);

/* Publish what this run has written so far as a pack; the cache stays
 * usable (later entries go to a new pack). */
int rs_cache_flush(struct rs_cache *cache);

/* Merge the packs into one when due (see above). */
int rs_cache_maintain(struct rs_cache *cache);

/* The directory in use. */
const char *rs_cache_dir(const struct rs_cache *cache);

/* Read the bytes stored for `digest` into *out (the caller's, NUL-terminated)
 * if present and intact: returns 1 on a hit, 0 on a miss (a bad entry is
 * deleted), negative on error. */
int rs_cache_get(struct rs_cache *cache, const char *digest, char **out, size_t *len);

/* Store `data`, which must hash to `digest` (checked). */
int rs_cache_put(struct rs_cache *cache, const char *digest, const void *data, size_t len);

/* The digest the tag had on the last run against `registry`, or NULL. The
 * map is loaded on first use; the result lives until the next call. Treat
 * it as a hint to send with If-None-Match, never as the tag's digest. */
const char *rs_cache_tag_digest(struct rs_cache *cache, const char *registry, const char *repo,
				const char *tag);

/* Yields the next tag to record: returns 1 and sets the three strings, or 0
 * at the end. */
typedef int (*rs_cache_tag_iter)(void *userdata, const char **repo, const char **tag,
				 const char **digest);

/* Replace the tag map of `registry` with the tags `next` yields, and forget
 * the old map held in memory. */
int rs_cache_save_tags(struct rs_cache *cache, const char *registry, rs_cache_tag_iter next,
		       void *userdata);

/* Counters for reports and benchmarks. */
struct rs_cache_stats {
	unsigned long hits;
	unsigned long misses;
	unsigned long corrupt;
	unsigned long writes;
	unsigned long packs;     /* packs published or merged by this cache */
	unsigned long dropped;   /* entries left out by a merge */
};
void rs_cache_stats(const struct rs_cache *cache, struct rs_cache_stats *out);

/* For tests: the day (since the epoch) the cache takes as today. */
void rs_cache_set_today(struct rs_cache *cache, uint32_t day);

#endif
