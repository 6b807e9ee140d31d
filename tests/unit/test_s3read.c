/* test_s3read.c: the S3 backend reading a scripted bucket (a small
 * ListObjectsV2 on the mock server): every page size gives the same view,
 * the parallel ranges past a first page cover each key once, a store that
 * ignores the delimiter gives the same view, and what a real store will not
 * readily do (answer keys outside the prefix, malformed XML, refuse, be
 * unavailable for a while) ends in a clear result. The real store, Swift's
 * s3api, is tests/integration/s3.sh's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/digest.h"
#include "base/error.h"
#include "base/log.h"
#include "mock_http.h"
#include "net/http.h"
#include "storage/regconfig.h"
#include "storage/s3.h"
#include "storage/storage.h"

#define HEX(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define V2 "lab/docker/registry/v2/"

struct object {
	const char *key;
	const char *content;
};

struct store {
	const struct object *objects;   /* sorted by key */
	size_t n;
	int ignore_delimiter;           /* answer every key, as if none was asked */
	int reject_delimiter;           /* answer 400 to a delimiter other than "/" */
	int odd_etags;                  /* ETags that are no MD5 (multipart, encrypted) */
	int unavailable;                /* answer 503 this many times first */
	int status;                     /* answer every listing with this status... */
	const char *body;               /* ...and this body */
	int outside;                    /* list a key outside the prefix too */
	int listings, gets;
};

static struct store store;
static struct mock_server *server;

/* The query argument `name` of "k=v&k=v" (decoded), into `out`. */
static int arg(const char *query, const char *name, char *out, size_t outsize)
{
	size_t nlen = strlen(name);

	for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1, *end = strchr(v, '&');
			size_t len = end ? (size_t)(end - v) : strlen(v);

			snprintf(out, outsize, "%.*s", (int)len, v);
			return 1;
		}
	}
	out[0] = '\0';
	return 0;
}

static void put_encoded(struct mock_response *resp, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		size_t left = sizeof(resp->body) - resp->body_len;

		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-_.~/", *p))
			resp->body_len += (size_t)snprintf(resp->body + resp->body_len, left, "%c", *p);
		else
			resp->body_len += (size_t)snprintf(resp->body + resp->body_len, left, "%%%02X", *p);
	}
}

static void add(struct mock_response *resp, const char *text)
{
	size_t left = sizeof(resp->body) - resp->body_len;

	resp->body_len += (size_t)snprintf(resp->body + resp->body_len, left, "%s", text);
}

/* ListObjectsV2, enough of it: prefix, delimiter, start-after, a
 * continuation token (the last entry listed), max-keys, encoding-type=url. */
static void list(const char *query, struct mock_response *resp)
{
	char prefix[512], delim[32], after[512], token[512], max[16], common[512], last_common[512] = "";
	const char *marker;
	int max_keys, count = 0, truncated = 0;
	char last[512] = "";

	arg(query, "prefix", prefix, sizeof(prefix));
	arg(query, "delimiter", delim, sizeof(delim));
	arg(query, "start-after", after, sizeof(after));
	arg(query, "continuation-token", token, sizeof(token));
	max_keys = arg(query, "max-keys", max, sizeof(max)) ? atoi(max) : 1000;
	if (store.ignore_delimiter)
		delim[0] = '\0';
	if (store.reject_delimiter && delim[0] && strcmp(delim, "/") != 0) {
		mock_reply(resp, 400, "<Error><Code>InvalidArgument</Code><Message>delimiter must "
			   "be /</Message></Error>");
		return;
	}
	marker = token[0] ? token : after;
	add(resp, "<?xml version=\"1.0\"?><ListBucketResult><EncodingType>url</EncodingType>");
	if (store.outside)
		add(resp, "<Contents><Key>elsewhere/x</Key><Size>1</Size></Contents>");
	for (size_t i = 0; i < store.n; i++) {
		const char *key = store.objects[i].key, *d;

		if (strncmp(key, prefix, strlen(prefix)) != 0 || (*marker && strcmp(key, marker) <= 0))
			continue;
		d = *delim ? strstr(key + strlen(prefix), delim) : NULL;
		if (d) {
			snprintf(common, sizeof(common), "%.*s", (int)(d - key + strlen(delim)), key);
			if (strcmp(common, last_common) == 0 || (*marker && strcmp(common, marker) <= 0))
				continue;
		}
		if (count == max_keys) {
			truncated = 1;
			break;
		}
		count++;
		if (d) {
			snprintf(last_common, sizeof(last_common), "%s", common);
			snprintf(last, sizeof(last), "%s", common);
			add(resp, "<CommonPrefixes><Prefix>");
			put_encoded(resp, common);
			add(resp, "</Prefix></CommonPrefixes>");
		} else {
			snprintf(last, sizeof(last), "%s", key);
			add(resp, "<Contents><Key>");
			put_encoded(resp, key);
			char md5[33];

			cr_assert_eq(rs_digest_md5_hex(md5, store.objects[i].content,
						       strlen(store.objects[i].content)), 0);
			resp->body_len += (size_t)snprintf(resp->body + resp->body_len,
							   sizeof(resp->body) - resp->body_len,
							   "</Key><Size>%zu</Size><LastModified>2024-01-0"
							   "2T03:04:05.678Z</LastModified><ETag>&quot;%s%s"
							   "&quot;</ETag></Contents>",
							   strlen(store.objects[i].content),
							   store.odd_etags ? "x-" : "", md5);
		}
	}
	if (truncated) {
		add(resp, "<IsTruncated>true</IsTruncated><NextContinuationToken>");
		put_encoded(resp, last);
		add(resp, "</NextContinuationToken>");
	} else {
		add(resp, "<IsTruncated>false</IsTruncated>");
	}
	add(resp, "</ListBucketResult>");
	cr_assert_lt(resp->body_len, sizeof(resp->body) - 1, "the mock's page is too small");
}

static void handler(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	(void)ud;
	if (store.unavailable > 0) {
		store.unavailable--;
		mock_reply(resp, 503, "<Error><Code>SlowDown</Code></Error>");
		return;
	}
	if (strcmp(req->url, "/bkt") == 0) {
		store.listings++;
		if (store.status) {
			mock_reply(resp, store.status, store.body);
			return;
		}
		list(req->query, resp);
		return;
	}
	store.gets++;
	for (size_t i = 0; i < store.n; i++) {
		if (strncmp(req->url, "/bkt/", 5) == 0 && strcmp(req->url + 5, store.objects[i].key) == 0) {
			mock_reply(resp, 200, store.objects[i].content);
			return;
		}
	}
	mock_reply(resp, 404, "<Error><Code>NoSuchKey</Code></Error>");
}

static void start(void)
{
	memset(&store, 0, sizeof(store));
	server = mock_start(handler, NULL);
	cr_assert_not_null(server);
	rs_secret_clear();
}

static void stop(void)
{
	mock_stop(server);
}

static int read_view(struct rs_storage_view **v, unsigned what, int max_keys)
{
	struct rs_http_options http = RS_HTTP_OPTIONS_INIT;
	struct rs_s3_config cfg;
	struct rs_storage *st = NULL;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = mock_url(server, "", 0);
	cfg.region = "us-east-1";
	cfg.bucket = "bkt";
	cfg.root = "/lab/";
	cfg.path_style = 1;
	cfg.access_key = "account:user";
	cfg.secret_key = "Secret-Key-1234";
	http.jobs = 3;
	http.retries = 3;
	http.backoff_base_ms = 10;
	cfg.http = &http;
	cfg.max_keys = max_keys;
	rc = rs_storage_open_s3(&st, &cfg);
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	cr_assert_str_eq(rs_storage_driver(st), "s3");
	rc = rs_storage_read(v, st, what);
	rs_storage_free(st);
	return rc;
}

#define ALL (RS_STORAGE_MANIFESTS | RS_STORAGE_TAG_LINKS | RS_STORAGE_BLOBS)

/* A view as text, to compare views. */
static char *dump(const struct rs_storage_view *v)
{
	struct rs_buf out = RS_BUF_INIT;

	for (size_t i = 0; i < v->nrepos; i++)
		rs_buf_printf(&out, "repo %s %u\n", v->repos[i].name, v->repos[i].incomplete);
	for (size_t i = 0; i < v->nmanifests; i++)
		rs_buf_printf(&out, "manifest %s %s %lld\n", v->manifests[i].repo, v->manifests[i].digest,
			      (long long)v->manifests[i].stored_at);
	for (size_t i = 0; i < v->ntags; i++)
		rs_buf_printf(&out, "tag %s %s %s %lld\n", v->tags[i].repo, v->tags[i].tag,
			      v->tags[i].digest, (long long)v->tags[i].pushed_at);
	rs_buf_printf(&out, "blobs %lld %lld problem %s\n", (long long)v->blobs,
		      (long long)v->bytes, v->problem ? v->problem : "-");
	return rs_buf_detach(&out);
}

/* Two repositories (one nested), history rolled up under each tag, blobs
 * under every first hex digit, and what is no blob. */
static const struct object bucket[] = {
	{V2 "blobs/sha256/00/" HEX("0") "/data", "12345"},
	{V2 "blobs/sha256/11/" HEX("1") "/data", "1"},
	{V2 "blobs/sha256/55/" HEX("5") "/data", "12"},
	{V2 "blobs/sha256/55/not-a-blob/data", "123"},
	{V2 "blobs/sha256/aa/" HEX("a") "/data", "1234567"},
	{V2 "blobs/sha256/ff/" HEX("f") "/data", "123"},
	{V2 "repositories/app/_layers/sha256/" HEX("1") "/link", "sha256:" HEX("1")},
	{V2 "repositories/app/_manifests/revisions/sha256/" HEX("1") "/link", "sha256:" HEX("1")},
	{V2 "repositories/app/_manifests/revisions/sha256/" HEX("9") "/link", "sha256:" HEX("9")},
	{V2 "repositories/app/_manifests/revisions/sha256/" HEX("b") "/link", "sha256:" HEX("b")},
	{V2 "repositories/app/_manifests/revisions/sha256/" HEX("e") "/link", "sha256:" HEX("e")},
	{V2 "repositories/app/_manifests/tags/latest/current/link", "sha256:" HEX("e")},
	{V2 "repositories/app/_manifests/tags/latest/index/sha256/" HEX("1") "/link", "sha256:" HEX("1")},
	{V2 "repositories/app/_manifests/tags/latest/index/sha256/" HEX("e") "/link", "sha256:" HEX("e")},
	{V2 "repositories/app/_manifests/tags/v1/current/link", "sha256:" HEX("9") "\n"},
	{V2 "repositories/app/_manifests/tags/v1/index/sha256/" HEX("9") "/link", "sha256:" HEX("9")},
	{V2 "repositories/app/_uploads/x/startedat", "2024"},
	{V2 "repositories/app/sub/_manifests/revisions/sha256/" HEX("c") "/link", "sha256:" HEX("c")},
	{V2 "repositories/app/sub/_manifests/tags/t/current/link", "sha256:" HEX("c")},
	{V2 "repositories/team/x/_manifests/revisions/sha256/" HEX("d") "/link", "sha256:" HEX("d")},
};

static void use(const struct object *objects, size_t n)
{
	store.objects = objects;
	store.n = n;
}

TestSuite(s3read, .init = start, .fini = stop);

Test(s3read, a_bucket_read_whole)
{
	struct rs_storage_view *v = NULL;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	cr_assert_eq(read_view(&v, ALL, 0), 0, "%s", rs_error_message());
	cr_assert_null(v->problem, "%s", v->problem);
	cr_assert_eq(v->nrepos, 3);
	cr_assert_str_eq(v->repos[0].name, "app");
	cr_assert_str_eq(v->repos[1].name, "app/sub");
	cr_assert_str_eq(v->repos[2].name, "team/x");
	cr_assert_eq(v->nmanifests, 6);
	cr_assert_eq(v->manifests[0].stored_at, 1704164645, "LastModified, to the second");
	cr_assert_eq(v->ntags, 3);
	cr_assert_str_eq(v->tags[0].tag, "latest");
	cr_assert_str_eq(v->tags[0].digest, "sha256:" HEX("e"));
	cr_assert_str_eq(v->tags[1].digest, "sha256:" HEX("9"), "a trailing newline is fine");
	cr_assert_eq(v->blobs, 5);
	cr_assert_eq(v->bytes, 5 + 1 + 2 + 7 + 3);
	cr_assert_eq(store.gets, 1, "a link whose ETag is the MD5 of a revision's digest is known "
		     "from the listing; the one with a newline is read");
	cr_assert_eq(v->requests, (uint64_t)(store.listings + store.gets));
	rs_storage_view_free(v);

	store.listings = store.gets = 0;
	cr_assert_eq(read_view(&v, RS_STORAGE_MANIFESTS | RS_STORAGE_BLOBS, 0), 0);
	cr_assert_eq(v->ntags, 0);
	cr_assert_eq(v->nmanifests, 6);
	cr_assert_eq(store.gets, 0);
	cr_assert_eq(store.listings, 5, "the repositories, one listing each, the blob store");
	rs_storage_view_free(v);
}

Test(s3read, links_the_listing_cannot_tell_are_read)
{
	static const struct object links[] = {
		{V2 "repositories/app/_manifests/revisions/sha256/" HEX("1") "/link", "sha256:" HEX("1")},
		{V2 "repositories/app/_manifests/tags/gone/current/link", "sha256:" HEX("2")},
		{V2 "repositories/app/_manifests/tags/v1/current/link", "sha256:" HEX("1")},
	};
	struct rs_storage_view *v = NULL;
	char *by_etag, *by_get;

	use(links, 3);
	cr_assert_eq(read_view(&v, ALL, 0), 0, "%s", rs_error_message());
	cr_assert_eq(store.gets, 1, "a digest no revision has is read");
	cr_assert_str_eq(v->tags[0].digest, "sha256:" HEX("2"));
	cr_assert_str_eq(v->tags[1].digest, "sha256:" HEX("1"));
	by_etag = dump(v);
	rs_storage_view_free(v);

	store.gets = 0;
	store.odd_etags = 1;
	cr_assert_eq(read_view(&v, ALL, 1), 0, "%s", rs_error_message());
	cr_assert_eq(store.gets, 2, "an ETag that is no MD5 tells nothing: every link is read");
	by_get = dump(v);
	cr_assert_str_eq(by_get, by_etag);
	free(by_etag);
	free(by_get);
	rs_storage_view_free(v);
}

Test(s3read, every_page_size_gives_the_same_view)
{
	struct rs_storage_view *v = NULL;
	char *whole, *paged;
	int whole_listings;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	cr_assert_eq(read_view(&v, ALL, 0), 0);
	whole = dump(v);
	whole_listings = store.listings;
	rs_storage_view_free(v);
	for (int max = 1; max <= 6; max++) {
		store.listings = 0;
		cr_assert_eq(read_view(&v, ALL, max), 0, "max-keys %d: %s", max, rs_error_message());
		paged = dump(v);
		cr_assert_str_eq(paged, whole, "max-keys %d", max);
		cr_assert_gt(store.listings, whole_listings, "max-keys %d paged", max);
		free(paged);
		rs_storage_view_free(v);
	}
	free(whole);
}

Test(s3read, a_store_that_ignores_the_delimiter_gives_the_same_view)
{
	struct rs_storage_view *v = NULL;
	char *honoured, *ignored;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	cr_assert_eq(read_view(&v, ALL, 3), 0);
	honoured = dump(v);
	rs_storage_view_free(v);
	store.ignore_delimiter = 1;
	cr_assert_eq(read_view(&v, ALL, 3), 0, "%s", rs_error_message());
	ignored = dump(v);
	cr_assert_str_eq(ignored, honoured);
	free(honoured);
	free(ignored);
	rs_storage_view_free(v);
}

Test(s3read, a_store_that_refuses_the_delimiter_is_asked_without)
{
	struct rs_storage_view *v = NULL;
	char *honoured, *refused;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	cr_assert_eq(read_view(&v, ALL, 4), 0);
	honoured = dump(v);
	rs_storage_view_free(v);
	store.reject_delimiter = 1;
	cr_assert_eq(read_view(&v, ALL, 4), 0, "%s", rs_error_message());
	refused = dump(v);
	cr_assert_str_eq(refused, honoured);
	free(honoured);
	free(refused);
	rs_storage_view_free(v);
}

Test(s3read, odd_and_broken_names_are_judged_as_on_disk)
{
	static const struct object odd[] = {
		{V2 "repositories/bad/_manifests/revisions/sha256/" HEX("a") "/link", "sha256:" HEX("a")},
		{V2 "repositories/bad/_manifests/tags/v 2\nx/current/link", "sha256:" HEX("a")},
		{V2 "repositories/bad/_manifests/tags/v1/current/link", "sha256:" HEX("a")},
		{V2 "repositories/bad/_manifests/tags/v2/index/sha256/" HEX("a") "/link", "sha256:x"},
		{V2 "repositories/good/_manifests/revisions/sha256/" HEX("a") "/link", "sha256:" HEX("a")},
		{V2 "repositories/good/_manifests/tags/v1/current/link", "sha256:" HEX("a")},
		{V2 "repositories/we\tird/x/_manifests/revisions/sha256/" HEX("a") "/link", "x"},
		{V2 "repositories/.trash/y/_manifests/revisions/sha256/" HEX("a") "/link", "x"},
	};
	struct rs_storage_view *v = NULL;

	use(odd, sizeof(odd) / sizeof(odd[0]));
	cr_assert_eq(read_view(&v, ALL, 0), 0, "%s", rs_error_message());
	cr_assert_eq(v->nrepos, 2, "a hidden directory is not entered, an odd name not reported");
	cr_assert_str_eq(v->repos[0].name, "bad");
	cr_assert(v->repos[0].incomplete);
	cr_assert(!v->repos[1].incomplete);
	cr_assert_eq(v->nproblems, 3, "%s", v->problem);
	rs_storage_view_free(v);
}

Test(s3read, empty_missing_and_foreign_roots)
{
	static const struct object foreign[] = {{"lab/something-else.txt", "x"}};
	struct rs_storage_view *v = (struct rs_storage_view *)1;

	use(NULL, 0);
	cr_assert_eq(read_view(&v, ALL, 0), 0, "an empty root: a registry that never had a push");
	cr_assert_eq(v->nrepos, 0);
	cr_assert_eq(v->blobs, 0);
	rs_storage_view_free(v);

	use(foreign, 1);
	cr_assert_eq(read_view(&v, ALL, 0), RS_ENOTFOUND);
	cr_assert_null(v);
	cr_assert(strstr(rs_error_message(), "is not a registry's storage root"), "%s",
		  rs_error_message());

	store.status = 404;
	store.body = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist."
		     "</Message></Error>";
	cr_assert_eq(read_view(&v, ALL, 0), RS_ENOTFOUND);
	cr_assert(strstr(rs_error_message(), "'s3://bkt/lab' on http://127.0.0.1:"), "%s",
		  rs_error_message());
	cr_assert(strstr(rs_error_message(), "does not exist"));
}

Test(s3read, refusals_say_what_to_check)
{
	struct rs_storage_view *v = (struct rs_storage_view *)1;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	store.status = 403;
	store.body = "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message>"
		     "<CanonicalRequest>Secret-Key-1234</CanonicalRequest></Error>";
	cr_assert_eq(read_view(&v, ALL, 0), RS_ERROR);
	cr_assert_null(v);
	cr_assert(strstr(rs_error_message(), "403 AccessDenied: Access Denied."), "%s",
		  rs_error_message());
	cr_assert(strstr(rs_error_message(), "s3:ListBucket"));
	cr_assert_null(strstr(rs_error_message(), "Secret-Key-1234"));

	store.status = 400;
	store.body = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
		     "'eu-west-9' is wrong; expecting 'us-east-1'</Message></Error>";
	cr_assert_eq(read_view(&v, ALL, 0), RS_ERROR);
	cr_assert(strstr(rs_error_message(), "--s3-region"), "%s", rs_error_message());

	store.status = 200;
	store.body = "<html>a captive portal</html>";
	cr_assert_eq(read_view(&v, ALL, 0), RS_EPROTO);
	cr_assert(strstr(rs_error_message(), "is not a ListBucketResult"), "%s", rs_error_message());
}

Test(s3read, a_busy_store_is_retried_and_counted)
{
	struct rs_storage_view *v = NULL;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	store.unavailable = 2;
	cr_assert_eq(read_view(&v, RS_STORAGE_BLOBS, 0), 0, "%s", rs_error_message());
	cr_assert_eq(v->blobs, 5);
	cr_assert_eq(v->requests, 3, "two 503s and the answer");
	rs_storage_view_free(v);
}

Test(s3read, a_key_outside_the_prefix_makes_every_repository_incomplete)
{
	struct rs_storage_view *v = NULL;

	use(bucket, sizeof(bucket) / sizeof(bucket[0]));
	store.outside = 1;
	cr_assert_eq(read_view(&v, ALL, 0), 0, "%s", rs_error_message());
	cr_assert_not_null(v->problem);
	cr_assert(strstr(v->problem, "outside the prefix"), "%s", v->problem);
	for (size_t i = 0; i < v->nrepos; i++)
		cr_assert(v->repos[i].incomplete);
	rs_storage_view_free(v);
}

/* ------------------------------------------------- from a registry config */

static int open_config(const char *yaml, const struct rs_storage_location *loc)
{
	struct rs_regconfig cfg;
	struct rs_storage *st = NULL;
	int rc = rs_regconfig_parse(&cfg, yaml, strlen(yaml), "config.yml");

	cr_assert_eq(rc, 0, "%s", rs_error_message());
	rc = rs_storage_open_s3_config(&st, &cfg, loc, "config.yml");
	rs_storage_free(st);
	rs_regconfig_release(&cfg);
	return rc;
}

Test(s3config, what_a_config_must_name)
{
	struct rs_storage_location loc = RS_STORAGE_LOCATION_INIT;

	cr_assert_eq(open_config("storage: {s3: {region: r, accesskey: a, secretkey: s}}", &loc),
		     RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "names no storage.s3.bucket"));
	cr_assert_eq(open_config("storage: {s3: {bucket: b, accesskey: a, secretkey: s}}", &loc),
		     RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "--s3-region"), "%s", rs_error_message());
	loc.s3_region = "eu-west-1";
	cr_assert_eq(open_config("storage: {s3: {bucket: b, accesskey: a, secretkey: s}}", &loc), 0,
		     "%s", rs_error_message());
	loc.s3_region = NULL;
	cr_assert_eq(open_config("storage: {s3: {bucket: b, accesskey: a, secretkey: s, "
				 "regionendpoint: 'http://127.0.0.1:1'}}", &loc), 0,
		     "beside an endpoint, a region is not needed: %s", rs_error_message());
	loc.s3_endpoint = "not a url";
	cr_assert_eq(open_config("storage: {s3: {bucket: b, region: r, accesskey: a, secretkey: s}}",
				 &loc), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "the S3 endpoint"), "%s", rs_error_message());
}
