/* html.c: the report page: its frame, the summary, stages, garbage
 * collection and the lists. The chart and the plan's sections are in
 * html_parts.c; both write through the sticky-error page of html_page.h. */
#include "report/html.h"
#include "report/html_page.h"
#include "base/error.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- writing */

int rs_html_escape(struct rs_buf *out, const char *text)
{
	const char *run = text;
	int rc = 0;

	for (const char *c = text; rc == 0 && *c; c++) {
		const char *entity = NULL;

		switch (*c) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default:
			if ((unsigned char)*c < 0x20 && *c != '\t' && *c != '\n')
				entity = "\xEF\xBF\xBD";   /* U+FFFD: a control character */
			else if (*c == 0x7f)
				entity = "\xEF\xBF\xBD";
			break;
		}
		if (!entity)
			continue;
		rc = rs_buf_put(out, run, (size_t)(c - run));
		if (rc == 0)
			rc = rs_buf_puts(out, entity);
		run = c + 1;
	}
	if (rc == 0)
		rc = rs_buf_puts(out, run);
	return rc < 0 ? rs_error_set(RS_ERROR, "out of memory") : 0;
}

void page_raw(struct page *p, const char *html)
{
	if (p->rc == 0 && rs_buf_puts(p->out, html) < 0)
		p->rc = rs_error_set(RS_ERROR, "out of memory");
}

void page_rawf(struct page *p, const char *fmt, ...)
{
	va_list ap;

	if (p->rc != 0)
		return;
	va_start(ap, fmt);
	if (rs_buf_vprintf(p->out, fmt, ap) < 0)
		p->rc = rs_error_set(RS_ERROR, "out of memory");
	va_end(ap);
}

void page_text(struct page *p, const char *text)
{
	if (p->rc == 0)
		p->rc = rs_html_escape(p->out, text ? text : "");
}

/* ---------------------------------------------------------- JSON reads */

const cJSON *jget(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *jstr(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(jget(obj, key));
}

int jnum(const cJSON *obj, const char *key, int64_t *out)
{
	const cJSON *n = jget(obj, key);

	if (!cJSON_IsNumber(n))
		return 0;
	*out = rs_double_to_int64(n->valuedouble, 0);
	return 1;
}

/* ------------------------------------------------------------- figures */

void page_size(struct page *p, int64_t bytes)
{
	char size[32];

	page_text(p, bytes < 0 ? "-" : rs_size_format(size, sizeof(size), (uint64_t)bytes));
}

void page_signed_size(struct page *p, int64_t bytes)
{
	char size[32];

	if (bytes == 0) {
		page_raw(p, "0");
		return;
	}
	rs_size_format(size, sizeof(size), (uint64_t)(bytes < 0 ? -bytes : bytes));
	page_rawf(p, "%s%s", bytes < 0 ? "&minus;" : "+", size);
}

/* A figure's cell: data-key is its JSON path, data-value its number; bytes
 * are shown for people with the exact count under them. */
void page_figure(struct page *p, const char *path, int64_t v, int is_bytes, int is_change)
{
	page_rawf(p, "<td class=\"num%s\" data-key=\"", is_change && v < 0 ? " down" : "");
	page_text(p, path);
	page_rawf(p, "\" data-value=\"%" PRId64 "\">", v);
	if (is_bytes && is_change)
		page_signed_size(p, v);
	else if (is_bytes)
		page_size(p, v);
	else if (is_change && v > 0)
		page_rawf(p, "+%" PRId64, v);
	else if (is_change && v < 0)
		page_rawf(p, "&minus;%" PRId64, -v);
	else
		page_rawf(p, "%" PRId64, v);
	if (is_bytes)
		page_rawf(p, " <span class=\"exact\">%" PRId64 " bytes</span>", v);
	page_raw(p, "</td>");
}

/* -------------------------------------------------------------- header */

/* done, done in part, failed: from the exit code, as the CLI maps it */
static const char *outcome(const cJSON *doc, const char **cls)
{
	int64_t code = 1;

	jnum(doc, "exit_code", &code);
	if (code == 0) {
		*cls = "ok";
		return "done";
	}
	if (code == 3) {
		*cls = "partial";
		return "done in part";
	}
	*cls = "failed";
	return "failed";
}

static void page_head(struct page *p, const cJSON *doc, const char *command)
{
	const char *cls, *word = outcome(doc, &cls);

	page_raw(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		 "style-src 'unsafe-inline'\">\n<title>regsweep ");
	page_text(p, command);
	page_raw(p, ": ");
	page_text(p, jstr(doc, "registry"));
	page_raw(p, ": ");
	page_text(p, word);
	page_raw(p, "</title>\n<style>\n");
	page_raw(p, html_css);
	page_raw(p, "</style>\n</head>\n<body>\n<header>\n<h1>regsweep ");
	page_text(p, command);
	page_rawf(p, " <span class=\"badge %s\">%s</span>", cls, word);
	if (cJSON_IsTrue(jget(doc, "dry_run")))
		page_raw(p, " <span class=\"badge dry\">dry run</span>");
	page_raw(p, "</h1>\n<p class=\"registry\">");
	page_text(p, jstr(doc, "registry"));
	page_raw(p, "</p>\n</header>\n");
}

static void page_facts(struct page *p, const cJSON *doc)
{
	int64_t code = 0, requests = 0, t0, t1;
	const char *started = jstr(doc, "started"), *finished = jstr(doc, "finished");
	char took[32];

	jnum(doc, "exit_code", &code);
	page_raw(p, "<section id=\"run\">\n<dl class=\"facts\">\n<div><dt>Started</dt><dd>");
	page_text(p, started);
	page_raw(p, "</dd></div>\n<div><dt>Finished</dt><dd>");
	page_text(p, finished);
	page_raw(p, "</dd></div>\n");
	if (started && finished && rs_time_parse(&t0, started) == 0 &&
	    rs_time_parse(&t1, finished) == 0 && t1 >= t0)
		page_rawf(p, "<div><dt>Took</dt><dd>%s</dd></div>\n",
			  rs_duration_format(took, sizeof(took), t1 - t0));
	page_rawf(p, "<div><dt>Exit code</dt><dd data-key=\"exit_code\" data-value=\"%" PRId64
		  "\">%" PRId64 "</dd></div>\n", code, code);
	if (jnum(doc, "requests", &requests))
		page_rawf(p, "<div><dt>Requests</dt><dd data-key=\"requests\" data-value=\"%" PRId64
			  "\">%" PRId64 "</dd></div>\n", requests, requests);
	page_raw(p, "<div><dt>regsweep</dt><dd>");
	page_text(p, jstr(doc, "tool_version"));
	page_raw(p, "</dd></div>\n</dl>\n</section>\n");
}

/* ------------------------------------------------------------- summary */

static const struct {
	const char *key, *label;
	int bytes;
} figure_rows[] = {
	{"repositories", "Repositories", 0},
	{"tags", "Tags", 0},
	{"manifests", "Manifests", 0},
	{"blobs", "Blobs", 0},
	{"bytes", "Size of blobs", 1},
	{"storage_blobs", "Blobs on disk", 0},
	{"storage_bytes", "On disk", 1},
};

/* One headline figure: a large number with a word under it; a change is
 * shown without its sign, the word says which way. */
static void card(struct page *p, const char *path, int64_t v, int is_bytes, const char *label,
		 const char *cls)
{
	int64_t shown = v < 0 ? -v : v;

	page_rawf(p, "<div class=\"card %s\"><span class=\"big\" data-key=\"", cls);
	page_text(p, path);
	page_rawf(p, "\" data-value=\"%" PRId64 "\">", v);
	if (is_bytes)
		page_size(p, shown);
	else
		page_rawf(p, "%" PRId64, shown);
	page_raw(p, "</span> ");
	page_text(p, label);
	page_raw(p, "</div>\n");
}

static void page_cards(struct page *p, const cJSON *doc)
{
	const cJSON *apply = jget(doc, "apply"), *change = jget(doc, "change");
	const cJSON *untags = jget(doc, "untags");
	int64_t v;

	const cJSON *totals = jget(jget(doc, "plan"), "totals");

	page_raw(p, "<div class=\"cards\">\n");
	if (cJSON_IsObject(change) && jnum(change, "storage_bytes", &v))
		card(p, "change.storage_bytes", v, 1,
		     v <= 0 ? "freed on disk" : "more on disk", "good");
	if (cJSON_IsObject(change) && jnum(change, "bytes", &v) && v != 0)
		card(p, "change.bytes", v, 1,
		     v < 0 ? "of blobs no longer referenced" : "more blob bytes", "good");
	if (cJSON_IsObject(totals)) {
		if (jnum(totals, "manifests_deleted", &v))
			card(p, "plan.totals.manifests_deleted", v, 0, "manifests to delete", "neutral");
		if (jnum(totals, "tags_deleted", &v))
			card(p, "plan.totals.tags_deleted", v, 0, "tags to delete", "neutral");
		if (jnum(totals, "reclaimable_bytes", &v) && v >= 0)
			card(p, "plan.totals.reclaimable_bytes", v, 1, "freed by GC, at most", "good");
	}
	if (cJSON_IsObject(apply)) {
		if (cJSON_IsTrue(jget(apply, "dry_run")) && jnum(apply, "would_delete", &v))
			card(p, "apply.would_delete", v, 0, "would be deleted", "neutral");
		else if (jnum(apply, "deleted", &v))
			card(p, "apply.deleted", v, 0, "deleted", "good");
		if (jnum(apply, "already_gone", &v) && v)
			card(p, "apply.already_gone", v, 0, "already gone", "neutral");
		if (cJSON_IsArray(untags))
			card(p, "untags", cJSON_GetArraySize(untags), 0, "untagged", "neutral");
		if (jnum(apply, "skipped", &v))
			card(p, "apply.skipped", v, 0, "skipped", v ? "warn" : "neutral");
		if (jnum(apply, "failed", &v))
			card(p, "apply.failed", v, 0, "failed", v ? "bad" : "neutral");
		if (jnum(apply, "not_attempted", &v) && v)
			card(p, "apply.not_attempted", v, 0, "not attempted", "warn");
	}
	page_raw(p, "</div>\n");
}

static void page_summary(struct page *p, const cJSON *doc)
{
	const cJSON *before = jget(doc, "before"), *after = jget(doc, "after");
	const cJSON *change = jget(doc, "change");

	page_raw(p, "<section id=\"summary\">\n<h2>Summary</h2>\n");
	page_cards(p, doc);
	if (!cJSON_IsObject(before)) {
		page_raw(p, "<p class=\"note\">No figures: the registry was not measured (apply with "
			 "a plan file), or could not be read (see the stages and errors below).</p>\n"
			 "</section>\n");
		return;
	}
	page_raw(p, "<table class=\"figures\">\n<thead><tr><th></th><th>before</th><th>after</th>"
		 "<th>change</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < sizeof(figure_rows) / sizeof(figure_rows[0]); i++) {
		char path[64];
		int64_t v;

		if (!jnum(before, figure_rows[i].key, &v))
			continue;
		page_raw(p, "<tr><th>");
		page_text(p, figure_rows[i].label);
		page_raw(p, "</th>");
		snprintf(path, sizeof(path), "before.%s", figure_rows[i].key);
		page_figure(p, path, v, figure_rows[i].bytes, 0);
		snprintf(path, sizeof(path), "after.%s", figure_rows[i].key);
		if (cJSON_IsObject(after) && jnum(after, figure_rows[i].key, &v))
			page_figure(p, path, v, figure_rows[i].bytes, 0);
		else
			page_raw(p, "<td class=\"num none\">&ndash;</td>");
		snprintf(path, sizeof(path), "change.%s", figure_rows[i].key);
		if (cJSON_IsObject(change) && jnum(change, figure_rows[i].key, &v))
			page_figure(p, path, v, figure_rows[i].bytes, 1);
		else
			page_raw(p, "<td class=\"num none\">&ndash;</td>");
		page_raw(p, "</tr>\n");
	}
	page_raw(p, "</tbody>\n</table>\n");
	if (cJSON_IsObject(jget(doc, "plan")))
		page_raw(p, "<p class=\"note\">A plan changes nothing: the figures are the "
			 "registry's now.</p>\n");
	else if (!cJSON_IsObject(after))
		page_raw(p, "<p class=\"note\">No figures after: nothing was changed (a dry run), "
			 "or the run stopped before measuring again.</p>\n");
	page_raw(p, "</section>\n");
}

/* -------------------------------------------------------------- stages */

static void page_seconds(struct page *p, const cJSON *obj, const char *path)
{
	const cJSON *s = jget(obj, "seconds");

	if (!cJSON_IsNumber(s)) {
		page_raw(p, "<td class=\"num none\">&ndash;</td>");
		return;
	}
	page_raw(p, "<td class=\"num\" data-key=\"");
	page_text(p, path);
	page_rawf(p, "\" data-value=\"%.3f\">%.3f s</td>", s->valuedouble, s->valuedouble);
}

static void page_stages(struct page *p, const cJSON *doc)
{
	const cJSON *stages = jget(doc, "stages"), *st;
	int i = 0;

	if (!cJSON_IsArray(stages) || !cJSON_GetArraySize(stages))
		return;
	page_raw(p, "<section id=\"stages\">\n<h2>Stages</h2>\n<table>\n<thead><tr><th>stage</th>"
		 "<th>status</th><th class=\"num\">took</th><th>error</th></tr></thead>\n<tbody>\n");
	cJSON_ArrayForEach(st, stages) {
		const char *status = jstr(st, "status");
		char path[48];

		page_raw(p, "<tr><td>");
		page_text(p, jstr(st, "name"));
		page_raw(p, "</td><td><span class=\"status ");
		page_text(p, status);
		page_raw(p, "\">");
		page_text(p, status);
		page_raw(p, "</span></td>");
		snprintf(path, sizeof(path), "stages.%d.seconds", i++);
		page_seconds(p, st, path);
		page_raw(p, "<td class=\"why\">");
		page_text(p, jstr(st, "error"));
		page_raw(p, "</td></tr>\n");
	}
	page_raw(p, "</tbody>\n</table>\n</section>\n");
}

/* ------------------------------------------------------------------ GC */

static void gc_figures(struct page *p, const cJSON *gc, const char *key, const char *label)
{
	const cJSON *f = jget(gc, key);
	static const char *const names[] = {"blobs_marked", "blobs_eligible", "manifests_eligible"};

	if (!cJSON_IsObject(f))
		return;
	page_raw(p, "<tr><th>");
	page_text(p, label);
	page_raw(p, "</th>");
	for (int i = 0; i < 3; i++) {
		char path[80];
		int64_t v = 0;

		snprintf(path, sizeof(path), "gc.%s.%s", key, names[i]);
		if (jnum(f, names[i], &v))
			page_figure(p, path, v, 0, 0);
		else
			page_raw(p, "<td class=\"num none\">&ndash;</td>");
	}
	page_raw(p, "</tr>\n");
}

static void gc_steps(struct page *p, const cJSON *gc)
{
	const cJSON *steps = jget(gc, "steps"), *step;

	if (!cJSON_IsObject(steps))
		return;
	page_raw(p, "<table>\n<thead><tr><th>step</th><th>state</th><th class=\"num\">exit status</th>"
		 "<th class=\"num\">took</th></tr></thead>\n<tbody>\n");
	cJSON_ArrayForEach(step, steps) {
		const char *state = jstr(step, "state");
		char path[96];
		int64_t status;

		page_raw(p, "<tr><td>");
		page_text(p, step->string);
		page_raw(p, "</td><td><span class=\"status ");
		page_text(p, state);
		page_raw(p, "\">");
		page_text(p, state);
		page_raw(p, "</span></td>");
		if (jnum(step, "exit_status", &status))
			page_rawf(p, "<td class=\"num%s\">%" PRId64 "</td>", status ? " down" : "", status);
		else
			page_raw(p, "<td class=\"num none\">&ndash;</td>");
		snprintf(path, sizeof(path), "gc.steps.%s.seconds", step->string);
		page_seconds(p, step, path);
		page_raw(p, "</tr>\n");
	}
	page_raw(p, "</tbody>\n</table>\n");
}

static void page_gc(struct page *p, const cJSON *doc)
{
	const cJSON *gc = jget(doc, "gc"), *stages = jget(doc, "stages"), *st;
	const char *failed = jstr(gc, "failed_step"), *log = jstr(gc, "remote_log");
	int64_t v = 0, w = 0;

	page_raw(p, "<section id=\"gc\">\n<h2>Garbage collection</h2>\n");
	if (!cJSON_IsObject(gc)) {
		cJSON_ArrayForEach(st, stages) {
			const char *name = jstr(st, "name");

			if (name && strcmp(name, "gc") == 0 && jstr(st, "error")) {
				page_raw(p, "<p class=\"note\">Not run: ");
				page_text(p, jstr(st, "error"));
				page_raw(p, "</p>\n</section>\n");
				return;
			}
		}
		page_raw(p, "<p class=\"note\">Not run: without <code>--ssh</code> the deleted "
			 "manifests' blobs stay on disk until <code>registry garbage-collect</code> "
			 "runs on the registry host.</p>\n</section>\n");
		return;
	}
	page_raw(p, "<dl class=\"facts\">\n<div><dt>Host</dt><dd>");
	page_text(p, jstr(gc, "host"));
	page_rawf(p, "</dd></div>\n<div><dt>Mode</dt><dd>%s</dd></div>\n",
		  cJSON_IsTrue(jget(gc, "dry_run")) ? "dry run" : "collected");
	page_rawf(p, "<div><dt>Completed</dt><dd>%s</dd></div>\n",
		  cJSON_IsTrue(jget(gc, "completed")) ? "yes" : "no");
	page_raw(p, "<div><dt>Failed step</dt><dd>");
	page_text(p, failed ? failed : "none");
	page_raw(p, "</dd></div>\n<div><dt>Exit status</dt><dd>");
	if (jnum(gc, "exit_status", &v))
		page_rawf(p, "%" PRId64, v);
	else
		page_raw(p, "unknown");
	page_raw(p, "</dd></div>\n");
	if (log) {
		page_raw(p, "<div><dt>Remote log</dt><dd>");
		page_text(p, log);
		page_raw(p, "</dd></div>\n");
	}
	page_raw(p, "</dl>\n");
	gc_steps(p, gc);
	if (cJSON_IsObject(jget(gc, "dry_run_figures")) || cJSON_IsObject(jget(gc, "figures"))) {
		page_raw(p, "<table class=\"figures\">\n<thead><tr><th></th><th>blobs marked</th>"
			 "<th>blobs eligible</th><th>manifests eligible</th></tr></thead>\n<tbody>\n");
		gc_figures(p, gc, "dry_run_figures", "dry run");
		gc_figures(p, gc, "figures", "collection");
		page_raw(p, "</tbody>\n</table>\n");
	}
	if (jnum(gc, "storage_bytes_before", &v) && v >= 0) {
		page_raw(p, "<table class=\"figures\">\n<thead><tr><th></th><th>blobs on disk</th>"
			 "<th>bytes on disk</th></tr></thead>\n<tbody>\n<tr><th>before GC</th>");
		jnum(gc, "storage_blobs_before", &w);
		page_figure(p, "gc.storage_blobs_before", w, 0, 0);
		page_figure(p, "gc.storage_bytes_before", v, 1, 0);
		page_raw(p, "</tr>\n");
		if (jnum(gc, "storage_bytes_after", &v) && v >= 0 &&
		    jnum(gc, "storage_blobs_after", &w)) {
			page_raw(p, "<tr><th>after GC</th>");
			page_figure(p, "gc.storage_blobs_after", w, 0, 0);
			page_figure(p, "gc.storage_bytes_after", v, 1, 0);
			page_raw(p, "</tr>\n");
		}
		page_raw(p, "</tbody>\n</table>\n");
	}
	page_raw(p, "</section>\n");
}

/* --------------------------------------------------------------- lists */

void page_digest(struct page *p, const char *digest)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;

	if (!digest || !*digest) {
		page_raw(p, "<td class=\"none\">&ndash;</td>");
		return;
	}
	page_raw(p, "<td class=\"digest\" title=\"");
	page_text(p, digest);
	page_raw(p, "\">");
	if (colon && strlen(colon + 1) > 12) {
		char shortd[64];

		snprintf(shortd, sizeof(shortd), "%.*s%.12s", (int)(colon - digest + 1) < 20
			 ? (int)(colon - digest + 1) : 20, digest, colon + 1);
		page_text(p, shortd);
		page_raw(p, "&hellip;");
	} else {
		page_text(p, digest);
	}
	page_raw(p, "</td>");
}

/* The tags of an item: "tags" (a list) or "tag" (one, as an untag has). */
static void page_item_tags(struct page *p, const cJSON *item)
{
	const cJSON *tags = jget(item, "tags"), *t;
	const char *tag = jstr(item, "tag");
	int n = 0;

	page_raw(p, "<td class=\"tags\">");
	if (tag) {
		page_raw(p, "<span class=\"tag\">");
		page_text(p, tag);
		page_raw(p, "</span>");
		n++;
	}
	cJSON_ArrayForEach(t, tags) {
		if (!cJSON_IsString(t))
			continue;
		page_raw(p, "<span class=\"tag\">");
		page_text(p, t->valuestring);
		page_raw(p, "</span> ");
		n++;
	}
	if (!n)
		page_raw(p, "<span class=\"none\">untagged</span>");
	page_raw(p, "</td>");
}

void page_more_rows(struct page *p, int shown, int total, int columns)
{
	if (total > shown)
		page_rawf(p, "<tr><td colspan=\"%d\" class=\"note\">%d more, not shown here: the JSON "
			  "report lists every one.</td></tr>\n", columns, total - shown);
}

/* A list of deletions, untags or skips: each item's repository, digest,
 * tags, the plan's reason, the outcome and its detail. */
static void page_items(struct page *p, const cJSON *doc, const char *key, const char *title,
		       const char *empty)
{
	const cJSON *items = jget(doc, key), *it;
	int total = cJSON_GetArraySize(items), shown = 0;

	if (!cJSON_IsArray(items))
		return;
	page_raw(p, "<section id=\"");
	page_text(p, key);
	page_raw(p, "\">\n<h2>");
	page_text(p, title);
	page_raw(p, " <span class=\"count\" data-key=\"");
	page_text(p, key);
	page_rawf(p, "\" data-value=\"%d\">%d</span></h2>\n", total, total);
	if (!total) {
		page_raw(p, "<p class=\"note\">");
		page_text(p, empty);
		page_raw(p, "</p>\n</section>\n");
		return;
	}
	page_raw(p, "<table class=\"items\">\n<thead><tr><th>repository</th><th>digest</th>"
		 "<th>tags</th><th>reason</th><th>outcome</th><th>detail</th></tr></thead>\n"
		 "<tbody>\n");
	cJSON_ArrayForEach(it, items) {
		const char *outcome_word = jstr(it, "outcome");

		if (shown == RS_HTML_MAX_ROWS)
			break;
		shown++;
		page_raw(p, "<tr><td class=\"repo\">");
		page_text(p, jstr(it, "repository"));
		page_raw(p, "</td>");
		page_digest(p, jstr(it, "digest"));
		page_item_tags(p, it);
		page_raw(p, "<td class=\"why\">");
		page_text(p, jstr(it, "reason"));
		page_raw(p, "</td><td><span class=\"status ");
		page_text(p, outcome_word);
		page_raw(p, "\">");
		page_text(p, outcome_word);
		page_raw(p, "</span></td><td class=\"why\">");
		page_text(p, jstr(it, "detail"));
		page_raw(p, "</td></tr>\n");
	}
	page_more_rows(p, shown, total, 6);
	page_raw(p, "</tbody>\n</table>\n</section>\n");
}

static void page_errors(struct page *p, const cJSON *doc)
{
	const cJSON *errors = jget(doc, "errors"), *e;

	if (!cJSON_GetArraySize(errors))
		return;
	page_raw(p, "<section id=\"errors\">\n<h2>Errors</h2>\n<ul class=\"errors\">\n");
	cJSON_ArrayForEach(e, errors) {
		page_raw(p, "<li>");
		page_text(p, cJSON_GetStringValue(e));
		page_raw(p, "</li>\n");
	}
	page_raw(p, "</ul>\n</section>\n");
}

static void page_nav(struct page *p, const cJSON *doc)
{
	page_raw(p, "<nav><a href=\"#summary\">Summary</a>");
	if (cJSON_GetArraySize(jget(doc, "per_repo")))
		page_raw(p, " <a href=\"#repositories\">Repositories</a>");
	if (cJSON_IsObject(jget(doc, "plan")))
		page_raw(p, " <a href=\"#plan\">Plan</a> <a href=\"#decisions\">Decisions</a>");
	else
		page_raw(p, " <a href=\"#stages\">Stages</a> <a href=\"#gc\">Garbage collection</a>");
	page_raw(p, " <a href=\"#deletions\">Deletions</a>");
	if (cJSON_IsArray(jget(doc, "untags")))
		page_raw(p, " <a href=\"#untags\">Untags</a>");
	if (!cJSON_IsObject(jget(doc, "plan")))
		page_raw(p, " <a href=\"#skips\">Skips</a>");
	if (cJSON_GetArraySize(jget(doc, "errors")))
		page_raw(p, " <a href=\"#errors\">Errors</a>");
	page_raw(p, "</nav>\n");
}

int rs_report_html(struct rs_buf *out, const char *json, const char *command)
{
	cJSON *doc = cJSON_Parse(json ? json : "");
	int is_plan = cJSON_IsObject(jget(doc, "plan"));
	struct page p = {out, 0};

	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return rs_error_set(RS_EPROTO, "the report to render is not a JSON object");
	}
	page_head(&p, doc, command ? command : "run");
	page_raw(&p, "<main>\n");
	page_nav(&p, doc);
	page_facts(&p, doc);
	page_summary(&p, doc);
	html_repositories(&p, doc);
	if (is_plan)
		html_plan(&p, doc);
	page_stages(&p, doc);
	if (!is_plan)
		page_gc(&p, doc);
	page_items(&p, doc, "deletions", is_plan ? "Deletions planned" : "Deletions",
		   is_plan ? "The plan deletes nothing." : "Nothing was deleted.");
	page_items(&p, doc, "untags", "Untags", "No tag was removed on its own.");
	page_items(&p, doc, "skips", "Skips", "Nothing was skipped.");
	if (is_plan)
		html_decisions(&p, doc);
	page_errors(&p, doc);
	page_raw(&p, "</main>\n<footer>Made by regsweep ");
	page_text(&p, jstr(doc, "tool_version"));
	page_raw(&p, " from the run's JSON report (report_version ");
	page_rawf(&p, "%d", cJSON_IsNumber(jget(doc, "report_version"))
		  ? jget(doc, "report_version")->valueint : 0);
	page_raw(&p, "). This page loads nothing from anywhere.</footer>\n</body>\n</html>\n");
	cJSON_Delete(doc);
	return p.rc;
}
