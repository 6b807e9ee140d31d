/* util.h: small parsers and formatters shared by every module: durations,
 * byte sizes, timestamps. All parsers reject trailing garbage and overflow. */
#ifndef RS_UTIL_H
#define RS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A time we do not know (a missing or unparseable date). */
#define RS_TIME_UNKNOWN INT64_MIN

/* Parse a duration such as "30d", "24h", "1h30m", "90s", "2w" or a bare
 * number of seconds into seconds. Units: s, m, h, d, w. Returns 0 or
 * RS_EUSAGE with a message naming the text. */
int rs_duration_parse(int64_t *out, const char *text);

/* Format seconds as the shortest exact form ("24h", "1h30m", "0s"). */
char *rs_duration_format(char *out, size_t outsize, int64_t seconds);

/* Parse a size such as "512", "10k", "10KiB", "1.5 MiB", "2G" (powers of
 * 1024; "kB", "MB" are powers of 1000). */
int rs_size_parse(uint64_t *out, const char *text);

/* Format bytes for people, as the seed did: "212 KiB", "1.9 MiB", "17 B". */
char *rs_size_format(char *out, size_t outsize, uint64_t bytes);

/* Parse an RFC 3339 timestamp ("2024-05-01T10:00:00.123Z", "+02:00"
 * offsets) to Unix seconds. */
int rs_time_parse(int64_t *out, const char *text);

/* Format Unix seconds as RFC 3339 UTC ("2024-05-01T10:00:00Z"); "unknown"
 * for RS_TIME_UNKNOWN. */
char *rs_time_format(char *out, size_t outsize, int64_t when);

/* `value` as an int64_t when it is a finite number in range, else
 * `fallback` (converting an out-of-range double is undefined behaviour). */
int64_t rs_double_to_int64(double value, int64_t fallback);

/* a + b, pinned at the type's maximum instead of wrapping: sizes come from
 * the network, and a hostile registry can declare any. `b` < 0 counts as 0. */
uint64_t rs_add_u64(uint64_t a, int64_t b);
int64_t rs_add_i64(int64_t a, int64_t b);

/* strdup that accepts NULL (returns NULL). */
char *rs_strdup(const char *s);

/* Safe string copy into a fixed buffer; returns 0, or -1 if truncated. */
int rs_strlcpy(char *dst, const char *src, size_t size);

/* FNV-1a 64-bit hash, for hash tables and shards. */
uint64_t rs_hash(const char *s);

/* Give freed heap pages back to the system (glibc's malloc_trim; nothing
 * elsewhere): lets a phase that frees one structure while building another
 * stay within the larger of the two. */
void rs_memory_trim(void);

#endif
