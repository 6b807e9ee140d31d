/* buf.c: growing byte buffer with a cap. */
#include "base/buf.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_buf_init(struct rs_buf *buf, size_t max)
{
	buf->ptr = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->max = max;
}

static int buf_grow(struct rs_buf *buf, size_t extra)
{
	size_t want, cap;
	char *ptr;

	if (buf->max && (extra > buf->max || buf->len > buf->max - extra)) {
		rs_buf_release(buf);
		return rs_error_set(RS_EPROTO, "response larger than %zu bytes", buf->max);
	}
	want = buf->len + extra + 1;
	if (want <= buf->cap)
		return 0;
	cap = buf->cap ? buf->cap : 256;
	while (cap < want)
		cap *= 2;
	ptr = realloc(buf->ptr, cap);
	if (!ptr) {
		rs_buf_release(buf);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	buf->ptr = ptr;
	buf->cap = cap;
	return 0;
}

int rs_buf_put(struct rs_buf *buf, const void *data, size_t len)
{
	int rc = buf_grow(buf, len);

	if (rc < 0)
		return rc;
	if (len)
		memcpy(buf->ptr + buf->len, data, len);
	buf->len += len;
	buf->ptr[buf->len] = '\0';
	return 0;
}

int rs_buf_puts(struct rs_buf *buf, const char *str)
{
	return rs_buf_put(buf, str, strlen(str));
}

int rs_buf_vprintf(struct rs_buf *buf, const char *fmt, va_list ap)
{
	va_list copy;
	int n, rc;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return rs_error_set(RS_ERROR, "bad format string");
	rc = buf_grow(buf, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return 0;
}

int rs_buf_printf(struct rs_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rs_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

const char *rs_buf_cstr(const struct rs_buf *buf)
{
	return buf->ptr ? buf->ptr : "";
}

void rs_buf_reset(struct rs_buf *buf)
{
	buf->len = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

void rs_buf_release(struct rs_buf *buf)
{
	free(buf->ptr);
	buf->ptr = NULL;
	buf->len = 0;
	buf->cap = 0;
}

char *rs_buf_detach(struct rs_buf *buf)
{
	char *ptr = buf->ptr;

	if (!ptr)
		ptr = calloc(1, 1);
	buf->ptr = NULL;
	buf->len = 0;
	buf->cap = 0;
	return ptr;
}
