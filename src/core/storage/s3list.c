/* s3list.c: ListObjectsV2 answers and S3 error documents, read with
 * libxml2's tree API (see s3list.h). */
#include "storage/s3list.h"
#include "base/error.h"
#include "base/util.h"

#include <limits.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* No network, no DTD, no entity substitution, no messages on stderr (the
 * core never prints); a document over libxml2's own size limits fails. */
#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static xmlDocPtr parse(const char *xml, size_t len)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if (len == 0 || len > INT_MAX)
		return NULL;
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return NULL;
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, PARSE_OPTIONS);
	xmlFreeParserCtxt(ctxt);
	/* nothing an S3 store sends declares a DTD: one that does may define
	 * entities, which are never expanded here */
	if (doc && (doc->intSubset || doc->extSubset)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static int named(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

/* The text directly inside `node` (text and CDATA children only: an entity
 * reference is never followed), into `out`; -1 when it does not fit. */
static int text_of(const xmlNode *node, struct rs_s3_prefix *out, size_t max)
{
	size_t len = 0;
	char *text;

	out->prefix = NULL;
	out->len = 0;
	for (const xmlNode *c = node->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			len += strlen((const char *)c->content);
	if (len > max)
		return -1;
	text = malloc(len + 1);
	if (!text)
		return -1;
	len = 0;
	for (const xmlNode *c = node->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			size_t n = strlen((const char *)c->content);

			memcpy(text + len, c->content, n);
			len += n;
		}
	}
	text[len] = '\0';
	out->prefix = text;
	out->len = len;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a URL-encoded key in place ('+' is a space, as the AWS SDKs read
 * it); -1 on a '%' not followed by two hex digits. */
static int url_decode(struct rs_s3_prefix *s)
{
	size_t o = 0;

	for (size_t i = 0; i < s->len; i++) {
		char c = s->prefix[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= s->len)
				return -1;
			hi = hex_value(s->prefix[i + 1]);
			lo = hi < 0 ? -1 : hex_value(s->prefix[i + 2]);
			if (lo < 0)
				return -1;
			s->prefix[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			s->prefix[o++] = c == '+' ? ' ' : c;
		}
	}
	s->prefix[o] = '\0';
	s->len = o;
	return 0;
}

/* A key or prefix: its text, decoded when the answer is URL-encoded. */
static int read_name(const xmlNode *node, int encoded, struct rs_s3_prefix *out)
{
	/* S3 keys are at most 1,024 bytes; encoded, three times that */
	if (text_of(node, out, 3 * 1024) < 0)
		return rs_error_set(RS_EPROTO, "the S3 listing holds a key too long to be one");
	if (encoded && url_decode(out) < 0) {
		free(out->prefix);
		out->prefix = NULL;
		return rs_error_set(RS_EPROTO, "the S3 listing holds a key that is not URL-encoded");
	}
	if (out->len == 0) {
		free(out->prefix);
		out->prefix = NULL;
		return rs_error_set(RS_EPROTO, "the S3 listing holds an empty key");
	}
	return 0;
}

static int64_t read_size(const xmlNode *node)
{
	struct rs_s3_prefix text;
	int64_t n = 0;

	if (text_of(node, &text, 32) < 0)
		return -1;
	for (size_t i = 0; i < text.len; i++) {
		int d = text.prefix[i] - '0';

		if (d < 0 || d > 9 || n > (INT64_MAX - d) / 10) {
			n = -1;
			break;
		}
		n = n * 10 + d;
	}
	if (text.len == 0)
		n = -1;
	free(text.prefix);
	return n;
}

static int64_t read_time(const xmlNode *node)
{
	struct rs_s3_prefix text;
	int64_t when = RS_TIME_UNKNOWN;

	if (text_of(node, &text, 64) < 0)
		return RS_TIME_UNKNOWN;
	if (rs_time_parse(&when, text.prefix) < 0)
		when = RS_TIME_UNKNOWN;
	free(text.prefix);
	return when;
}

/* An ETag that is one MD5, quoted or not, into `out` in lower case; ""
 * for anything else. */
static void read_etag(const xmlNode *node, char out[33])
{
	struct rs_s3_prefix text;
	const char *p;
	size_t len;

	out[0] = '\0';
	if (text_of(node, &text, 64) < 0)
		return;
	p = text.prefix;
	len = text.len;
	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	if (len == 32) {
		size_t i;

		for (i = 0; i < 32 && hex_value(p[i]) >= 0; i++)
			out[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 'a' : p[i]);
		out[i == 32 ? 32 : 0] = '\0';
	}
	free(text.prefix);
}

static int read_contents(struct rs_s3_listing *out, const xmlNode *node, int encoded,
			 size_t *cap)
{
	struct rs_s3_object *o;
	struct rs_s3_prefix key = {NULL, 0};
	int64_t size = -1, mtime = RS_TIME_UNKNOWN;
	char etag[33] = "";
	int rc = 0;

	for (const xmlNode *c = node->children; rc == 0 && c; c = c->next) {
		if (named(c, "Key") && !key.prefix)
			rc = read_name(c, encoded, &key);
		else if (named(c, "Size"))
			size = read_size(c);
		else if (named(c, "LastModified"))
			mtime = read_time(c);
		else if (named(c, "ETag"))
			read_etag(c, etag);
	}
	if (rc == 0 && !key.prefix)
		rc = rs_error_set(RS_EPROTO, "the S3 listing holds an object without a key");
	if (rc == 0 && out->nobjects == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 64;
		struct rs_s3_object *grown = realloc(out->objects, grown_cap * sizeof(*grown));

		if (!grown)
			rc = rs_error_set(RS_ERROR, "out of memory");
		else {
			out->objects = grown;
			*cap = grown_cap;
		}
	}
	if (rc < 0) {
		free(key.prefix);
		return rc;
	}
	o = &out->objects[out->nobjects++];
	o->key = key.prefix;
	o->key_len = key.len;
	o->size = size;
	o->mtime = mtime;
	memcpy(o->etag, etag, sizeof(o->etag));
	return 0;
}

static int read_prefixes(struct rs_s3_listing *out, const xmlNode *node, int encoded,
			 size_t *cap)
{
	int rc = 0;

	for (const xmlNode *c = node->children; rc == 0 && c; c = c->next) {
		struct rs_s3_prefix p;

		if (!named(c, "Prefix"))
			continue;
		rc = read_name(c, encoded, &p);
		if (rc == 0 && out->nprefixes == *cap) {
			size_t grown_cap = *cap ? *cap * 2 : 16;
			struct rs_s3_prefix *grown = realloc(out->prefixes, grown_cap * sizeof(*grown));

			if (!grown) {
				free(p.prefix);
				rc = rs_error_set(RS_ERROR, "out of memory");
			} else {
				out->prefixes = grown;
				*cap = grown_cap;
			}
		}
		if (rc == 0)
			out->prefixes[out->nprefixes++] = p;
	}
	return rc;
}

/* Is the element's text exactly `want`? */
static int text_is(const xmlNode *node, const char *want)
{
	struct rs_s3_prefix text;
	int same;

	if (text_of(node, &text, 64) < 0)
		return 0;
	same = strcmp(text.prefix, want) == 0;
	free(text.prefix);
	return same;
}

int rs_s3_listing_parse(struct rs_s3_listing *out, const char *xml, size_t len)
{
	xmlDocPtr doc;
	const xmlNode *root;
	size_t objects_cap = 0, prefixes_cap = 0;
	int encoded = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	doc = parse(xml, len);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || !named(root, "ListBucketResult")) {
		rc = rs_error_set(RS_EPROTO, "the S3 store's answer to a listing is not a "
				  "ListBucketResult");
		goto done;
	}
	/* the encoding applies to every key: learn it before reading them */
	for (const xmlNode *c = root->children; c; c = c->next)
		if (named(c, "EncodingType") && text_is(c, "url"))
			encoded = 1;
	for (const xmlNode *c = root->children; rc == 0 && c; c = c->next) {
		if (named(c, "Contents")) {
			rc = read_contents(out, c, encoded, &objects_cap);
		} else if (named(c, "CommonPrefixes")) {
			rc = read_prefixes(out, c, encoded, &prefixes_cap);
		} else if (named(c, "IsTruncated")) {
			out->truncated = text_is(c, "true");
		} else if (named(c, "NextContinuationToken") && !out->next_token) {
			struct rs_s3_prefix token;

			if (text_of(c, &token, 4096) < 0)
				rc = rs_error_set(RS_EPROTO, "the S3 listing's continuation token is too long");
			else if (token.len == 0)
				free(token.prefix);
			else
				out->next_token = token.prefix;
		}
	}
	if (rc == 0 && out->truncated && !out->next_token)
		rc = rs_error_set(RS_EPROTO, "the S3 listing says more follows but gives no "
				  "continuation token");
done:
	xmlFreeDoc(doc);
	if (rc < 0)
		rs_s3_listing_release(out);
	return rc;
}

void rs_s3_listing_release(struct rs_s3_listing *l)
{
	for (size_t i = 0; i < l->nobjects; i++)
		free(l->objects[i].key);
	for (size_t i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i].prefix);
	free(l->objects);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}

/* Copy the element's text into `out`, printable ASCII only (anything else
 * becomes '?'), shortened to fit. */
static void printable_copy(char *out, size_t outsize, const xmlNode *node)
{
	struct rs_s3_prefix text;
	size_t o = 0;

	out[0] = '\0';
	if (text_of(node, &text, 64 * 1024) < 0)
		return;
	for (size_t i = 0; i < text.len && o + 1 < outsize; i++) {
		unsigned char c = (unsigned char)text.prefix[i];

		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
	free(text.prefix);
}

void rs_s3_error_parse(struct rs_s3_error *out, const char *xml, size_t len)
{
	xmlDocPtr doc;
	const xmlNode *root;

	out->code[0] = out->message[0] = '\0';
	doc = xml ? parse(xml, len) : NULL;
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root && named(root, "Error")) {
		for (const xmlNode *c = root->children; c; c = c->next) {
			if (named(c, "Code") && !out->code[0])
				printable_copy(out->code, sizeof(out->code), c);
			else if (named(c, "Message") && !out->message[0])
				printable_copy(out->message, sizeof(out->message), c);
		}
	}
	xmlFreeDoc(doc);
}
