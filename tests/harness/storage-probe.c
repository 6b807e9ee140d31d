/* storage-probe.c: a test program that reads a storage view through the
 * core and prints it whole, so that the integration tests can compare what
 * two backends make of the same content (a tree on disk, and the same tree
 * uploaded to a bucket) line by line.
 *
 * usage: storage_probe [--what LIST] [--times] [--max-keys N] WHERE
 *   WHERE: --root DIR               the filesystem driver's root, here
 *          --registry-config FILE   the registry's config (filesystem or s3)
 *          --s3 BUCKET ROOT         a bucket on the store in S3_ENDPOINT,
 *                                   S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY
 *   LIST: manifests,tags,links,blobs (default all)
 *
 * Prints, sorted: "repo NAME [incomplete]", "manifest REPO DIGEST [TIME]",
 * "tag REPO TAG DIGEST [TIME]" (times only with --times), "blobs N BYTES",
 * "problem MESSAGE" (the first) and "problems N"; the requests it took go
 * to stderr ("requests N"), with the core's log lines. Exit status 0 when
 * the view was read (partial or not), 1 when it could not be ("error
 * MESSAGE" on stdout), 2 on a usage error.
 */
#include "base/error.h"
#include "base/log.h"
#include "net/http.h"
#include "storage/s3.h"
#include "storage/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void to_stderr(enum rs_log_level level, const char *line, void *ud)
{
	(void)level;
	(void)ud;
	fprintf(stderr, "%s\n", line);
}

static int usage(void)
{
	fprintf(stderr, "usage: storage_probe [--what LIST] [--times] [--max-keys N] "
		"(--root DIR | --registry-config FILE | --s3 BUCKET ROOT)\n");
	return 2;
}

static unsigned parse_what(const char *list)
{
	unsigned what = 0;

	if (strstr(list, "manifests"))
		what |= RS_STORAGE_MANIFESTS;
	if (strstr(list, "tags"))
		what |= RS_STORAGE_TAGS;
	if (strstr(list, "links"))
		what |= RS_STORAGE_TAG_LINKS;
	if (strstr(list, "blobs"))
		what |= RS_STORAGE_BLOBS;
	return what;
}

static void print_view(const struct rs_storage_view *v, int times)
{
	for (size_t i = 0; i < v->nrepos; i++)
		printf("repo %s%s\n", v->repos[i].name, v->repos[i].incomplete ? " incomplete" : "");
	for (size_t i = 0; i < v->nmanifests; i++) {
		printf("manifest %s %s", v->manifests[i].repo, v->manifests[i].digest);
		if (times)
			printf(" %lld", (long long)v->manifests[i].stored_at);
		printf("\n");
	}
	for (size_t i = 0; i < v->ntags; i++) {
		printf("tag %s %s %s", v->tags[i].repo, v->tags[i].tag,
		       v->tags[i].digest[0] ? v->tags[i].digest : "-");
		if (times)
			printf(" %lld", (long long)v->tags[i].pushed_at);
		printf("\n");
	}
	if (v->blobs >= 0)
		printf("blobs %lld %lld\n", (long long)v->blobs, (long long)v->bytes);
	if (v->problem)
		printf("problem %s\n", v->problem);
	printf("problems %zu\n", v->nproblems);
}

int main(int argc, char **argv)
{
	struct rs_storage_location loc = RS_STORAGE_LOCATION_INIT;
	struct rs_http_options http = RS_HTTP_OPTIONS_INIT;
	struct rs_s3_config s3;
	struct rs_storage *st = NULL;
	struct rs_storage_view *view = NULL;
	unsigned what = RS_STORAGE_MANIFESTS | RS_STORAGE_TAG_LINKS | RS_STORAGE_BLOBS;
	const char *bucket = NULL, *root = NULL;
	int times = 0, max_keys = 0, rc;

	rs_log_set_handler(to_stderr, NULL);
	rs_log_set_level(RS_LOG_WARN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--what") == 0 && i + 1 < argc)
			what = parse_what(argv[++i]);
		else if (strcmp(argv[i], "--times") == 0)
			times = 1;
		else if (strcmp(argv[i], "-v") == 0)
			rs_log_set_level(RS_LOG_VERBOSE);
		else if (strcmp(argv[i], "--max-keys") == 0 && i + 1 < argc)
			max_keys = atoi(argv[++i]);
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			loc.root = argv[++i];
		else if (strcmp(argv[i], "--registry-config") == 0 && i + 1 < argc)
			loc.registry_config = argv[++i];
		else if (strcmp(argv[i], "--s3") == 0 && i + 2 < argc) {
			bucket = argv[++i];
			root = argv[++i];
		} else
			return usage();
	}
	loc.http = &http;
	if (bucket) {
		memset(&s3, 0, sizeof(s3));
		s3.endpoint = getenv("S3_ENDPOINT");
		s3.region = getenv("S3_REGION") ? getenv("S3_REGION") : "us-east-1";
		s3.bucket = bucket;
		s3.root = root;
		s3.path_style = 1;
		s3.access_key = getenv("S3_ACCESS_KEY");
		s3.secret_key = getenv("S3_SECRET_KEY");
		rs_secret_register(s3.secret_key);
		s3.http = &http;
		s3.max_keys = max_keys;
		rc = rs_storage_open_s3(&st, &s3);
	} else if (loc.root || loc.registry_config) {
		rc = rs_storage_open(&st, &loc);
	} else {
		return usage();
	}
	if (rc == 0)
		rc = rs_storage_read(&view, st, what);
	if (rc < 0) {
		printf("error %s\n", rs_error_message());
		rs_storage_free(st);
		return 1;
	}
	print_view(view, times);
	fprintf(stderr, "requests %llu\n", (unsigned long long)view->requests);
	rs_storage_view_free(view);
	rs_storage_free(st);
	return 0;
}
