/* digest.h: content digests ("sha256:<64 hex>"), computed with libcrypto. */
#ifndef RS_DIGEST_H
#define RS_DIGEST_H

#include <stddef.h>

/* "sha256:" + 64 hex digits + NUL */
#define RS_DIGEST_MAX 72
/* the bytes of a sha256 digest */
#define RS_DIGEST_ID_LEN 32

/* Write the sha256 digest string of `data` into `out`. */
int rs_digest_sha256(char out[RS_DIGEST_MAX], const void *data, size_t len);

/* Is `digest` a well-formed digest this tool can verify (sha256 only)?
 * sha512 and other algorithms are recognised but not verifiable. */
int rs_digest_valid(const char *digest);

/* 1 when `digest` names the bytes `data`, 0 when it does not; a digest of an
 * algorithm regsweep cannot compute is a mismatch (never trusted). */
int rs_digest_matches(const char *digest, const void *data, size_t len);

/* The 32 bytes that identify `digest` in compact tables: for a sha256
 * digest its own bytes (returns 1); for any other string the SHA-256 of the
 * string, as distinct as the strings are (returns 0). */
int rs_digest_id(unsigned char id[RS_DIGEST_ID_LEN], const char *digest);

/* The sha256 digest string of 32 bytes (the inverse of rs_digest_id). */
void rs_digest_from_id(char out[RS_DIGEST_MAX], const unsigned char id[RS_DIGEST_ID_LEN]);

/* The MD5 of `data` as 32 lower-case hex digits: what an S3 store gives as
 * an object's ETag. Only to recognise bytes already known (a tag link whose
 * ETag is the MD5 of a revision's "sha256:HEX"), never to name content. */
int rs_digest_md5_hex(char out[33], const void *data, size_t len);

#endif
