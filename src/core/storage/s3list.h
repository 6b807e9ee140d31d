/* s3list.h: what an S3 store answers to a listing (ListObjectsV2) and
 * what it says when it refuses (its error document), parsed with libxml2.
 * This module is the only user of libxml2: the parser never reaches the
 * network, never loads a DTD, and refuses a document that declares one
 * (nothing an S3 store sends does), so no entity is ever expanded.
 *
 * Keys and prefixes come back as the store stored them: with
 * `encoding-type=url` asked (always, by storage/s3.c, since a key may hold
 * bytes XML 1.0 cannot carry) they are decoded here, '+' as a space as the
 * AWS SDKs do. A decoded key may hold any byte, NUL included: lengths are
 * explicit, and every string is also NUL-terminated.
 */
#ifndef RS_S3LIST_H
#define RS_S3LIST_H

#include <stddef.h>
#include <stdint.h>

struct rs_s3_object {
	char *key;                 /* owned */
	size_t key_len;
	int64_t size;              /* -1 when missing or not a number that fits */
	int64_t mtime;             /* LastModified in Unix seconds (fraction dropped);
				    * RS_TIME_UNKNOWN when missing or malformed */
	char etag[33];             /* the ETag when it is one MD5 (32 hex digits, here in
				    * lower case), else "" (multipart, encrypted, other) */
};

struct rs_s3_prefix {
	char *prefix;              /* a CommonPrefixes entry; owned */
	size_t len;
};

struct rs_s3_listing {
	struct rs_s3_object *objects;
	size_t nobjects;
	struct rs_s3_prefix *prefixes;
	size_t nprefixes;
	int truncated;             /* IsTruncated: more pages follow */
	char *next_token;          /* NextContinuationToken (owned), NULL when none */
};

/* Parse one page of a ListObjectsV2 answer (`len` bytes of XML) into
 * `out`, which the caller releases (also on failure; it is then empty).
 * RS_EPROTO when the text is not XML, declares a DTD, is not a
 * ListBucketResult, says it is truncated without a continuation token, or
 * holds a key or prefix that is empty or not correctly URL-encoded. */
int rs_s3_listing_parse(struct rs_s3_listing *out, const char *xml, size_t len);

void rs_s3_listing_release(struct rs_s3_listing *listing);

/* An S3 error document (<Error><Code>..</Code><Message>..</Message>). */
struct rs_s3_error {
	char code[64];             /* "" when none; printable ASCII only */
	char message[256];         /* "" when none; printable ASCII only, shortened */
};

/* Read the code and message of an error answer; both "" when `xml` is not
 * one. Only Code and Message are read: an error document may quote the
 * request back (a signature mismatch quotes the canonical request). */
void rs_s3_error_parse(struct rs_s3_error *out, const char *xml, size_t len);

#endif
