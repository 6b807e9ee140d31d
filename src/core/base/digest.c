/* digest.c: sha256 digests through OpenSSL's EVP interface. */
#include "base/digest.h"
#include "base/error.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

void rs_digest_from_id(char out[RS_DIGEST_MAX], const unsigned char id[RS_DIGEST_ID_LEN])
{
	static const char hex[] = "0123456789abcdef";

	memcpy(out, "sha256:", 7);
	for (int i = 0; i < RS_DIGEST_ID_LEN; i++) {
		out[7 + 2 * i] = hex[id[i] >> 4];
		out[8 + 2 * i] = hex[id[i] & 15];
	}
	out[7 + 2 * RS_DIGEST_ID_LEN] = '\0';
}

int rs_digest_sha256(char out[RS_DIGEST_MAX], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != RS_DIGEST_ID_LEN)
		return rs_error_set(RS_ERROR, "sha256 computation failed");
	rs_digest_from_id(out, md);
	return 0;
}

int rs_digest_valid(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71)
		return 0;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int rs_digest_matches(const char *digest, const void *data, size_t len)
{
	char actual[RS_DIGEST_MAX];

	if (!rs_digest_valid(digest) || rs_digest_sha256(actual, data, len) < 0)
		return 0;
	return strcmp(actual, digest) == 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int rs_digest_id(unsigned char id[RS_DIGEST_ID_LEN], const char *digest)
{
	unsigned int mdlen = 0;

	if (rs_digest_valid(digest)) {
		for (int i = 0; i < RS_DIGEST_ID_LEN; i++)
			id[i] = (unsigned char)(hexval(digest[7 + 2 * i]) << 4 |
						hexval(digest[8 + 2 * i]));
		return 1;
	}
	if (!digest || !EVP_Digest(digest, strlen(digest), id, &mdlen, EVP_sha256(), NULL))
		memset(id, 0, RS_DIGEST_ID_LEN);
	return 0;
}

int rs_digest_md5_hex(char out[33], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		return rs_error_set(RS_ERROR, "cannot compute an MD5 digest");
	for (unsigned int i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	return 0;
}
