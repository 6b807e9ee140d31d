/* inuse.c: reading lists of images in use (kubectl, docker) and telling
 * which references name this registry. */
#include "policy/inuse.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/util.h"
#include "model/manifest.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define INUSE_MAX_BYTES (64u * 1024 * 1024)

static const char *const prefixes[] = {"docker-pullable://", "docker://"};

int rs_inuse_new(struct rs_inuse **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

void rs_image_ref_release(struct rs_image_ref *ref)
{
	free(ref->text);
	free(ref->host);
	free(ref->repo);
	free(ref->tag);
	memset(ref, 0, sizeof(*ref));
}

void rs_inuse_free(struct rs_inuse *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nrefs; i++)
		rs_image_ref_release(&set->refs[i]);
	free(set->refs);
	for (size_t i = 0; i < set->nsources; i++)
		free(set->sources[i]);
	free(set->sources);
	rs_map_release(&set->seen);
	free(set);
}

/* ------------------------------------------------------------- one reference */

static int is_lower_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* sha256:HEX, or 64 hexadecimal digits: what `{..imageID}` and `docker ps`
 * print for an image known only locally. */
static int is_image_id(const char *text)
{
	size_t n = strlen(text);

	if (n == 71 && strncmp(text, "sha256:", 7) == 0)
		return is_lower_hex(text + 7, 64);
	return n == 64 && is_lower_hex(text, 64);
}

/* host[:port] or [v6]:port, as docker accepts a registry host. */
static int valid_host(const char *host)
{
	const char *p = host;

	if (*p == '[') {
		while (*++p && *p != ']')
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			      (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.'))
				return 0;
		if (*p != ']' || p == host + 1)
			return 0;
		p++;
	} else {
		const char *start = p;

		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
			p++;
		if (p == start || *start == '.' || *start == '-')
			return 0;
	}
	if (*p == ':') {
		const char *digits = ++p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 5)
			return 0;
	}
	return *p == '\0';
}

static char *dup_range(const char *start, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, start, n);
		s[n] = '\0';
	}
	return s;
}

/* A token as it can be shown: at most 80 bytes, control bytes as '?'. */
static char *printable(char *out, size_t outsize, const char *text)
{
	size_t i;

	for (i = 0; text[i] && i + 1 < outsize && i < 80; i++)
		out[i] = (unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f ? '?' : text[i];
	out[i] = '\0';
	if (text[i] && i + 4 < outsize)
		strcpy(out + i, "...");
	return out;
}

static int ref_invalid(const char *text, const char *why)
{
	char shown[96];

	return rs_error_set(RS_EUSAGE, "'%s' is not an image reference: %s (want HOST/REPO:TAG "
			    "or HOST/REPO@sha256:..., as kubectl and docker print them)",
			    printable(shown, sizeof(shown), text), why);
}

/* Split the name part (no digest) into host, repository and tag. */
static int split_name(struct rs_image_ref *out, const char *text, size_t n)
{
	const char *name = text, *slash = memchr(text, '/', n), *colon = NULL, *repo = text;
	size_t repo_len;
	int is_host = 0;

	for (size_t i = 0; i < n; i++)
		if (name[i] == ':')
			colon = name + i;
		else if (name[i] == '/')
			colon = NULL;     /* a colon before a slash is a port */
	if (slash) {
		size_t first = (size_t)(slash - name);

		for (size_t i = 0; i < first; i++)
			is_host |= name[i] == '.' || name[i] == ':' || (name[i] >= 'A' && name[i] <= 'Z');
		is_host |= first == 9 && strncmp(name, "localhost", 9) == 0;
	}
	if (colon) {
		if (!(out->tag = dup_range(colon + 1, (size_t)(name + n - colon - 1))))
			return rs_error_set(RS_ERROR, "out of memory");
		if (!rs_valid_tag(out->tag))
			return ref_invalid(text, "invalid tag");
		n = (size_t)(colon - name);
	}
	if (is_host) {
		out->host = dup_range(name, (size_t)(slash - name));
		repo = slash + 1;
	} else {
		out->host = strdup("docker.io");
	}
	if (!out->host)
		return rs_error_set(RS_ERROR, "out of memory");
	for (char *h = out->host; *h; h++)
		if (*h >= 'A' && *h <= 'Z')
			*h = (char)(*h - 'A' + 'a');
	if (!valid_host(out->host))
		return ref_invalid(text, "invalid registry host");
	if (strcmp(out->host, "index.docker.io") == 0 || strcmp(out->host, "registry-1.docker.io") == 0)
		strcpy(out->host, "docker.io");
	repo_len = (size_t)(name + n - repo);
	if (strcmp(out->host, "docker.io") == 0 && !memchr(repo, '/', repo_len)) {
		if ((out->repo = malloc(repo_len + 9)))
			snprintf(out->repo, repo_len + 9, "library/%.*s", (int)repo_len, repo);
	} else {
		out->repo = dup_range(repo, repo_len);
	}
	if (!out->repo)
		return rs_error_set(RS_ERROR, "out of memory");
	if (!rs_valid_repo_name(out->repo))
		return ref_invalid(text, "invalid repository name (lower case letters, digits, "
				   "separators)");
	return 0;
}

int rs_image_ref_parse(struct rs_image_ref *out, const char *text)
{
	const char *at;
	size_t n = strlen(text);
	int rc;

	memset(out, 0, sizeof(*out));
	if (n > RS_INUSE_MAX_REF)
		return rs_error_set(RS_EUSAGE, "an image reference longer than %d characters",
				    RS_INUSE_MAX_REF);
	if (is_image_id(text))
		return 1;
	if (strstr(text, "://"))
		return ref_invalid(text, "unknown scheme (only docker-pullable:// and docker:// are "
				   "read)");
	at = strchr(text, '@');
	if (at) {
		if (!rs_digest_valid(at + 1)) {
			rc = ref_invalid(text, "the digest is not sha256: and 64 hexadecimal digits");
			goto fail;
		}
		rs_strlcpy(out->digest, at + 1, sizeof(out->digest));
		n = (size_t)(at - text);
	}
	if (!n) {
		rc = ref_invalid(text, "no repository");
		goto fail;
	}
	if (!(out->text = strdup(text))) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto fail;
	}
	rc = split_name(out, text, n);
	if (rc < 0)
		goto fail;
	/* with a digest, the digest is what runs: the tag may have moved since;
	 * with neither, docker pulls "latest" */
	if (out->digest[0]) {
		free(out->tag);
		out->tag = NULL;
	} else if (!out->tag && !(out->tag = strdup("latest"))) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto fail;
	}
	return 0;
fail:
	rs_image_ref_release(out);
	return rc;
}

/* ------------------------------------------------------------------- lists */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The key two spellings of one reference share. */
static int ref_key(struct rs_buf *key, const struct rs_image_ref *ref)
{
	rs_buf_reset(key);
	return rs_buf_printf(key, "%s/%s%s%s%s%s", ref->host, ref->repo, ref->tag ? ":" : "",
			     ref->tag ? ref->tag : "", ref->digest[0] ? "@" : "", ref->digest);
}

static int add_ref(struct rs_inuse *set, struct rs_image_ref *ref, struct rs_buf *key)
{
	int rc = ref_key(key, ref);

	if (rc == 0 && rs_map_get(&set->seen, rs_buf_cstr(key))) {
		rs_image_ref_release(ref);
		return 0;
	}
	if (rc == 0 && set->nrefs == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct rs_image_ref *grown = realloc(set->refs, cap * sizeof(*grown));

		if (!grown)
			rc = rs_error_set(RS_ERROR, "out of memory");
		else {
			set->refs = grown;
			set->cap = cap;
		}
	}
	if (rc == 0)
		rc = rs_map_put(&set->seen, rs_buf_cstr(key), (void *)1);
	if (rc < 0) {
		rs_image_ref_release(ref);
		return rc;
	}
	set->refs[set->nrefs++] = *ref;
	return 0;
}

/* One pass over the list: with `set` NULL only check it; else add it.
 * *tokens counts references and image IDs, *comments the comments. */
static int walk(struct rs_inuse *set, const char *text, size_t len, const char *source,
		size_t *tokens, size_t *comments)
{
	struct rs_buf key = RS_BUF_INIT;
	char token[RS_INUSE_MAX_REF + 1], shown[96];

	size_t i = 0;
	int line = 1, rc = 0;

	*tokens = *comments = 0;
	while (rc == 0 && i < len) {
		size_t start, n;
		const char *ref_text = token;
		struct rs_image_ref ref;

		if (is_space(text[i])) {
			line += text[i++] == '\n';
			continue;
		}
		if (text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
			(*comments)++;
			continue;
		}
		for (start = i; i < len && !is_space(text[i]); i++)
			;
		n = i - start;
		if (n > RS_INUSE_MAX_REF || memchr(text + start, '\0', n)) {
			memcpy(token, text + start, n < 81 ? n : 81);
			token[n < 81 ? n : 81] = '\0';
			rc = rs_error_set(RS_EUSAGE, "%s:%d: '%s' is not an image reference%s", source,
					  line, printable(shown, sizeof(shown), token),
					  n > RS_INUSE_MAX_REF ? " (too long)" : "");
			break;
		}
		memcpy(token, text + start, n);
		token[n] = '\0';
		for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
			if (strncmp(token, prefixes[p], strlen(prefixes[p])) == 0)
				ref_text = token + strlen(prefixes[p]);
		rc = rs_image_ref_parse(&ref, ref_text);
		if (rc < 0) {
			rc = rs_error_prefix("%s:%d: ", source, line);
			break;
		}
		(*tokens)++;
		ref.source = source;
		ref.line = line;
		if (rc == 1) {
			rc = 0;
			if (set && !rs_map_get(&set->seen, ref_text)) {
				rc = rs_map_put(&set->seen, ref_text, (void *)1);
				set->image_ids += rc == 0;
			}
		} else if (set) {
			rc = add_ref(set, &ref, &key);
		} else {
			rs_image_ref_release(&ref);
		}
	}
	rs_buf_release(&key);
	return rc;
}

int rs_inuse_parse(struct rs_inuse *set, const char *text, size_t len, const char *source)
{
	char **grown;
	size_t tokens, comments;
	int rc;

	/* checked whole first, so that a bad list adds nothing */
	rc = walk(NULL, text, len, source, &tokens, &comments);
	if (rc < 0)
		return rc;
	if (!tokens && !comments)
		return rs_error_set(RS_EUSAGE, "%s: the in-use list is empty, which a command that "
				    "failed also leaves: if nothing is in use, say so with a line "
				    "'# nothing in use'", source);
	grown = realloc(set->sources, (set->nsources + 1) * sizeof(*grown));
	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	set->sources = grown;
	if (!(set->sources[set->nsources] = strdup(source)))
		return rs_error_set(RS_ERROR, "out of memory");
	set->nsources++;
	return walk(set, text, len, set->sources[set->nsources - 1], &tokens, &comments);
}

int rs_inuse_read(struct rs_inuse *set, const char *path)
{
	struct rs_buf text = RS_BUF_INIT;
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	char chunk[65536];
	ssize_t n;
	int fd, rc = 0;

	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rs_error_set(RS_EUSAGE, "cannot read the in-use list '%s': %s", path,
				    strerror(errno));
	rs_buf_init(&text, INUSE_MAX_BYTES);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rs_error_set(RS_EUSAGE, "cannot read the in-use list '%s': %s", name,
					  strerror(errno));
			break;
		}
		if (rs_buf_put(&text, chunk, (size_t)n) < 0) {
			rc = rs_error_set(RS_EUSAGE, "the in-use list '%s' is larger than 64 MiB", name);
			break;
		}
	}
	if (!is_stdin)
		close(fd);
	if (rc == 0)
		rc = rs_inuse_parse(set, rs_buf_cstr(&text), text.len, name);
	rs_buf_release(&text);
	return rc;
}

/* -------------------------------------------------------------- registries */

/* Split "host:port" or "[v6]:port" into the host (brackets dropped) and the
 * port, or `default_port` when none is written. */
static void split_host_port(char *host, size_t hostsize, long *port, const char *text,
			    size_t n, long default_port)
{
	const char *end = text + n, *colon = NULL;

	if (n && *text == '[') {
		const char *close = memchr(text, ']', n);

		if (close) {
			snprintf(host, hostsize, "%.*s", (int)(close - text - 1), text + 1);
			colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		} else {
			snprintf(host, hostsize, "%.*s", (int)n, text);
		}
	} else {
		colon = memchr(text, ':', n);
		snprintf(host, hostsize, "%.*s", (int)(colon ? colon - text : (ptrdiff_t)n), text);
	}
	*port = colon ? strtol(colon + 1, NULL, 10) : default_port;
}

static int is_loopback(const char *host)
{
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "0:0:0:0:0:0:0:1") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (const char *p = host + 4; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return 0;
	return 1;
}

int rs_inuse_names_registry(const struct rs_image_ref *ref, const char *registry_url)
{
	const char *scheme_end = strstr(registry_url, "://");
	const char *hostport = scheme_end ? scheme_end + 3 : registry_url;
	size_t n = strcspn(hostport, "/?#");
	long default_port = strncmp(registry_url, "http://", 7) == 0 ? 80 : 443;
	char reg_host[256], ref_host[256];
	long reg_port, ref_port;

	/* "user:password@" is no part of the host */
	for (size_t i = 0; i < n; i++)
		if (hostport[i] == '@') {
			hostport += i + 1;
			n -= i + 1;
			i = (size_t)-1;
		}
	split_host_port(reg_host, sizeof(reg_host), &reg_port, hostport, n, default_port);
	split_host_port(ref_host, sizeof(ref_host), &ref_port, ref->host, strlen(ref->host),
			default_port);
	if (reg_port != ref_port)
		return 0;
	return strcasecmp(reg_host, ref_host) == 0 || (is_loopback(reg_host) && is_loopback(ref_host));
}

int rs_inuse_match_init(struct rs_inuse_match *m, const struct rs_inuse *set,
			const char *registry_url)
{
	size_t n = set ? set->nrefs : 0;

	memset(m, 0, sizeof(*m));
	m->set = set;
	m->next = calloc(n ? n : 1, sizeof(*m->next));
	m->found = calloc(n ? n : 1, 1);
	m->here = calloc(n ? n : 1, 1);
	if (!m->next || !m->found || !m->here) {
		rs_inuse_match_release(m);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const struct rs_image_ref *ref = &set->refs[i];

		if (!rs_inuse_names_registry(ref, registry_url ? registry_url : "")) {
			m->nelsewhere++;
			continue;
		}
		m->nhere++;
		m->here[i] = 1;
		m->next[i] = (uintptr_t)rs_map_get(&m->by_repo, ref->repo);
		if (rs_map_put(&m->by_repo, ref->repo, (void *)(uintptr_t)(i + 1)) < 0) {
			rs_inuse_match_release(m);
			return rs_error_set(RS_ERROR, "out of memory");
		}
	}
	return 0;
}

void rs_inuse_match_release(struct rs_inuse_match *m)
{
	rs_map_release(&m->by_repo);
	free(m->next);
	free(m->found);
	free(m->here);
	m->next = NULL;
	m->found = NULL;
	m->here = NULL;
}

size_t rs_inuse_match_first(const struct rs_inuse_match *m, const char *repo)
{
	uintptr_t slot = (uintptr_t)rs_map_get(&m->by_repo, repo);

	return slot ? (size_t)slot - 1 : (size_t)-1;
}

size_t rs_inuse_match_next(const struct rs_inuse_match *m, size_t i)
{
	return m->next[i] ? m->next[i] - 1 : (size_t)-1;
}
