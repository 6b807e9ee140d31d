/* html_parts.c: the report page's style sheet, its per-repository chart
 * (inline SVG) and table, and the sections only a plan has. */
#include "report/html.h"
#include "report/html_page.h"
#include "base/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char html_css[] =
	":root{--ink:#1d2430;--muted:#5b6575;--line:#dde2ea;--bg:#f5f7fa;--card:#fff;"
	"--ok:#1a7f37;--warn:#9a6700;--bad:#c62828;--before:#aab4c3;--after:#2f6fce}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\n"
	"header{background:#1f2a3a;color:#fff;padding:18px 28px}\n"
	"h1{margin:0;font-size:22px;font-weight:600}\n"
	".registry{margin:4px 0 0;color:#c9d3e0;font-family:ui-monospace,Menlo,Consolas,monospace;"
	"word-break:break-all}\n"
	"main{max-width:1180px;margin:0 auto;padding:8px 28px 28px}\n"
	"nav{margin:10px 0 4px;display:flex;flex-wrap:wrap;gap:14px}\n"
	"nav a{color:var(--after);text-decoration:none}\n"
	"section{background:var(--card);border:1px solid var(--line);border-radius:8px;"
	"padding:14px 18px;margin:14px 0}\n"
	"h2{margin:0 0 10px;font-size:17px}\n"
	".count{color:var(--muted);font-weight:400}\n"
	".badge{display:inline-block;font-size:13px;font-weight:600;padding:2px 10px;"
	"border-radius:12px;vertical-align:middle;margin-left:6px}\n"
	".badge.ok{background:#d8f5de;color:var(--ok)}.badge.partial{background:#fff1c2;color:var(--warn)}\n"
	".badge.failed{background:#ffe0de;color:var(--bad)}.badge.dry{background:#e3ecfb;color:#254f91}\n"
	".facts{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}\n"
	".facts div{min-width:120px}.facts dt{color:var(--muted);font-size:12px}.facts dd{margin:0}\n"
	".cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:14px}\n"
	".card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:130px;"
	"color:var(--muted)}\n"
	".card .big{display:block;font-size:22px;font-weight:600;color:var(--ink)}\n"
	".card.good .big{color:var(--ok)}.card.warn .big{color:var(--warn)}"
	".card.bad .big{color:var(--bad)}\n"
	"table{border-collapse:collapse;width:100%;margin:6px 0 4px}\n"
	"th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);"
	"vertical-align:top}\n"
	"thead th{color:var(--muted);font-weight:600;font-size:12px}\n"
	"table.figures{width:auto;min-width:480px}\n"
	"td.num,th.num,table.figures thead th+th{text-align:right}\n"
	"td.num{font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.down{color:var(--ok)}\n"
	".exact{display:block;color:var(--muted);font-size:11px}\n"
	".none{color:var(--muted)}\n"
	".digest,.repo,.tag,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}\n"
	".repo,.why{word-break:break-all}\n"
	".tag{background:#eef1f5;border-radius:4px;padding:0 5px;margin-right:3px;"
	"white-space:nowrap;display:inline-block;max-width:100%;overflow:hidden;"
	"text-overflow:ellipsis}\n"
	".status{font-size:12px;font-weight:600;padding:1px 7px;border-radius:10px;"
	"background:#eef1f5;white-space:nowrap}\n"
	".status.ok,.status.deleted,.status.done,.status.untagged{background:#d8f5de;color:var(--ok)}\n"
	".status.failed{background:#ffe0de;color:var(--bad)}\n"
	".status.partial,.status.skipped{background:#fff1c2;color:var(--warn)}\n"
	".note{color:var(--muted)}\n"
	".errors li{color:var(--bad);word-break:break-word}\n"
	"svg{max-width:100%;height:auto;display:block}\n"
	"svg text{font:12px system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;fill:#1d2430}\n"
	"svg .before{fill:var(--before)}svg .after{fill:var(--after)}svg .value{fill:#5b6575}\n"
	"footer{max-width:1180px;margin:0 auto;padding:0 28px 24px;color:var(--muted);font-size:12px}\n"
	"@media print{body{background:#fff}section{break-inside:avoid}}\n";

/* ---------------------------------------------------------------- chart */

#define CHART_ROWS 30        /* repositories drawn; the rest as one row */
#define CHART_WIDTH 880
#define CHART_LABEL 250      /* right edge of the names */
#define CHART_BARS 460       /* width of the longest bar */
#define CHART_ROW 30

struct repo_row {
	const cJSON *repo;
	int index;               /* in the JSON's per_repo, for data-key */
	int64_t before, after;   /* bytes; after -1 when unknown */
};

static int cmp_rows(const void *a, const void *b)
{
	const struct repo_row *x = a, *y = b;
	const char *nx = jstr(x->repo, "name"), *ny = jstr(y->repo, "name");

	if (x->before != y->before)
		return x->before > y->before ? -1 : 1;
	return strcmp(nx ? nx : "", ny ? ny : "");
}

/* A name cut to fit its column, without splitting a UTF-8 sequence. */
static void short_name(char *out, size_t outsize, const char *name)
{
	size_t n = strlen(name), keep = 34;

	if (n <= keep + 1) {
		snprintf(out, outsize, "%s", name);
		return;
	}
	while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
		keep--;
	snprintf(out, outsize, "%.*s\xE2\x80\xA6", (int)keep, name);
}

static int bar_width(int64_t v, int64_t max)
{
	int w;

	if (v <= 0 || max <= 0)
		return 0;
	w = (int)((double)v / (double)max * CHART_BARS + 0.5);
	return w < 1 ? 1 : w;
}

static void chart_row(struct page *p, int y, const char *name, const char *title, int64_t before,
		      int64_t after, int64_t max)
{
	char cut[64];
	int both = after >= 0;

	short_name(cut, sizeof(cut), name);
	page_rawf(p, "<g><title>");
	page_text(p, title);
	page_rawf(p, "</title><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", CHART_LABEL, y + 19);
	page_text(p, cut);
	page_rawf(p, "</text><rect class=\"before\" fill=\"#aab4c3\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
		  CHART_LABEL + 10, y + 4, bar_width(before, max), both ? 10 : 20);
	if (both)
		page_rawf(p, "<rect class=\"after\" fill=\"#2f6fce\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"10\"/>",
			  CHART_LABEL + 10, y + 15, bar_width(after, max));
	page_rawf(p, "<text class=\"value\" fill=\"#5b6575\" x=\"%d\" y=\"%d\">", CHART_LABEL + CHART_BARS + 22, y + 19);
	page_size(p, before);
	if (both) {
		page_raw(p, " \xE2\x86\x92 ");
		page_size(p, after);
	}
	page_raw(p, "</text></g>\n");
}

static void chart(struct page *p, const struct repo_row *rows, int n, int have_after)
{
	int drawn = n > CHART_ROWS ? CHART_ROWS : n, height;
	int64_t max = 0, rest_before = 0, rest_after = 0;
	char rest[64];

	for (int i = 0; i < n; i++) {
		if (rows[i].before > max)
			max = rows[i].before;
		if (rows[i].after > max)
			max = rows[i].after;
	}
	height = 28 + CHART_ROW * (drawn + (n > drawn));
	page_rawf(p, "<svg role=\"img\" "
		  "aria-label=\"bytes per repository%s, largest first\" viewBox=\"0 0 %d %d\" "
		  "width=\"%d\" height=\"%d\">\n", have_after ? ", before and after" : "",
		  CHART_WIDTH, height, CHART_WIDTH, height);
	page_rawf(p, "<rect class=\"before\" fill=\"#aab4c3\" x=\"%d\" y=\"4\" width=\"12\" height=\"12\"/>"
		  "<text x=\"%d\" y=\"15\">before</text>\n", CHART_LABEL + 10, CHART_LABEL + 28);
	if (have_after)
		page_rawf(p, "<rect class=\"after\" fill=\"#2f6fce\" x=\"%d\" y=\"4\" width=\"12\" height=\"12\"/>"
			  "<text x=\"%d\" y=\"15\">after</text>\n", CHART_LABEL + 90, CHART_LABEL + 108);
	for (int i = 0; i < drawn; i++) {
		const char *name = jstr(rows[i].repo, "name");

		chart_row(p, 24 + CHART_ROW * i, name ? name : "", name ? name : "", rows[i].before,
			  have_after ? rows[i].after : -1, max);
	}
	for (int i = drawn; i < n; i++) {
		rest_before += rows[i].before;
		rest_after += rows[i].after > 0 ? rows[i].after : 0;
	}
	if (n > drawn) {
		snprintf(rest, sizeof(rest), "%d more repositories", n - drawn);
		/* the sum may be longer than every bar drawn: cap it at the scale */
		chart_row(p, 24 + CHART_ROW * drawn, rest, rest,
			  rest_before > max ? max : rest_before,
			  have_after ? (rest_after > max ? max : rest_after) : -1, max);
	}
	page_raw(p, "</svg>\n");
}

/* Bytes per repository, largest first: the chart, then every repository's
 * figures (each with its data-key in the JSON's per_repo). */
void html_repositories(struct page *p, const cJSON *doc)
{
	const cJSON *repos = jget(doc, "per_repo"), *r;
	int n = cJSON_GetArraySize(repos), i = 0, have_after = 0, shown = 0;
	struct repo_row *rows;

	if (!cJSON_IsArray(repos) || n == 0)
		return;
	rows = calloc((size_t)n, sizeof(*rows));
	if (!rows) {
		if (p->rc == 0)
			p->rc = rs_error_set(RS_ERROR, "out of memory");
		return;
	}
	cJSON_ArrayForEach(r, repos) {
		const cJSON *after = jget(r, "after");

		rows[i].repo = r;
		rows[i].index = i;
		rows[i].before = 0;
		rows[i].after = -1;
		jnum(jget(r, "before"), "bytes", &rows[i].before);
		if (cJSON_IsObject(after) && jnum(after, "bytes", &rows[i].after))
			have_after = 1;
		i++;
	}
	qsort(rows, (size_t)n, sizeof(*rows), cmp_rows);
	page_raw(p, "<section id=\"repositories\">\n<h2>Repositories by size <span class=\"count\">");
	page_rawf(p, "%d</span></h2>\n", n);
	chart(p, rows, n, have_after);
	page_raw(p, "<table class=\"figures\">\n<thead><tr><th>repository</th><th>bytes before</th>"
		 "<th>bytes after</th><th>change</th><th>tags before</th><th>tags after</th></tr>"
		 "</thead>\n<tbody>\n");
	for (i = 0; i < n && shown < RS_HTML_MAX_ROWS; i++, shown++) {
		const cJSON *before = jget(rows[i].repo, "before"), *after = jget(rows[i].repo, "after");
		char path[64];
		int64_t tb = 0, ta = 0;

		page_raw(p, "<tr><td class=\"repo\">");
		page_text(p, jstr(rows[i].repo, "name"));
		page_raw(p, "</td>");
		snprintf(path, sizeof(path), "per_repo.%d.before.bytes", rows[i].index);
		page_figure(p, path, rows[i].before, 1, 0);
		if (rows[i].after >= 0) {
			snprintf(path, sizeof(path), "per_repo.%d.after.bytes", rows[i].index);
			page_figure(p, path, rows[i].after, 1, 0);
			page_raw(p, "<td class=\"num\">");
			page_signed_size(p, rows[i].after - rows[i].before);
			page_raw(p, "</td>");
		} else {
			page_raw(p, "<td class=\"num none\">&ndash;</td><td class=\"num none\">&ndash;</td>");
		}
		jnum(before, "tags", &tb);
		snprintf(path, sizeof(path), "per_repo.%d.before.tags", rows[i].index);
		page_figure(p, path, tb, 0, 0);
		if (cJSON_IsObject(after) && jnum(after, "tags", &ta)) {
			snprintf(path, sizeof(path), "per_repo.%d.after.tags", rows[i].index);
			page_figure(p, path, ta, 0, 0);
		} else {
			page_raw(p, "<td class=\"num none\">&ndash;</td>");
		}
		page_raw(p, "</tr>\n");
	}
	page_more_rows(p, shown, n, 6);
	page_raw(p, "</tbody>\n</table>\n</section>\n");
	free(rows);
}

/* ----------------------------------------------------------------- plan */

static const struct {
	const char *key, *label;
	int bytes;
} plan_rows[] = {
	{"repositories", "Repositories", 0},
	{"incomplete", "read incompletely (nothing deleted there)", 0},
	{"tags", "Tags", 0},
	{"tags_deleted", "tags to delete", 0},
	{"manifests", "Manifests", 0},
	{"manifests_deleted", "manifests to delete", 0},
	{"untagged_deleted", "of them untagged", 0},
	{"reclaimable_bytes", "Blob bytes freed by garbage collection, at most", 1},
};

void html_plan(struct page *p, const cJSON *doc)
{
	const cJSON *plan = jget(doc, "plan"), *totals = jget(plan, "totals");
	const cJSON *repos = jget(plan, "repositories"), *r;
	int n = cJSON_GetArraySize(repos), i = 0;

	page_raw(p, "<section id=\"plan\">\n<h2>Plan</h2>\n<p>Policy: ");
	page_text(p, jstr(plan, "policy"));
	page_raw(p, "</p>\n<table class=\"figures\">\n<tbody>\n");
	for (size_t k = 0; k < sizeof(plan_rows) / sizeof(plan_rows[0]); k++) {
		char path[64];
		int64_t v;

		if (!jnum(totals, plan_rows[k].key, &v) || (plan_rows[k].bytes && v < 0))
			continue;
		page_raw(p, "<tr><th>");
		page_text(p, plan_rows[k].label);
		page_raw(p, "</th>");
		snprintf(path, sizeof(path), "plan.totals.%s", plan_rows[k].key);
		page_figure(p, path, v, plan_rows[k].bytes, 0);
		page_raw(p, "</tr>\n");
	}
	page_raw(p, "</tbody>\n</table>\n");
	if (n) {
		page_raw(p, "<table class=\"figures\">\n<thead><tr><th>repository</th><th>tags</th>"
			 "<th>to delete</th><th>manifests</th><th>to delete</th><th>note</th></tr>"
			 "</thead>\n<tbody>\n");
		cJSON_ArrayForEach(r, repos) {
			static const char *const keys[] = {"tags", "tags_deleted", "manifests",
							   "manifests_deleted"};

			if (i == RS_HTML_MAX_ROWS)
				break;
			page_raw(p, "<tr><td class=\"repo\">");
			page_text(p, jstr(r, "name"));
			page_raw(p, "</td>");
			for (int k = 0; k < 4; k++) {
				char path[80];
				int64_t v = 0;

				jnum(r, keys[k], &v);
				snprintf(path, sizeof(path), "plan.repositories.%d.%s", i, keys[k]);
				page_figure(p, path, v, 0, 0);
			}
			page_raw(p, "<td class=\"why\">");
			page_text(p, jstr(r, "note"));
			page_raw(p, "</td></tr>\n");
			i++;
		}
		page_more_rows(p, i, n, 6);
		page_raw(p, "</tbody>\n</table>\n");
	}
	page_raw(p, "</section>\n");
}

/* Every tag's decision and its reason. */
void html_decisions(struct page *p, const cJSON *doc)
{
	const cJSON *tags = jget(jget(doc, "plan"), "tags"), *t;
	int n = cJSON_GetArraySize(tags), shown = 0;

	if (!cJSON_IsArray(tags))
		return;
	page_rawf(p, "<section id=\"decisions\">\n<h2>Decisions <span class=\"count\" "
		  "data-key=\"plan.tags\" data-value=\"%d\">%d tags</span></h2>\n", n, n);
	if (!n) {
		page_raw(p, "<p class=\"note\">The registry has no tags.</p>\n</section>\n");
		return;
	}
	page_raw(p, "<table class=\"items\">\n<thead><tr><th>repository</th><th>tag</th>"
		 "<th>digest</th><th>created</th><th>decision</th><th>reason</th></tr></thead>\n"
		 "<tbody>\n");
	cJSON_ArrayForEach(t, tags) {
		const char *decision = jstr(t, "decision"), *created = jstr(t, "created");

		if (shown == RS_HTML_MAX_ROWS)
			break;
		shown++;
		page_raw(p, "<tr><td class=\"repo\">");
		page_text(p, jstr(t, "repository"));
		page_raw(p, "</td><td><span class=\"tag\">");
		page_text(p, jstr(t, "tag"));
		page_raw(p, "</span></td>");
		page_digest(p, jstr(t, "digest"));
		page_raw(p, "<td>");
		page_text(p, created ? created : "unknown");
		page_raw(p, "</td><td><span class=\"status ");
		page_text(p, decision);
		page_raw(p, "\">");
		page_text(p, decision);
		page_raw(p, "</span></td><td class=\"why\">");
		page_text(p, jstr(t, "reason"));
		page_raw(p, "</td></tr>\n");
	}
	page_more_rows(p, shown, n, 6);
	page_raw(p, "</tbody>\n</table>\n</section>\n");
}
