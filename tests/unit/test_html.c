/* test_html.c: the report page: the figures are the JSON document's, every
 * string from the registry is escaped, nothing is loaded from anywhere, the
 * chart puts the largest repository first, untags and plans are shown. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/error.h"
#include "report/html.h"

/* A run report as rs_report_json writes it, with hostile names, an untag
 * (the verdict another change adds) and a failed GC step. */
static const char run_doc[] =
	"{\"report_version\":1,\"tool\":\"regsweep\",\"tool_version\":\"0.1.0\","
	"\"registry\":\"https://registry.example.com\",\"dry_run\":false,"
	"\"started\":\"2026-11-27T03:30:00Z\",\"finished\":\"2026-11-27T03:31:12Z\","
	"\"success\":false,\"exit_code\":3,\"requests\":10240,"
	"\"before\":{\"repositories\":3,\"tags\":14,\"manifests\":43,\"blobs\":143,\"bytes\":350321,"
	"\"storage_blobs\":150,\"storage_bytes\":379904},"
	"\"after\":{\"repositories\":3,\"tags\":8,\"manifests\":10,\"blobs\":26,\"bytes\":30720,"
	"\"storage_blobs\":30,\"storage_bytes\":36864},"
	"\"change\":{\"repositories\":0,\"tags\":-6,\"manifests\":-33,\"blobs\":-117,\"bytes\":-319601,"
	"\"storage_blobs\":-120,\"storage_bytes\":-343040},"
	"\"per_repo\":["
	"{\"name\":\"evil/<script>alert(1)</script>\",\"before\":{\"repositories\":1,\"tags\":2,"
	"\"manifests\":2,\"blobs\":4,\"bytes\":1000},\"after\":{\"repositories\":1,\"tags\":1,"
	"\"manifests\":1,\"blobs\":2,\"bytes\":500}},"
	"{\"name\":\"huge\",\"before\":{\"repositories\":1,\"tags\":10,\"manifests\":39,\"blobs\":130,"
	"\"bytes\":340000},\"after\":{\"repositories\":1,\"tags\":5,\"manifests\":7,\"blobs\":20,"
	"\"bytes\":25000}},"
	"{\"name\":\"small\",\"before\":{\"repositories\":1,\"tags\":2,\"manifests\":2,\"blobs\":9,"
	"\"bytes\":9321},\"after\":{\"repositories\":1,\"tags\":2,\"manifests\":2,\"blobs\":4,"
	"\"bytes\":5220}}],"
	"\"stages\":[{\"name\":\"stats-before\",\"status\":\"ok\",\"seconds\":8.125,\"error\":null},"
	"{\"name\":\"apply\",\"status\":\"partial\",\"seconds\":2.5,"
	"\"error\":\"tag <b>moved</b> & 'skipped'\"},"
	"{\"name\":\"gc\",\"status\":\"ok\",\"seconds\":31.25,\"error\":null}],"
	"\"deletions\":[{\"repository\":\"huge\",\"digest\":\"sha256:"
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
	"\"media_type\":\"application/vnd.oci.image.manifest.v1+json\",\"tags\":[\"<script>\"],"
	"\"reason\":\"older than the newest 5 \\\"x\\\"\",\"outcome\":\"deleted\",\"detail\":null}],"
	"\"untags\":[{\"repository\":\"huge\",\"tag\":\"old-<i>sibling</i>\",\"digest\":\"sha256:"
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\","
	"\"reason\":\"dropped; its digest is kept by tag 'latest'\",\"outcome\":\"untagged\","
	"\"detail\":null}],"
	"\"skips\":[{\"repository\":\"small\",\"digest\":\"sha256:"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	"\"media_type\":null,\"tags\":[],\"reason\":\"untagged\",\"outcome\":\"skipped\","
	"\"detail\":\"a tag <now> points at it\"}],"
	"\"apply\":{\"registry\":\"https://registry.example.com\",\"dry_run\":false,"
	"\"backup_dir\":\"b\",\"started\":\"2026-11-27T03:30:09Z\",\"deleted\":1,\"already_gone\":0,"
	"\"skipped\":1,\"failed\":0,\"not_attempted\":0,\"would_delete\":0,\"stopped\":null},"
	"\"gc\":{\"host\":\"ops@registry-host:22\",\"dry_run\":false,"
	"\"dry_run_figures\":{\"blobs_marked\":26,\"blobs_eligible\":117,\"manifests_eligible\":0},"
	"\"figures\":{\"blobs_marked\":26,\"blobs_eligible\":117,\"manifests_eligible\":0},"
	"\"steps\":{\"before\":{\"state\":\"done\",\"exit_status\":0},\"gc-dry-run\":{\"state\":"
	"\"done\",\"exit_status\":0,\"seconds\":3.5},\"gc\":{\"state\":\"done\",\"exit_status\":0},"
	"\"after\":{\"state\":\"done\",\"exit_status\":0}},\"failed_step\":null,\"exit_status\":0,"
	"\"completed\":true,\"empty_storage\":false,\"storage_blobs_before\":150,"
	"\"storage_bytes_before\":379904,\"storage_blobs_after\":30,\"storage_bytes_after\":36864},"
	"\"errors\":[\"apply: <img src=x onerror=alert(1)>\"]}";

static char *render(const char *doc, const char *command)
{
	struct rs_buf out = RS_BUF_INIT;

	cr_assert_eq(rs_report_html(&out, doc, command), 0, "%s", rs_error_message());
	return rs_buf_detach(&out);
}

/* The value at a dotted path ("per_repo.1.after.bytes"); an array at the
 * end of the path stands for its length. Returns 0 when there is none. */
static int value_at(const cJSON *doc, const char *path, double *out)
{
	char copy[256], *save = NULL;
	const cJSON *v = doc;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *part = strtok_r(copy, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
		v = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, atoi(part))
				     : cJSON_GetObjectItemCaseSensitive(v, part);
	if (cJSON_IsNumber(v))
		*out = v->valuedouble;
	else if (cJSON_IsArray(v))
		*out = cJSON_GetArraySize(v);
	else
		return 0;
	return 1;
}

/* Every data-key/data-value pair of the page equals the document; returns
 * how many there are. */
static int check_figures(const char *page, const char *doc_text)
{
	cJSON *doc = cJSON_Parse(doc_text);
	const char *p = page;
	int n = 0;

	cr_assert_not_null(doc);
	while ((p = strstr(p, "data-key=\""))) {
		char key[256], value[64];
		double want = 0;

		cr_assert_eq(sscanf(p, "data-key=\"%255[^\"]\" data-value=\"%63[^\"]\"", key, value), 2,
			     "a data-key without its data-value at: %.60s", p);
		cr_assert(value_at(doc, key, &want), "the page shows '%s', which the JSON lacks", key);
		cr_assert_eq(strtod(value, NULL), want, "%s: the page says %s, the JSON %.17g", key,
			     value, want);
		n++;
		p++;
	}
	cJSON_Delete(doc);
	return n;
}

Test(html, figures_are_the_json_reports)
{
	char *page = render(run_doc, "run");
	int n = check_figures(page, run_doc);

	cr_assert_geq(n, 40, "only %d figures carry their JSON path", n);
	cr_assert(strstr(page, "data-key=\"before.bytes\" data-value=\"350321\""));
	cr_assert(strstr(page, "data-key=\"change.storage_bytes\" data-value=\"-343040\""));
	cr_assert(strstr(page, "data-key=\"per_repo.1.after.bytes\" data-value=\"25000\""));
	cr_assert(strstr(page, "data-key=\"gc.figures.blobs_eligible\" data-value=\"117\""));
	cr_assert(strstr(page, "data-key=\"stages.2.seconds\" data-value=\"31.250\""));
	cr_assert(strstr(page, "data-key=\"gc.steps.gc-dry-run.seconds\""), "a step's duration, when "
		  "the report has one, is shown");
	cr_assert(strstr(page, "342 KiB"), "sizes are shown for people too");
	cr_assert(strstr(page, "350321 bytes"), "with the exact byte count");
	cr_assert(strstr(page, "done in part"), "exit code 3 reads as done in part");
	free(page);
}

Test(html, hostile_names_are_text)
{
	char *page = render(run_doc, "run");

	cr_assert_null(strcasestr(page, "<script"), "a tag named <script> became markup");
	cr_assert_null(strcasestr(page, "<img"), "an error message became markup");
	cr_assert_null(strstr(page, "<b>moved"));
	cr_assert_null(strstr(page, "<i>sibling"));
	cr_assert_null(strstr(page, "<now>"));
	cr_assert(strstr(page, "<span class=\"tag\">&lt;script&gt;</span>"),
		  "the tag shows as text");
	cr_assert(strstr(page, "evil/&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_assert(strstr(page, "tag &lt;b&gt;moved&lt;/b&gt; &amp; &#39;skipped&#39;"));
	cr_assert(strstr(page, "older than the newest 5 &quot;x&quot;"));
	free(page);
}

Test(html, escape_covers_attributes_and_control_characters)
{
	struct rs_buf out = RS_BUF_INIT;

	cr_assert_eq(rs_html_escape(&out, "a\"b'c<d>e&f\x01g\th"), 0);
	cr_assert_str_eq(rs_buf_cstr(&out), "a&quot;b&#39;c&lt;d&gt;e&amp;f\xEF\xBF\xBDg\th");
	rs_buf_release(&out);
}

/* The value of attribute `name` in each tag of the page (text cannot hold
 * a tag: every '<' in it is escaped), passed to `check`. */
static int each_attribute(const char *page, const char *name, void (*check)(const char *value))
{
	char pattern[32];
	int n = 0;

	snprintf(pattern, sizeof(pattern), " %s=", name);
	for (const char *lt = strchr(page, '<'); lt; lt = strchr(lt + 1, '<')) {
		const char *gt = strchr(lt, '>'), *a = strcasestr(lt, pattern);

		cr_assert_not_null(gt, "a tag that does not end: %.60s", lt);
		if (a && a < gt) {
			check(a + strlen(pattern));
			n++;
		}
	}
	return n;
}

static void no_src(const char *value)
{
	cr_assert_fail("something is loaded by src=%.60s", value);
}

static void anchor_only(const char *value)
{
	cr_assert_eq(strncmp(value, "\"#", 2), 0, "an href that leaves the page: %.60s", value);
}

Test(html, loads_nothing_from_anywhere)
{
	char *page = render(run_doc, "run");

	cr_assert_null(strcasestr(page, "<script"));
	cr_assert_null(strcasestr(page, "<link"));
	cr_assert_null(strcasestr(page, "<img"));
	cr_assert_null(strcasestr(page, "<iframe"));
	cr_assert_null(strcasestr(page, "@import"));
	cr_assert_null(strcasestr(page, "url("));
	cr_assert_null(strstr(strstr(page, "</header>"), "://"), "no URL but the registry's, "
		       "which is text in the header");
	cr_assert_eq(each_attribute(page, "src", no_src), 0);
	cr_assert_gt(each_attribute(page, "href", anchor_only), 3,
		     "the page has its own table of contents");
	cr_assert(strstr(page, "Content-Security-Policy"));
	cr_assert(strstr(page, "<svg"), "the chart is inline SVG");
	cr_assert(strstr(page, "<style>"), "the style is inline");
	free(page);
}

Test(html, chart_puts_the_largest_repository_first)
{
	char *page = render(run_doc, "run");
	char *svg = strstr(page, "<svg"), *end = strstr(page, "</svg>");
	char *huge = strstr(svg, ">huge<"), *small = strstr(svg, ">small<");
	char *evil = strstr(svg, ">evil/&lt;script&gt;alert(1)&lt;/script&gt;<");

	cr_assert(svg && end && huge && small && evil, "every repository is in the chart");
	cr_assert(huge < small && small < evil && evil < end, "largest first: huge, small, evil");
	cr_assert(strstr(svg, "class=\"after\""), "bars for after");
	free(page);
}

Test(html, untags_are_listed_when_the_report_has_them)
{
	char *page = render(run_doc, "run");
	cJSON *doc = cJSON_Parse(run_doc);
	char *without, *page2;

	cr_assert(strstr(page, "<section id=\"untags\">"));
	cr_assert(strstr(page, "data-key=\"untags\" data-value=\"1\""));
	cr_assert(strstr(page, "old-&lt;i&gt;sibling&lt;/i&gt;"));
	cr_assert(strstr(page, "its digest is kept by tag &#39;latest&#39;"));
	cJSON_DeleteItemFromObject(doc, "untags");
	without = cJSON_PrintUnformatted(doc);
	page2 = render(without, "run");
	cr_assert_null(strstr(page2, "id=\"untags\""), "no untags section without untags");
	free(page);
	free(page2);
	free(without);
	cJSON_Delete(doc);
}

Test(html, a_failed_run_without_figures_still_renders)
{
	const char *doc = "{\"report_version\":1,\"tool_version\":\"0.1.0\",\"registry\":\"http://r\","
			  "\"dry_run\":false,\"started\":\"2026-01-01T00:00:00Z\",\"finished\":"
			  "\"2026-01-01T00:00:01Z\",\"success\":false,\"exit_code\":1,\"requests\":1,"
			  "\"before\":null,\"after\":null,\"change\":null,\"stages\":[{\"name\":"
			  "\"stats-before\",\"status\":\"failed\",\"seconds\":0.5,\"error\":"
			  "\"cannot reach http://r\"}],\"deletions\":[],\"skips\":[],\"apply\":null,"
			  "\"gc\":null,\"errors\":[\"cannot reach http://r\"]}";
	char *page = render(doc, "run");

	cr_assert(strstr(page, "class=\"badge failed\""));
	cr_assert(strstr(page, "No figures"));
	cr_assert(strstr(page, "cannot reach http://r"));
	check_figures(page, doc);
	free(page);
}

Test(html, a_plan_shows_its_totals_and_decisions)
{
	const char *doc = "{\"report_version\":1,\"tool_version\":\"0.1.0\",\"registry\":\"http://r\","
			  "\"dry_run\":true,\"started\":\"2026-01-01T00:00:00Z\",\"finished\":"
			  "\"2026-01-01T00:00:01Z\",\"success\":true,\"exit_code\":0,\"requests\":7,"
			  "\"before\":{\"repositories\":1,\"tags\":2,\"manifests\":2,\"blobs\":3,\"bytes\":"
			  "4096},\"after\":null,\"change\":null,\"per_repo\":[{\"name\":\"app\",\"before\":"
			  "{\"repositories\":1,\"tags\":2,\"manifests\":2,\"blobs\":3,\"bytes\":4096},"
			  "\"after\":null}],\"stages\":[],\"deletions\":[{\"repository\":\"app\","
			  "\"digest\":\"sha256:11\",\"media_type\":null,\"tags\":[\"old\"],\"reason\":"
			  "\"beyond the newest 1\",\"outcome\":\"planned\",\"detail\":null}],\"apply\":"
			  "null,\"gc\":null,\"errors\":[],\"command\":\"plan\",\"plan\":{\"policy\":"
			  "\"keep the newest 1\",\"created\":\"2026-01-01T00:00:00Z\",\"totals\":{"
			  "\"repositories\":1,\"incomplete\":0,\"tags\":2,\"tags_deleted\":1,\"manifests\":"
			  "2,\"manifests_deleted\":1,\"untagged_deleted\":0,\"reclaimable_bytes\":2048},"
			  "\"repositories\":[{\"name\":\"app\",\"complete\":true,\"note\":null,\"tags\":2,"
			  "\"tags_deleted\":1,\"manifests\":2,\"manifests_deleted\":1}],\"tags\":["
			  "{\"repository\":\"app\",\"tag\":\"new\",\"digest\":\"sha256:22\",\"created\":"
			  "null,\"decision\":\"keep\",\"reason\":\"newest 1\"},{\"repository\":\"app\","
			  "\"tag\":\"old\",\"digest\":\"sha256:11\",\"created\":\"2025-01-01T00:00:00Z\","
			  "\"decision\":\"delete\",\"reason\":\"beyond the newest 1\"}]}}";
	char *page = render(doc, "plan");

	check_figures(page, doc);
	cr_assert(strstr(page, "data-key=\"plan.totals.reclaimable_bytes\" data-value=\"2048\""));
	cr_assert(strstr(page, "data-key=\"plan.repositories.0.manifests_deleted\""));
	cr_assert(strstr(page, "<section id=\"decisions\">"));
	cr_assert(strstr(page, "Deletions planned"));
	cr_assert(strstr(page, "beyond the newest 1"));
	cr_assert(strstr(page, "<title>regsweep plan: http://r: done</title>"));
	cr_assert_null(strstr(page, "id=\"skips\""), "a plan skips nothing");
	cr_assert_null(strstr(page, "class=\"after\""), "no bars for after in a plan");
	free(page);
}

Test(html, long_lists_are_cut_and_say_so)
{
	cJSON *doc = cJSON_Parse(run_doc), *deletions = cJSON_GetObjectItem(doc, "deletions");
	cJSON *item = cJSON_GetArrayItem(deletions, 0);
	char *text, *page;

	for (int i = 0; i < RS_HTML_MAX_ROWS + 4; i++)
		cJSON_AddItemToArray(deletions, cJSON_Duplicate(item, 1));
	text = cJSON_PrintUnformatted(doc);
	page = render(text, "run");
	cr_assert(strstr(page, "5 more, not shown here"));
	cr_assert(strstr(page, "data-key=\"deletions\" data-value=\"10005\""));
	free(page);
	free(text);
	cJSON_Delete(doc);
}

Test(html, a_document_that_is_not_json_is_refused)
{
	struct rs_buf out = RS_BUF_INIT;

	cr_assert_eq(rs_report_html(&out, "not json", "run"), RS_EPROTO);
	cr_assert_eq(rs_report_html(&out, "[1,2]", "run"), RS_EPROTO);
	rs_buf_release(&out);
}
