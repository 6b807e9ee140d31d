/* fault-server.c: a registry that misbehaves on purpose, for the fault tests.
 *
 * It serves a tiny valid registry (repository "app": tag "v1", an image of
 * January 2024; tag "multi", a two-platform manifest list whose children are
 * v1's image and one of February; tag "old", an image of 2023 that a
 * keep-last-2 policy deletes; any other repository name the catalog
 * mentions serves the same; DELETE works) and breaks it the one way the
 * scenario names: garbage JSON, digests that lie, index loops, pagination
 * loops, bodies far larger than a manifest, error storms, a registry that
 * fails half of all requests (reads and writes), connection resets, stalls
 * (one that never resumes), redirects to another server, deletes that do
 * not happen. Only
 * faults a real registry will not produce belong here; the rest is tested
 * against docker-registry itself.
 *
 *   fault-server SCENARIO [--on catalog|tags|manifest|blob|all|delete] [--status N]
 *                [--fault-after N] [--recover-after K] [--retry-after VALUE]
 *                [--auth basic|bearer] [--fail-percent P] [--seed N]
 *                [--delete-anyway 0|1]
 *                [--stall-seconds N] [--lifetime N] [--log FILE]
 *   fault-server --list
 *
 * Two listeners on 127.0.0.1, ports chosen by the kernel: the registry, and
 * "another server" that redirects and links point to. Once both accept
 * connections it prints "PORT OTHER_PORT" and a newline on standard output
 * (which it closes only by exiting), and serves until SIGTERM or SIGINT or
 * --lifetime seconds. Each request is logged as one line: "main|other METHOD URL
 * auth=none|basic|bearer|bad"; the other server also logs every header it
 * receives ("other-header NAME: VALUE") so a test can prove that
 * credentials never reach it. A manifest really deleted is logged as
 * "deleted DIGEST", and a flaky failure as "flaky STATUS METHOD URL"
 * (with " (deleted anyway)" when a failed DELETE still happened).
 * Credentials come from the environment
 * (FAULT_SERVER_USER, FAULT_SERVER_PASSWORD, FAULT_SERVER_TOKEN).
 * Everything is bounded: connections, threads, stalls, body sizes, lifetime.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <microhttpd.h>
#include <openssl/evp.h>

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HUGE_BODY (64u * 1024 * 1024)     /* far past regsweep's 4 MiB cap */
#define MAX_CONNECTIONS 64
#define DEEP_NESTING 100000
#define DRIP_INTERVAL_MS 500
#define DRIP_MAX_BYTES 240                /* a drip ends after 2 minutes */

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"

enum fault {
	FT_OK, FT_CATALOG_TRUNCATED, FT_CATALOG_MALFORMED, FT_TAGS_TRUNCATED, FT_TAGS_MALFORMED,
	FT_MANIFEST_TRUNCATED, FT_MANIFEST_MALFORMED, FT_MANIFEST_EMPTY, FT_DEEP_JSON,
	FT_DIGEST_MISMATCH, FT_CHILD_MISMATCH, FT_INDEX_SELF, FT_INDEX_CYCLE,
	FT_CATALOG_LINK_LOOP, FT_TAGS_LINK_LOOP, FT_LINK_ENDLESS, FT_LINK_OTHER_HOST,
	FT_HUGE_MANIFEST, FT_HUGE_MANIFEST_CHUNKED, FT_HUGE_CATALOG, FT_GZIP_BOMB,
	FT_STORM, FT_RESET, FT_STALL, FT_STALL_HEADERS, FT_DRIP,
	FT_BLOB_REDIRECT, FT_MANIFEST_REDIRECT, FT_DELETE_LIE,
	FT_NOT_REGISTRY, FT_BAD_NAMES, FT_BAD_TAGS, FT_BAD_CHILD_DIGEST, FT_BAD_SIZE,
	FT_TOKEN_MALFORMED, FT_TOKEN_HUGE, FT_CHALLENGE_MALFORMED, FT_ALWAYS_401, FT_TAG_MOVES,
	FT_ECHO_AUTH, FT_FLAKY, FT_STALL_FOREVER
};

static const struct {
	const char *name;
	enum fault fault;
	const char *help;
} scenarios[] = {
	{"ok", FT_OK, "a well-behaved registry (the baseline)"},
	{"catalog-truncated", FT_CATALOG_TRUNCATED, "the catalog's JSON cut in half"},
	{"catalog-malformed", FT_CATALOG_MALFORMED, "the catalog is not JSON"},
	{"tags-truncated", FT_TAGS_TRUNCATED, "the tag list's JSON cut in half"},
	{"tags-malformed", FT_TAGS_MALFORMED, "the tag list is not JSON"},
	{"manifest-truncated", FT_MANIFEST_TRUNCATED, "a manifest cut in half (digest header matches)"},
	{"manifest-malformed", FT_MANIFEST_MALFORMED, "a manifest that is not JSON"},
	{"manifest-empty", FT_MANIFEST_EMPTY, "200 with an empty manifest body"},
	{"deep-json", FT_DEEP_JSON, "a manifest nested 100000 levels deep"},
	{"digest-mismatch", FT_DIGEST_MISMATCH, "Docker-Content-Digest is not the body's SHA-256"},
	{"child-mismatch", FT_CHILD_MISMATCH, "an index child served by digest with another body"},
	{"index-self", FT_INDEX_SELF, "an index that names itself as its own child"},
	{"index-cycle", FT_INDEX_CYCLE, "index A lists B, B lists A"},
	{"catalog-link-loop", FT_CATALOG_LINK_LOOP, "catalog page 2 links back to page 1"},
	{"tags-link-loop", FT_TAGS_LINK_LOOP, "tag list page 2 links back to page 1"},
	{"link-endless", FT_LINK_ENDLESS, "every catalog page links to a new page, same names"},
	{"link-other-host", FT_LINK_OTHER_HOST, "the catalog's next page is on another server"},
	{"huge-manifest", FT_HUGE_MANIFEST, "a 64 MiB manifest with Content-Length"},
	{"huge-manifest-chunked", FT_HUGE_MANIFEST_CHUNKED, "a 64 MiB manifest, chunked"},
	{"huge-catalog", FT_HUGE_CATALOG, "a 64 MiB catalog page"},
	{"gzip-bomb", FT_GZIP_BOMB, "a small gzip body that inflates to 64 MiB"},
	{"storm", FT_STORM, "--status answers (500/502/503/429) on --on requests"},
	{"reset", FT_RESET, "the connection closed mid-body"},
	{"stall", FT_STALL, "half a body, then nothing"},
	{"stall-forever", FT_STALL_FOREVER, "10 bytes of a body, then nothing, never resuming"},
	{"flaky", FT_FLAKY, "--status (503, Retry-After: 0, or --retry-after VALUE|none) to "
	 "--fail-percent (50) of all requests; half the failed DELETEs happen anyway"},
	{"stall-headers", FT_STALL_HEADERS, "the request accepted, then no answer at all"},
	{"drip", FT_DRIP, "a body one byte every half second"},
	{"blob-redirect", FT_BLOB_REDIRECT, "blobs redirect to another server"},
	{"manifest-redirect", FT_MANIFEST_REDIRECT, "manifests redirect to another server"},
	{"delete-lie", FT_DELETE_LIE, "DELETE answers 202 but the manifest stays"},
	{"not-registry", FT_NOT_REGISTRY, "/v2/ is 404: not a registry"},
	{"bad-names", FT_BAD_NAMES, "the catalog lists a path-traversal repository name"},
	{"bad-tags", FT_BAD_TAGS, "the tag list holds a path-traversal tag"},
	{"bad-child-digest", FT_BAD_CHILD_DIGEST, "an index child with a malformed digest"},
	{"bad-size", FT_BAD_SIZE, "a layer with a negative size"},
	{"token-malformed", FT_TOKEN_MALFORMED, "bearer auth; the token answer is cut JSON"},
	{"token-huge", FT_TOKEN_HUGE, "bearer auth; the token answer is 64 MiB"},
	{"challenge-malformed", FT_CHALLENGE_MALFORMED, "401 with an unterminated challenge"},
	{"always-401", FT_ALWAYS_401, "401 to every request, whatever the credentials"},
	{"tag-moves", FT_TAG_MOVES, "after its first read, tag 'old' points at a kept image"},
	{"echo-auth", FT_ECHO_AUTH, "manifest errors quote the Authorization header back"},
};

/* What a fault applies to (--on): "all" is every read; DELETE is asked for by name. */
enum target { T_NONE = 0, T_CATALOG = 1, T_TAGS = 2, T_MANIFEST = 4, T_BLOB = 8, T_ALL = 15,
	      T_DELETE = 16 };
enum auth_mode { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

/* A stored document: digest, media type, body. */
struct doc {
	char digest[72];
	const char *type;
	char *body;
	size_t len;
};

static struct {
	enum fault fault;
	unsigned target;
	unsigned status;
	long recover_after;           /* faulty answers before behaving; -1 never */
	long fault_after;             /* good answers before the faults begin */
	const char *retry_after;
	int fail_percent;             /* flaky: share of requests that fail */
	int delete_anyway;            /* storm --on delete: the DELETE happens, its answer is lost */
	unsigned seed;                /* flaky: the dice, for a run that can be replayed */
	enum auth_mode auth;
	int stall_seconds;
	int lifetime;
	FILE *log;
	unsigned short port, other_port;
	char basic_expected[512];     /* "Basic base64(user:pass)" */
	char bearer_expected[512];    /* "Bearer token" */
	const char *token;

	struct doc config_amd64, config_arm64, config_old, manifest_amd64, manifest_arm64;
	struct doc manifest_old, list;
	struct doc self_index, cycle_a, cycle_b, bad_child, bad_size;
	char layer_amd64[72], layer_arm64[72], layer_old[72];
	unsigned char *gzip_bomb;
	size_t gzip_bomb_len;

	pthread_mutex_t lock;         /* guards everything below */
	pthread_cond_t wake;
	int stopping;
	long faults_served;
	long targeted;                /* requests the fault could apply to */
	long old_reads;               /* tag-moves: reads of tag 'old' */
	long requests;
	unsigned rng;                 /* flaky */
	char deleted[16][72];         /* manifests really deleted (not in delete-lie) */
	int ndeleted;
} S = { .status = 503, .recover_after = -1, .stall_seconds = 120, .lifetime = 600,
	.fail_percent = 50,
	.lock = PTHREAD_MUTEX_INITIALIZER };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fault-server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void logf_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_line(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&S.lock);
	va_start(ap, fmt);
	vfprintf(S.log, fmt, ap);
	va_end(ap);
	fputc('\n', S.log);
	fflush(S.log);
	pthread_mutex_unlock(&S.lock);
}

/* ------------------------------------------------------------------ content */

static void sha256_hex(char out[72], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		die("sha256 failed");
	strcpy(out, "sha256:");
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

static void doc_set(struct doc *d, const char *type, char *body)
{
	d->type = type;
	d->body = body;
	d->len = strlen(body);
	sha256_hex(d->digest, d->body, d->len);
}

static void image(struct doc *config, struct doc *manifest, char *layer, const char *arch,
		  const char *created)
{
	sha256_hex(layer, arch, strlen(arch));
	doc_set(config, MT_DOCKER_CONFIG, xasprintf(
		"{\"architecture\":\"%s\",\"os\":\"linux\",\"created\":\"%s\","
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", arch, created, layer));
	doc_set(manifest, MT_DOCKER_MANIFEST, xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":%zu,\"digest\":\"%s\"},"
		"\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER "\",\"size\":1000,\"digest\":\"%s\"}]}",
		config->len, config->digest, layer));
}

/* A manifest list of one or two children (amd64, then arm64). */
static char *list_of(const char *digest_a, size_t size_a, const char *digest_b, size_t size_b)
{
	char *second = digest_b ? xasprintf(",{\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
		"\"size\":%zu,\"digest\":\"%s\",\"platform\":{\"architecture\":\"arm64\","
		"\"os\":\"linux\"}}", size_b, digest_b) : NULL;
	char *list = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\","
		"\"manifests\":[{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"size\":%zu,"
		"\"digest\":\"%s\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
		"%s]}", size_a, digest_a, second ? second : "");

	free(second);
	return list;
}

/* Bits for a hand-made deflate stream: LSB first, as RFC 1951 packs them. */
struct bitwriter {
	unsigned char *p;
	size_t len, cap;
	unsigned acc;
	int nbits;
};

static void bits_put(struct bitwriter *w, unsigned value, int n)
{
	for (int i = 0; i < n; i++) {
		w->acc |= ((value >> i) & 1u) << w->nbits;
		if (++w->nbits == 8) {
			if (w->len == w->cap)
				die("gzip buffer too small");
			w->p[w->len++] = (unsigned char)w->acc;
			w->acc = 0;
			w->nbits = 0;
		}
	}
}

/* Huffman codes are sent most significant bit first. */
static void code_put(struct bitwriter *w, unsigned code, int n)
{
	unsigned rev = 0;

	for (int i = 0; i < n; i++)
		rev |= ((code >> i) & 1u) << (n - 1 - i);
	bits_put(w, rev, n);
}

static uint32_t crc32_spaces(uint64_t count)
{
	uint32_t table[256], crc = 0xffffffffu;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	for (uint64_t i = 0; i < count; i++)
		crc = table[(crc ^ ' ') & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* A gzip member of one fixed-Huffman block: a space, then copies of
 * length 258 at distance 1: about 60 KiB that inflate to 64 MiB. */
static void make_gzip_bomb(void)
{
	const uint64_t copies = (HUGE_BODY - 1) / 258;
	const uint64_t total = 1 + copies * 258;
	struct bitwriter w = {0};
	static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	uint32_t crc, size;

	w.cap = 10 + (size_t)(copies * 13 / 8) + 64;
	w.p = malloc(w.cap);
	if (!w.p)
		die("out of memory");
	memcpy(w.p, header, sizeof(header));
	w.len = sizeof(header);
	bits_put(&w, 1, 1);               /* BFINAL */
	bits_put(&w, 1, 2);               /* BTYPE 01: fixed Huffman */
	code_put(&w, 0x30 + ' ', 8);      /* literal ' ' */
	for (uint64_t i = 0; i < copies; i++) {
		code_put(&w, 0xc0 + 5, 8);    /* length symbol 285: 258 */
		code_put(&w, 0, 5);           /* distance code 0: 1 */
	}
	code_put(&w, 0, 7);               /* end of block */
	if (w.nbits)
		bits_put(&w, 0, 8 - w.nbits);
	crc = crc32_spaces(total);
	size = (uint32_t)total;
	for (int i = 0; i < 4; i++)
		w.p[w.len++] = (unsigned char)(crc >> (8 * i));
	for (int i = 0; i < 4; i++)
		w.p[w.len++] = (unsigned char)(size >> (8 * i));
	S.gzip_bomb = w.p;
	S.gzip_bomb_len = w.len;
}

static void make_content(void)
{
	char fake[72];

	image(&S.config_amd64, &S.manifest_amd64, S.layer_amd64, "amd64", "2024-01-01T00:00:00Z");
	image(&S.config_arm64, &S.manifest_arm64, S.layer_arm64, "arm64", "2024-02-01T00:00:00Z");
	image(&S.config_old, &S.manifest_old, S.layer_old, "386", "2023-01-01T00:00:00Z");
	doc_set(&S.list, MT_DOCKER_LIST, list_of(S.manifest_amd64.digest, S.manifest_amd64.len,
						 S.manifest_arm64.digest, S.manifest_arm64.len));
	/* index-self: the list names a digest the server then claims for the list itself */
	sha256_hex(fake, "self", 4);
	doc_set(&S.self_index, MT_DOCKER_LIST, list_of(fake, 300, NULL, 0));
	/* index-cycle: A lists "B"; what is served as B lists A */
	sha256_hex(fake, "B", 1);
	doc_set(&S.cycle_a, MT_DOCKER_LIST, list_of(fake, 300, NULL, 0));
	doc_set(&S.cycle_b, MT_DOCKER_LIST, list_of(S.cycle_a.digest, S.cycle_a.len, NULL, 0));
	doc_set(&S.bad_child, MT_DOCKER_LIST,
		list_of("sha256:../../../../etc/passwd", 300, S.manifest_arm64.digest,
			S.manifest_arm64.len));
	doc_set(&S.bad_size, MT_DOCKER_MANIFEST, xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":%zu,\"digest\":\"%s\"},"
		"\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER "\",\"size\":-1,\"digest\":\"%s\"}]}",
		S.config_amd64.len, S.config_amd64.digest, S.layer_amd64));
	if (S.fault == FT_GZIP_BOMB)
		make_gzip_bomb();
}

/* ------------------------------------------------------------ time, stops */

/* Wait up to `ms` or until the server stops; returns 1 when stopping. */
static int wait_or_stop(long ms)
{
	struct timespec until;
	int stopping;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&S.lock);
	while (!S.stopping && pthread_cond_timedwait(&S.wake, &S.lock, &until) != ETIMEDOUT)
		;
	stopping = S.stopping;
	pthread_mutex_unlock(&S.lock);
	return stopping;
}

/* Should this request get the fault? --fault-after N lets the first N
 * requests through; --recover-after K ends the faults after K of them. */
static int take_fault(unsigned kind)
{
	int yes = 0;

	if (!(S.target & kind))
		return 0;
	pthread_mutex_lock(&S.lock);
	if (++S.targeted > S.fault_after &&
	    (S.recover_after < 0 || S.faults_served < S.recover_after)) {
		S.faults_served++;
		yes = 1;
	}
	pthread_mutex_unlock(&S.lock);
	return yes;
}

/* ------------------------------------------------------------- responses */

/* A body produced piece by piece: `head`, then `fill` bytes up to `total`,
 * with an action after `cut` bytes (reset, stall, or a slow drip). */
struct stream {
	char *head;
	size_t head_len;
	uint64_t total;
	uint64_t cut;
	char fill;
	enum { S_WHOLE, S_RESET, S_STALL, S_DRIP, S_STALL_FOREVER } action;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	size_t n = 0;

	if (pos >= st->total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (st->action == S_DRIP) {
		if (pos >= DRIP_MAX_BYTES || (pos > 0 && wait_or_stop(DRIP_INTERVAL_MS)))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		max = 1;
	} else if (pos >= st->cut) {
		if (st->action == S_STALL)
			wait_or_stop((long)S.stall_seconds * 1000);
		else if (st->action == S_STALL_FOREVER)   /* until the server stops */
			wait_or_stop((long)S.lifetime * 1000);
		return MHD_CONTENT_READER_END_WITH_ERROR;   /* closes the connection */
	}
	if (st->action != S_DRIP && st->cut - pos < max)
		max = (size_t)(st->cut - pos);
	if (st->total - pos < max)
		max = (size_t)(st->total - pos);
	while (n < max) {
		uint64_t at = pos + n;

		buf[n++] = at < st->head_len ? st->head[at] : st->fill;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	free(st->head);
	free(st);
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
	if (value && MHD_add_response_header(r, name, value) != MHD_YES)
		die("cannot add header %s", name);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	add_header(r, "Docker-Distribution-API-Version", "registry/2.0");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Response *buffer_response(const void *body, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								  MHD_RESPMEM_MUST_COPY);

	if (!r)
		die("cannot create a response");
	add_header(r, "Content-Type", type);
	return r;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
				 const char *body, size_t len, const char *digest)
{
	struct MHD_Response *r = buffer_response(body, len, type);

	add_header(r, "Docker-Content-Digest", digest);
	return queue(c, status, r);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}\n", code,
		 code);
	return send_text(c, status, "application/json", body, strlen(body), NULL);
}

/* Send `body` but break it the way the scenario says (reset, stall, drip). */
static enum MHD_Result send_stream(struct MHD_Connection *c, const char *type, const char *body,
				   size_t len, const char *digest, int action, int chunked)
{
	struct stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *r;

	if (!st || !(st->head = malloc(len ? len : 1)))
		die("out of memory");
	memcpy(st->head, body, len);
	st->head_len = len;
	st->total = len;
	st->cut = action == S_WHOLE ? len : action == S_STALL_FOREVER ? (len < 10 ? len : 10)
		: len / 2;
	st->fill = ' ';
	st->action = action;
	r = MHD_create_response_from_callback(chunked ? MHD_SIZE_UNKNOWN : st->total, 4096,
					      stream_read, st, stream_free);
	if (!r)
		die("cannot create a response");
	add_header(r, "Content-Type", type);
	add_header(r, "Docker-Content-Digest", digest);
	return queue(c, 200, r);
}

/* A 64 MiB body: `head`, then spaces. */
static enum MHD_Result send_huge(struct MHD_Connection *c, const char *type, const char *head,
				 int chunked)
{
	struct stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *r;

	if (!st || !(st->head = strdup(head)))
		die("out of memory");
	st->head_len = strlen(head);
	st->total = HUGE_BODY;
	st->cut = HUGE_BODY;
	st->fill = ' ';
	st->action = S_WHOLE;
	r = MHD_create_response_from_callback(chunked ? MHD_SIZE_UNKNOWN : st->total, 64 * 1024,
					      stream_read, st, stream_free);
	if (!r)
		die("cannot create a response");
	add_header(r, "Content-Type", type);
	return queue(c, 200, r);
}

static enum MHD_Result send_redirect(struct MHD_Connection *c, const char *path)
{
	char location[512];
	struct MHD_Response *r = buffer_response("", 0, "text/plain");

	snprintf(location, sizeof(location), "http://127.0.0.1:%u%s", S.other_port, path);
	add_header(r, "Location", location);
	return queue(c, 307, r);
}

/* A storm answer: --status, with --retry-after when given. */
static enum MHD_Result send_storm(struct MHD_Connection *c)
{
	static const char body[] = "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"storm\"}]}";
	struct MHD_Response *r = buffer_response(body, sizeof(body) - 1, "application/json");

	add_header(r, "Retry-After", S.retry_after);
	return queue(c, S.status, r);
}

/* The fault that applies to every kind of answer, if any; 0 if none. */
static int generic_fault(unsigned kind, int *action)
{
	switch (S.fault) {
	case FT_RESET:
		*action = S_RESET;
		return take_fault(kind);
	case FT_STALL:
		*action = S_STALL;
		return take_fault(kind);
	case FT_DRIP:
		*action = S_DRIP;
		return take_fault(kind);
	case FT_STALL_FOREVER:
		*action = S_STALL_FOREVER;
		return take_fault(kind);
	default:
		return 0;
	}
}

/* Send a document, letting reset/stall/drip scenarios break it. */
static enum MHD_Result send_doc(struct MHD_Connection *c, unsigned kind, const char *type,
				const char *body, size_t len, const char *digest)
{
	int action = S_WHOLE;

	if (generic_fault(kind, &action))
		return send_stream(c, type, body, len, digest, action, 0);
	return send_text(c, 200, type, body, len, digest);
}

/* ---------------------------------------------------------------- routes */

static int is_deleted(const char *digest)
{
	int yes = 0;

	pthread_mutex_lock(&S.lock);
	for (int i = 0; i < S.ndeleted && !yes; i++)
		yes = strcmp(S.deleted[i], digest) == 0;
	pthread_mutex_unlock(&S.lock);
	return yes;
}

/* The tags and what they point at. */
static const struct doc *tag_target(const char *tag)
{
	if (strcmp(tag, "v1") == 0)
		return &S.manifest_amd64;
	if (strcmp(tag, "multi") == 0)
		return &S.list;
	if (strcmp(tag, "old") == 0)
		return &S.manifest_old;
	return NULL;
}

/* A manifest by tag or digest, unless it was deleted. */
static const struct doc *find_doc(const char *ref)
{
	const struct doc *all[] = {&S.manifest_amd64, &S.manifest_arm64, &S.list, &S.manifest_old};
	const struct doc *d = tag_target(ref);

	for (size_t i = 0; !d && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(ref, all[i]->digest) == 0)
			d = all[i];
	return d && !is_deleted(d->digest) ? d : NULL;
}

/* The tag list: a DELETE of a manifest removes the tags pointing at it. */
static void tag_list(char *out, size_t outsize, const char *name)
{
	static const char *const tags[] = {"v1", "multi", "old"};
	size_t n = (size_t)snprintf(out, outsize, "{\"name\":\"%s\",\"tags\":[", name);
	int first = 1;

	for (size_t i = 0; i < 3 && n < outsize; i++) {
		if (!find_doc(tags[i]))
			continue;
		n += (size_t)snprintf(out + n, outsize - n, "%s\"%s\"", first ? "" : ",", tags[i]);
		first = 0;
	}
	if (n < outsize)
		snprintf(out + n, outsize - n, "]}");
}

static const struct doc *find_config(const char *digest)
{
	const struct doc *configs[] = {&S.config_amd64, &S.config_arm64, &S.config_old};

	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		if (strcmp(digest, configs[i]->digest) == 0)
			return configs[i];
	return NULL;
}

static enum MHD_Result route_catalog(struct MHD_Connection *c)
{
	const char *last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last");
	const char *page1 = "{\"repositories\":[\"app\"]}";
	char link[512], body[256];

	switch (S.fault) {
	case FT_CATALOG_TRUNCATED:
		return send_text(c, 200, "application/json", page1, strlen(page1) / 2, NULL);
	case FT_CATALOG_MALFORMED:
		return send_text(c, 200, "application/json", "{\"repositories\":[app]}", 22, NULL);
	case FT_HUGE_CATALOG:
		return send_huge(c, "application/json", "{\"repositories\":[\"app\"]", 0);
	case FT_BAD_NAMES: {
		static const char bad[] = "{\"repositories\":[\"app\",\"../../../etc/passwd\"]}";

		return send_text(c, 200, "application/json", bad, sizeof(bad) - 1, NULL);
	}
	case FT_CATALOG_LINK_LOOP:
	case FT_LINK_OTHER_HOST:
	case FT_LINK_ENDLESS: {
		struct MHD_Response *r;
		long n = last ? strtol(last + (last[0] == 'p'), NULL, 10) : 0;

		if (S.fault == FT_LINK_OTHER_HOST)
			snprintf(link, sizeof(link), "<http://127.0.0.1:%u/v2/_catalog?last=app&n=1000>; "
				 "rel=\"next\"", S.other_port);
		else if (S.fault == FT_LINK_ENDLESS)
			snprintf(link, sizeof(link), "</v2/_catalog?last=p%ld&n=1000>; rel=\"next\"",
				 n + 1);
		else if (!last)
			snprintf(link, sizeof(link), "</v2/_catalog?last=app&n=1000>; rel=\"next\"");
		else    /* page 2 points back at page 1 */
			snprintf(link, sizeof(link), "</v2/_catalog?n=1000>; rel=\"next\"");
		snprintf(body, sizeof(body), "{\"repositories\":[\"%s\"]}",
			 S.fault == FT_CATALOG_LINK_LOOP && last ? "other" : "app");
		r = buffer_response(body, strlen(body), "application/json");
		add_header(r, "Link", link);
		return queue(c, 200, r);
	}
	default:
		break;
	}
	if (S.fault == FT_STORM && take_fault(T_CATALOG))
		return send_storm(c);
	return send_doc(c, T_CATALOG, "application/json", page1, strlen(page1), NULL);
}

static enum MHD_Result route_tags(struct MHD_Connection *c, const char *name)
{
	const char *last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last");
	char body[512];
	size_t len;

	tag_list(body, sizeof(body), name);
	len = strlen(body);
	switch (S.fault) {
	case FT_TAGS_TRUNCATED:
		return send_text(c, 200, "application/json", body, len / 2, NULL);
	case FT_TAGS_MALFORMED:
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tags\":[\"v1\" \"multi\"}", name);
		return send_text(c, 200, "application/json", body, strlen(body), NULL);
	case FT_BAD_TAGS:
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tags\":[\"v1\",\"../../x\"]}", name);
		return send_text(c, 200, "application/json", body, strlen(body), NULL);
	case FT_TAGS_LINK_LOOP: {
		struct MHD_Response *r;
		char link[512];

		if (!last) {
			snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tags\":[\"v1\"]}", name);
			snprintf(link, sizeof(link), "</v2/%s/tags/list?last=v1&n=1000>; rel=\"next\"",
				 name);
		} else {
			snprintf(body, sizeof(body), "{\"name\":\"%s\",\"tags\":[\"multi\"]}", name);
			snprintf(link, sizeof(link), "</v2/%s/tags/list?n=1000>; rel=\"next\"", name);
		}
		r = buffer_response(body, strlen(body), "application/json");
		add_header(r, "Link", link);
		return queue(c, 200, r);
	}
	default:
		break;
	}
	if (S.fault == FT_STORM && take_fault(T_TAGS))
		return send_storm(c);
	return send_doc(c, T_TAGS, "application/json", body, len, NULL);
}

/* DELETE a manifest by digest: 202, 400 (not a digest) or 404. */
static unsigned delete_manifest(const char *ref)
{
	const struct doc *d = find_doc(ref);

	if (strncmp(ref, "sha256:", 7) != 0)
		return 400;
	if (!d)
		return 404;
	if (S.fault != FT_DELETE_LIE) {   /* the liar answers 202 and keeps it */
		pthread_mutex_lock(&S.lock);
		if (S.ndeleted < 16)
			strcpy(S.deleted[S.ndeleted++], d->digest);
		pthread_mutex_unlock(&S.lock);
		logf_line("deleted %s", d->digest);
	}
	return 202;
}

/* flaky: does this request fail? Then answer --status with Retry-After
 * (--retry-after, "0" by default); a failed DELETE happens anyway half the
 * time, as behind a proxy that gave up waiting for the registry. */
static int flaky(struct MHD_Connection *c, const char *url, const char *method,
		 enum MHD_Result *ret)
{
	static const char body[] = "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"flaky\"}]}";
	struct MHD_Response *r;
	int fail, apply_anyway;
	const char *ref = strstr(url, "/manifests/");

	pthread_mutex_lock(&S.lock);
	fail = (int)(rand_r(&S.rng) % 100) < S.fail_percent;
	apply_anyway = rand_r(&S.rng) % 2;
	pthread_mutex_unlock(&S.lock);
	if (!fail)
		return 0;
	apply_anyway = apply_anyway && strcmp(method, "DELETE") == 0 && ref &&
		       delete_manifest(ref + 11) == 202;
	logf_line("flaky %u %s %s%s", S.status, method, url, apply_anyway ? " (deleted anyway)" : "");
	r = buffer_response(body, sizeof(body) - 1, "application/json");
	if (!S.retry_after || strcmp(S.retry_after, "none") != 0)   /* "none": no header */
		add_header(r, "Retry-After", S.retry_after ? S.retry_after : "0");
	*ret = queue(c, S.status, r);
	return 1;
}

static enum MHD_Result route_manifest(struct MHD_Connection *c, const char *method,
				      const char *ref)
{
	const struct doc *d = find_doc(ref);
	int is_tag_v1 = strcmp(ref, "v1") == 0, is_tag_multi = strcmp(ref, "multi") == 0;
	char digest[72];

	if (S.fault == FT_ECHO_AUTH) {
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		char body[1024];

		snprintf(body, sizeof(body), "{\"errors\":[{\"code\":\"DENIED\",\"message\":"
			 "\"refused the credentials '%.700s'\"}]}", auth ? auth : "");
		return send_text(c, 400, "application/json", body, strlen(body), NULL);
	}
	if (strcmp(method, "DELETE") == 0) {
		unsigned status;

		if (S.fault == FT_STORM && take_fault(T_DELETE)) {
			if (S.delete_anyway && delete_manifest(ref) == 202)
				logf_line("storm: the delete of %s happened, its answer is lost", ref);
			return send_storm(c);
		}
		status = delete_manifest(ref);
		if (status == 400)
			return send_error(c, 400, "DIGEST_INVALID");
		if (status == 404)
			return send_error(c, 404, "MANIFEST_UNKNOWN");
		return send_text(c, 202, "text/plain", "", 0, NULL);
	}
	switch (S.fault) {
	case FT_MANIFEST_TRUNCATED:
		if (!is_tag_v1)
			break;
		sha256_hex(digest, d->body, d->len / 2);
		return send_text(c, 200, d->type, d->body, d->len / 2, digest);
	case FT_MANIFEST_MALFORMED: {
		static const char bad[] = "{\"schemaVersion\":2,\"config\":{\"digest\":]]}";

		if (!is_tag_v1)
			break;
		sha256_hex(digest, bad, sizeof(bad) - 1);
		return send_text(c, 200, MT_DOCKER_MANIFEST, bad, sizeof(bad) - 1, digest);
	}
	case FT_MANIFEST_EMPTY:
		if (!is_tag_v1)
			break;
		return send_text(c, 200, MT_DOCKER_MANIFEST, "", 0, NULL);
	case FT_DEEP_JSON: {
		char *deep;
		enum MHD_Result ret;

		if (!is_tag_v1)
			break;
		if (!(deep = malloc(2 * DEEP_NESTING)))
			die("out of memory");
		memset(deep, '[', DEEP_NESTING);
		memset(deep + DEEP_NESTING, ']', DEEP_NESTING);
		sha256_hex(digest, deep, 2 * DEEP_NESTING);
		ret = send_text(c, 200, MT_DOCKER_MANIFEST, deep, 2 * DEEP_NESTING, digest);
		free(deep);
		return ret;
	}
	case FT_DIGEST_MISMATCH:
		if (!is_tag_v1)
			break;
		return send_text(c, 200, d->type, d->body, d->len, S.manifest_arm64.digest);
	case FT_CHILD_MISMATCH:   /* arm64 is only ever read as a child, by digest */
		if (strcmp(ref, S.manifest_arm64.digest) != 0)
			break;
		return send_text(c, 200, MT_DOCKER_MANIFEST, S.manifest_amd64.body,
				 S.manifest_amd64.len, ref);
	case FT_INDEX_SELF:
		if (is_tag_multi || strncmp(ref, "sha256:", 7) == 0)
			/* whatever is asked for, the same index, claimed to be it */
			return send_text(c, 200, MT_DOCKER_LIST, S.self_index.body, S.self_index.len,
					 is_tag_multi ? S.self_index.digest : ref);
		break;
	case FT_INDEX_CYCLE:
		if (is_tag_multi || strcmp(ref, S.cycle_a.digest) == 0)
			return send_text(c, 200, MT_DOCKER_LIST, S.cycle_a.body, S.cycle_a.len,
					 S.cycle_a.digest);
		if (strncmp(ref, "sha256:", 7) == 0)   /* "B", served without a digest header */
			return send_text(c, 200, MT_DOCKER_LIST, S.cycle_b.body, S.cycle_b.len, NULL);
		break;
	case FT_TAG_MOVES: {
		long reads;

		if (strcmp(ref, "old") != 0)
			break;
		pthread_mutex_lock(&S.lock);
		reads = ++S.old_reads;
		pthread_mutex_unlock(&S.lock);
		if (reads > 1)   /* the tag now names an image the index keeps */
			d = find_doc(S.manifest_arm64.digest);
		break;
	}
	case FT_BAD_CHILD_DIGEST:
		if (!is_tag_multi)
			break;
		return send_text(c, 200, MT_DOCKER_LIST, S.bad_child.body, S.bad_child.len,
				 S.bad_child.digest);
	case FT_BAD_SIZE:
		if (!is_tag_v1)
			break;
		return send_text(c, 200, MT_DOCKER_MANIFEST, S.bad_size.body, S.bad_size.len,
				 S.bad_size.digest);
	case FT_HUGE_MANIFEST:
	case FT_HUGE_MANIFEST_CHUNKED:
		if (!is_tag_v1)
			break;
		return send_huge(c, MT_DOCKER_MANIFEST, "{\"schemaVersion\":2,",
				 S.fault == FT_HUGE_MANIFEST_CHUNKED);
	case FT_GZIP_BOMB: {
		struct MHD_Response *r;

		if (!is_tag_v1)
			break;
		r = buffer_response(S.gzip_bomb, S.gzip_bomb_len, MT_DOCKER_MANIFEST);
		add_header(r, "Content-Encoding", "gzip");
		return queue(c, 200, r);
	}
	case FT_MANIFEST_REDIRECT: {
		char path[256];

		snprintf(path, sizeof(path), "/v2/app/manifests/%s", ref);
		return send_redirect(c, path);
	}
	case FT_STORM:
		if (take_fault(T_MANIFEST))
			return send_storm(c);
		break;
	default:
		break;
	}
	if (!d)
		return send_error(c, 404, "MANIFEST_UNKNOWN");
	return send_doc(c, T_MANIFEST, d->type, d->body, d->len, d->digest);
}

static enum MHD_Result route_blob(struct MHD_Connection *c, const char *digest)
{
	const struct doc *config = find_config(digest);

	if (!config)
		return send_error(c, 404, "BLOB_UNKNOWN");
	if (S.fault == FT_BLOB_REDIRECT) {
		char path[256];

		snprintf(path, sizeof(path), "/blobs/%s", digest);
		return send_redirect(c, path);
	}
	if (S.fault == FT_STORM && take_fault(T_BLOB))
		return send_storm(c);
	return send_doc(c, T_BLOB, "application/octet-stream", config->body, config->len, digest);
}

static enum MHD_Result route_token(struct MHD_Connection *c)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	char *body;
	enum MHD_Result ret;

	if (!auth || strcmp(auth, S.basic_expected) != 0)
		return send_error(c, 401, "UNAUTHORIZED");
	if (S.fault == FT_TOKEN_MALFORMED)
		return send_text(c, 200, "application/json", "{\"token\": \"abc", 14, NULL);
	if (S.fault == FT_TOKEN_HUGE)
		return send_huge(c, "application/json", "{\"token\":\"", 0);
	body = xasprintf("{\"token\":\"%s\",\"expires_in\":300}", S.token);
	ret = send_text(c, 200, "application/json", body, strlen(body), NULL);
	free(body);
	return ret;
}

/* Is the request authorised? If not, queue the 401 and return 0. */
static int authorised(struct MHD_Connection *c, const char *auth, enum MHD_Result *ret)
{
	struct MHD_Response *r;
	char challenge[512];

	if (S.fault == FT_ALWAYS_401)
		auth = NULL;
	if (S.auth == AUTH_NONE && S.fault != FT_ALWAYS_401)
		return 1;
	if (S.auth == AUTH_BASIC && auth && strcmp(auth, S.basic_expected) == 0)
		return 1;
	if (S.auth == AUTH_BEARER && auth && strcmp(auth, S.bearer_expected) == 0)
		return 1;
	if (S.fault == FT_CHALLENGE_MALFORMED)
		snprintf(challenge, sizeof(challenge), "Bearer realm=\"http://127.0.0.1:%u/token",
			 S.port);
	else if (S.auth == AUTH_BEARER)
		snprintf(challenge, sizeof(challenge),
			 "Bearer realm=\"http://127.0.0.1:%u/token\",service=\"fault\"", S.port);
	else
		snprintf(challenge, sizeof(challenge), "Basic realm=\"fault\"");
	r = buffer_response("{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}", 35, "application/json");
	add_header(r, "WWW-Authenticate", challenge);
	*ret = queue(c, 401, r);
	return 0;
}

static const char *auth_kind(const char *auth)
{
	if (!auth)
		return "none";
	if (strcmp(auth, S.basic_expected) == 0)
		return "basic";
	if (strcmp(auth, S.bearer_expected) == 0)
		return "bearer";
	return "bad";
}

/* The URL with its query string, for the log. */
struct url_buf {
	char text[1024];
	size_t len;
	int args;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct url_buf *u = cls;
	int n;

	(void)kind;
	n = snprintf(u->text + u->len, sizeof(u->text) - u->len, "%c%s=%s", u->args++ ? '&' : '?',
		     key, value ? value : "");
	if (n > 0 && (size_t)n < sizeof(u->text) - u->len)
		u->len += (size_t)n;
	return MHD_YES;
}

static void url_with_query(struct url_buf *u, struct MHD_Connection *c, const char *url)
{
	u->args = 0;
	snprintf(u->text, sizeof(u->text), "%s", url);
	u->len = strlen(u->text);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, u);
}

/* Which kind of request a path is, for --on. */
static unsigned request_kind(const char *url)
{
	if (strcmp(url, "/v2/_catalog") == 0)
		return T_CATALOG;
	if (strncmp(url, "/v2/", 4) != 0)
		return T_NONE;
	if (strstr(url + 4, "/tags/list"))
		return T_TAGS;
	if (strstr(url + 4, "/manifests/"))
		return T_MANIFEST;
	if (strstr(url + 4, "/blobs/"))
		return T_BLOB;
	return T_NONE;
}

static enum MHD_Result handle_main(struct MHD_Connection *c, const char *url, const char *method)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	struct url_buf u;
	enum MHD_Result ret;
	const char *p;
	char name[256];
	long n;

	url_with_query(&u, c, url);
	pthread_mutex_lock(&S.lock);
	n = ++S.requests;
	pthread_mutex_unlock(&S.lock);
	logf_line("main %s %s auth=%s", method, u.text, auth_kind(auth));
	(void)n;
	if (S.fault == FT_FLAKY && flaky(c, url, method, &ret))
		return ret;
	if (strcmp(url, "/token") == 0)
		return route_token(c);
	if (!authorised(c, auth, &ret))
		return ret;
	if (S.fault == FT_STALL_HEADERS && take_fault(request_kind(url))) {
		wait_or_stop((long)S.stall_seconds * 1000);
		return MHD_NO;   /* drop the connection without an answer */
	}
	if (strcmp(url, "/v2/") == 0 || strcmp(url, "/v2") == 0) {
		if (S.fault == FT_NOT_REGISTRY)
			return send_text(c, 404, "text/html", "<h1>not found</h1>", 18, NULL);
		return send_text(c, 200, "application/json", "{}", 2, NULL);
	}
	if (strcmp(url, "/v2/_catalog") == 0)
		return route_catalog(c);
	if (strncmp(url, "/v2/", 4) != 0)
		return send_error(c, 404, "NOT_FOUND");
	if ((p = strstr(url + 4, "/tags/list")) && p[10] == '\0' && (size_t)(p - url - 4) < sizeof(name)) {
		snprintf(name, sizeof(name), "%.*s", (int)(p - url - 4), url + 4);
		return route_tags(c, name);
	}
	if ((p = strstr(url + 4, "/manifests/")))
		return route_manifest(c, method, p + 11);
	if ((p = strstr(url + 4, "/blobs/")))
		return route_blob(c, p + 7);
	return send_error(c, 404, "NOT_FOUND");
}

static enum MHD_Result log_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	(void)cls;
	(void)kind;
	logf_line("other-header %s: %s", key, value ? value : "");
	return MHD_YES;
}

/* "Another server": whatever it is sent is recorded, headers included. */
static enum MHD_Result handle_other(struct MHD_Connection *c, const char *url, const char *method)
{
	const struct doc *config = strncmp(url, "/blobs/", 7) == 0 ? find_config(url + 7) : NULL;
	struct url_buf u;

	url_with_query(&u, c, url);
	logf_line("other %s %s", method, u.text);
	MHD_get_connection_values(c, MHD_HEADER_KIND, log_header, NULL);
	if (config)
		return send_text(c, 200, "application/octet-stream", config->body, config->len, NULL);
	if (strncmp(url, "/v2/app/manifests/", 18) == 0) {
		const struct doc *d = find_doc(url + 18);

		if (d)
			return send_text(c, 200, d->type, d->body, d->len, d->digest);
	}
	if (strcmp(url, "/v2/_catalog") == 0)
		return send_text(c, 200, "application/json", "{\"repositories\":[\"stolen\"]}", 28,
				 NULL);
	return send_error(c, 404, "NOT_FOUND");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **state)
{
	static int started;

	(void)version;
	(void)upload_data;
	if (!*state) {       /* headers are in; the body (if any) follows */
		*state = &started;
		return MHD_YES;
	}
	if (*upload_data_size) {   /* bodies are read and ignored */
		*upload_data_size = 0;
		return MHD_YES;
	}
	return cls ? handle_other(c, url, method) : handle_main(c, url, method);
}

/* ------------------------------------------------------------------- main */

static struct MHD_Daemon *listen_on(unsigned short *port, int other)
{
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = 0;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, other ? (void *)1 : NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			     MHD_OPTION_END);
	if (!d)
		die("cannot listen on 127.0.0.1");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		die("cannot learn the port");
	*port = info->port;
	return d;
}

static void base64(char *out, size_t outsize, const char *in)
{
	size_t len = strlen(in);

	if (4 * ((len + 2) / 3) + 1 > outsize)
		die("credentials too long");
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: fault-server SCENARIO [--on catalog|tags|manifest|blob|all|delete] "
		"[--status N]\n       [--fault-after N] [--recover-after K] [--retry-after VALUE]\n       "
		"[--auth basic|bearer] [--fail-percent P] [--seed N] [--delete-anyway 0|1]\n       [--stall-seconds N] [--lifetime N] [--log FILE]\n"
		"       fault-server --list\n");
}

static long number(const char *opt, const char *text, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		die("%s: '%s' is not a number from %ld to %ld", opt, text, min, max);
	return v;
}

static void parse_args(int argc, char **argv)
{
	size_t i;
	const char *log_path = NULL;

	if (argc < 2) {
		usage(stderr);
		exit(2);
	}
	if (strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			printf("%-22s %s\n", scenarios[i].name, scenarios[i].help);
		exit(0);
	}
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			break;
	if (i == sizeof(scenarios) / sizeof(scenarios[0]))
		die("unknown scenario '%s' (see --list)", argv[1]);
	S.fault = scenarios[i].fault;
	S.target = T_MANIFEST;
	for (int a = 2; a < argc; a++) {
		const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (!val)
			die("%s needs a value", opt);
		a++;
		if (strcmp(opt, "--on") == 0) {
			S.target = strcmp(val, "catalog") == 0 ? T_CATALOG
				 : strcmp(val, "tags") == 0 ? T_TAGS
				 : strcmp(val, "manifest") == 0 ? T_MANIFEST
				 : strcmp(val, "blob") == 0 ? T_BLOB
				 : strcmp(val, "all") == 0 ? T_ALL
				 : strcmp(val, "delete") == 0 ? T_DELETE : T_NONE;
			if (S.target == T_NONE)
				die("--on: unknown target '%s'", val);
		} else if (strcmp(opt, "--status") == 0) {
			S.status = (unsigned)number(opt, val, 100, 599);
		} else if (strcmp(opt, "--recover-after") == 0) {
			S.recover_after = number(opt, val, 0, 1000000);
		} else if (strcmp(opt, "--fault-after") == 0) {
			S.fault_after = number(opt, val, 0, 1000000);
		} else if (strcmp(opt, "--delete-anyway") == 0) {
			S.delete_anyway = (int)number(opt, val, 0, 1);
		} else if (strcmp(opt, "--fail-percent") == 0) {
			S.fail_percent = (int)number(opt, val, 0, 100);
		} else if (strcmp(opt, "--seed") == 0) {
			S.seed = (unsigned)number(opt, val, 1, 2147483647L);
		} else if (strcmp(opt, "--retry-after") == 0) {
			S.retry_after = val;
		} else if (strcmp(opt, "--auth") == 0) {
			S.auth = strcmp(val, "basic") == 0 ? AUTH_BASIC
			       : strcmp(val, "bearer") == 0 ? AUTH_BEARER
			       : strcmp(val, "none") == 0 ? AUTH_NONE : (enum auth_mode)-1;
			if ((int)S.auth < 0)
				die("--auth: unknown mode '%s'", val);
		} else if (strcmp(opt, "--stall-seconds") == 0) {
			S.stall_seconds = (int)number(opt, val, 0, 3600);
		} else if (strcmp(opt, "--lifetime") == 0) {
			S.lifetime = (int)number(opt, val, 1, 86400);
		} else if (strcmp(opt, "--log") == 0) {
			log_path = val;
		} else {
			usage(stderr);
			die("unknown option '%s'", opt);
		}
	}
	if ((S.fault == FT_TOKEN_MALFORMED || S.fault == FT_TOKEN_HUGE ||
	     S.fault == FT_CHALLENGE_MALFORMED) && S.auth == AUTH_NONE)
		S.auth = AUTH_BEARER;
	S.log = stderr;
	if (log_path && !(S.log = fopen(log_path, "a")))
		die("cannot open '%s': %s", log_path, strerror(errno));
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *main_d, *other_d;
	pthread_condattr_t attr;
	struct timespec deadline, now;
	sigset_t stop_signals;
	char userpass[512];

	parse_args(argc, argv);
	snprintf(userpass, sizeof(userpass), "%s:%s", env_or("FAULT_SERVER_USER", "fault"),
		 env_or("FAULT_SERVER_PASSWORD", "fault-password"));
	strcpy(S.basic_expected, "Basic ");
	base64(S.basic_expected + 6, sizeof(S.basic_expected) - 6, userpass);
	S.token = env_or("FAULT_SERVER_TOKEN", "fault-token");
	snprintf(S.bearer_expected, sizeof(S.bearer_expected), "Bearer %s", S.token);
	make_content();
	if (!S.seed)
		S.seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	S.rng = S.seed;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&S.wake, &attr);
	/* the listeners' threads inherit this mask: only main takes the signals */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	other_d = listen_on(&S.other_port, 1);
	main_d = listen_on(&S.port, 0);
	logf_line("fault-server %s listening on 127.0.0.1:%u (other server 127.0.0.1:%u), seed %u",
		  argv[1], S.port, S.other_port, S.seed);
	/* standard output stays open until exit: its end tells a test we stopped */
	printf("%u %u\n", S.port, S.other_port);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += S.lifetime;
	for (;;) {
		struct timespec step = {1, 0};
		int sig = sigtimedwait(&stop_signals, NULL, &step);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= deadline.tv_sec) {
			logf_line("fault-server: lifetime of %d s is over", S.lifetime);
			break;
		}
	}
	pthread_mutex_lock(&S.lock);
	S.stopping = 1;
	pthread_cond_broadcast(&S.wake);
	pthread_mutex_unlock(&S.lock);
	MHD_stop_daemon(main_d);
	MHD_stop_daemon(other_d);
	logf_line("fault-server: stopped after %ld requests", S.requests);
	return 0;
}
