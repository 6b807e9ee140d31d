/* base64.h: base64 through OpenSSL's EVP block coder (RFC 4648), and the
 * URL-safe unpadded form JWT segments use. Results are the caller's. */
#ifndef RS_BASE64_H
#define RS_BASE64_H

#include <stddef.h>

/* Encode `len` bytes of `data`; *out is NUL-terminated. */
int rs_base64_encode(char **out, const void *data, size_t len);

/* Decode base64 (padding required); *out is NUL-terminated and the
 * caller's; *outlen (may be NULL) gets its length. RS_EPROTO when `text`
 * is not base64. */
int rs_base64_decode(char **out, size_t *outlen, const char *text);

/* Decode base64url without padding (JWT segments); as rs_base64_decode. */
int rs_base64url_decode(char **out, size_t *outlen, const char *text);

#endif
