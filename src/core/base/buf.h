/* buf.h: a growing byte buffer with a size cap (after curl's dynbuf).
 *
 * The contents are always NUL-terminated so they can be used as a string.
 * A buffer that would grow past its cap fails with RS_EPROTO and frees its
 * storage, so a failed buffer never holds half an answer.
 */
#ifndef RS_BUF_H
#define RS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct rs_buf {
	char *ptr;      /* NUL-terminated contents, or NULL while empty */
	size_t len;     /* bytes used, not counting the terminator */
	size_t cap;     /* bytes allocated */
	size_t max;     /* the most `len` may reach; 0 means no cap */
};

#define RS_BUF_INIT { NULL, 0, 0, 0 }

/* Start an empty buffer whose contents may not exceed `max` bytes (0: no cap). */
void rs_buf_init(struct rs_buf *buf, size_t max);

/* Append `len` bytes. On failure (cap or memory) the buffer is released. */
int rs_buf_put(struct rs_buf *buf, const void *data, size_t len);

/* Append a string. */
int rs_buf_puts(struct rs_buf *buf, const char *str);

/* Append formatted text. */
int rs_buf_printf(struct rs_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int rs_buf_vprintf(struct rs_buf *buf, const char *fmt, va_list ap);

/* The contents as a string: never NULL ("" while empty). */
const char *rs_buf_cstr(const struct rs_buf *buf);

/* Empty the buffer but keep its storage and cap. */
void rs_buf_reset(struct rs_buf *buf);

/* Free the storage; the buffer is empty and reusable afterwards. */
void rs_buf_release(struct rs_buf *buf);

/* Hand the storage to the caller (who frees it); the buffer is left empty.
 * Returns a malloc'd "" for an empty buffer, NULL only when out of memory. */
char *rs_buf_detach(struct rs_buf *buf);

#endif
