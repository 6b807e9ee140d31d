/* base64.c: base64 through OpenSSL's EVP block coder (see base64.h). */
#include "base/base64.h"
#include "base/error.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int rs_base64_encode(char **out, const void *data, size_t len)
{
	char *buf = malloc(4 * ((len + 2) / 3) + 1);

	*out = NULL;
	if (!buf)
		return rs_error_set(RS_ERROR, "out of memory");
	EVP_EncodeBlock((unsigned char *)buf, data, (int)len);
	*out = buf;
	return 0;
}

int rs_base64_decode(char **out, size_t *outlen, const char *text)
{
	size_t len = strlen(text), pad = 0;
	unsigned char *buf;
	int n;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	if (len % 4)
		return rs_error_set(RS_EPROTO, "invalid base64");
	buf = malloc(3 * (len / 4) + 1);
	if (!buf)
		return rs_error_set(RS_ERROR, "out of memory");
	n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(buf);
		return rs_error_set(RS_EPROTO, "invalid base64");
	}
	while (pad < 2 && len > pad && text[len - 1 - pad] == '=')
		pad++;
	n -= (int)pad;
	buf[n] = '\0';
	*out = (char *)buf;
	if (outlen)
		*outlen = (size_t)n;
	return 0;
}

int rs_base64url_decode(char **out, size_t *outlen, const char *text)
{
	size_t len = strlen(text), padded = (len + 3) / 4 * 4;
	char *std = malloc(padded + 1);
	int rc;

	*out = NULL;
	if (!std)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; i < padded; i++) {
		char c = i < len ? text[i] : '=';

		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	std[padded] = '\0';
	rc = len % 4 == 1 ? rs_error_set(RS_EPROTO, "invalid base64") : rs_base64_decode(out, outlen, std);
	free(std);
	return rc;
}
