/* html_page.h: what the two halves of the HTML report (html.c and
 * html_parts.c) share: a page that remembers its first error, so a section
 * writes without checking each step (the caller reads `rc` at the end),
 * escaping writers, and JSON readers. Private to report/. */
#ifndef RS_HTML_PAGE_H
#define RS_HTML_PAGE_H

#include "base/buf.h"

#include <cjson/cJSON.h>
#include <stdint.h>

struct page {
	struct rs_buf *out;
	int rc;            /* the first error; writes after it do nothing */
};

/* Markup, appended as is: only literals and numbers, never outside text. */
void page_raw(struct page *p, const char *html);
void page_rawf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Text from the report (names, tags, reasons), escaped; NULL writes nothing. */
void page_text(struct page *p, const char *text);

/* "342 KiB" ("-" for a negative size), and "+1.2 MiB" / "-312 KiB" / "0". */
void page_size(struct page *p, int64_t bytes);
void page_signed_size(struct page *p, int64_t bytes);

/* A <td> for the figure at JSON path `path` (data-key, data-value). */
void page_figure(struct page *p, const char *path, int64_t v, int is_bytes, int is_change);

/* A <td> with a digest shortened for people, the whole one in its title. */
void page_digest(struct page *p, const char *digest);

/* The "N more, not shown" row of a list cut at RS_HTML_MAX_ROWS. */
void page_more_rows(struct page *p, int shown, int total, int columns);

/* Readers: the member `key` of `obj` (NULL when absent), its string value
 * (NULL unless a string), its number (returns 0 unless a number). */
const cJSON *jget(const cJSON *obj, const char *key);
const char *jstr(const cJSON *obj, const char *key);
int jnum(const cJSON *obj, const char *key, int64_t *out);

/* html_parts.c: the style sheet, the per-repository chart and table, and a
 * plan's totals and tag decisions. */
extern const char html_css[];
void html_repositories(struct page *p, const cJSON *doc);
void html_plan(struct page *p, const cJSON *doc);
void html_decisions(struct page *p, const cJSON *doc);

#endif
