/* registry.h: the distribution (v2 / OCI) HTTP API on top of the transport.
 *
 * A call names a method, a path under the registry (or a URL from a Link
 * header), the Accept header and the auth scope it needs. The registry
 * module adds the Authorization header, answers a 401 by letting the
 * authenticator refresh credentials and resends once, and turns error
 * statuses into RS_E* codes with messages that say what to fix.
 *
 * Retries are the transport's (http.h): reads, and also DELETE and PUT,
 * which are idempotent here. A DELETE that was retried and answers 404 may
 * have gone through on an earlier try whose answer was lost: `attempts`
 * tells the caller, who confirms with a HEAD.
 */
#ifndef RS_REGISTRY_H
#define RS_REGISTRY_H

#include "net/auth.h"
#include "net/http.h"

struct rs_registry;

/* What a call produced. `rc` is 0 for a 2xx or 304 answer; otherwise a negative
 * code with the message set (the status and body are still there). Valid
 * only during the callback; the body may be detached. */
struct rs_reg_result {
	int rc;
	long status;
	struct rs_buf *body;
	const char *content_type;
	const char *digest;        /* Docker-Content-Digest */
	const char *link;
	const char *location;      /* Location (blob uploads) */
	const char *url;
	int attempts;              /* how many times the request was sent */
};

typedef void (*rs_reg_done_fn)(struct rs_reg_result *res, void *userdata);

struct rs_reg_call {
	const char *method;        /* "GET", "HEAD", "DELETE", "PUT", "POST" */
	const char *path;          /* "/v2/..." or an absolute URL on the same registry */
	const char *accept;        /* full header line or NULL */
	const char *extra_header;  /* one more header line ("If-None-Match: ...") or NULL */
	const char *scope;         /* auth scope, NULL for none */
	const char *content_type;  /* for a body */
	const void *body;
	size_t body_len;
	size_t max_body;           /* 0: the transport's default (4 MiB) */
	int follow;                /* follow redirects (blobs) */
};

#define RS_REG_CALL_INIT { "GET", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0 }

/* `url` is the registry's base URL ("https://host:port"; a bare host gets
 * https://); `http` and `auth` are borrowed and must outlive the registry. */
int rs_registry_new(struct rs_registry **out, const char *url, struct rs_http *http,
		    struct rs_auth *auth);
void rs_registry_free(struct rs_registry *reg);

/* The normalised base URL, without a trailing slash. */
const char *rs_registry_url(const struct rs_registry *reg);
struct rs_http *rs_registry_http(struct rs_registry *reg);
struct rs_auth *rs_registry_auth(struct rs_registry *reg);

/* What a run has learned the registry can do, so that a probe is sent
 * once per run whichever command needs the answer first. */
enum rs_registry_feature {
	RS_FEATURE_TAG_DELETE = 0,     /* DELETE /v2/NAME/manifests/TAG removes the tag alone */
	RS_FEATURE_COUNT
};

/* 1 yes, 0 no, -1 not known yet. */
int rs_registry_feature(const struct rs_registry *reg, enum rs_registry_feature feature);
void rs_registry_set_feature(struct rs_registry *reg, enum rs_registry_feature feature,
			     int value);

/* Queue a call; `done` runs from rs_http_run(). */
int rs_registry_submit(struct rs_registry *reg, const struct rs_reg_call *call,
		       rs_reg_done_fn done, void *userdata);

/* A call performed now, for sequential code (apply, restore): submits and
 * runs the loop until it completes. Must not be used from a callback. On
 * return the answer's status, body, digest, content type and location
 * (each the caller's, each may be NULL) describe it. Returns the call's rc. */
struct rs_reg_answer {
	long status;
	char *body;
	size_t body_len;
	char *digest;
	char *content_type;
	int attempts;              /* how many times the request was sent */
	char *location;            /* Location header, or NULL */
};
int rs_registry_call(struct rs_registry *reg, const struct rs_reg_call *call,
		     struct rs_reg_answer *answer);
void rs_reg_answer_release(struct rs_reg_answer *answer);

/* GET /v2/: is this a registry, and can we authenticate? */
int rs_registry_ping(struct rs_registry *reg);

/* Build "repository:NAME:ACTION" into `out`. */
char *rs_registry_scope(char *out, size_t outsize, const char *repo, const char *action);

/* Map an error answer to a code and message: `what` names the request
 * ("listing tags of 'app'"). Knows distribution's error bodies. */
int rs_registry_status_error(long status, const char *body, size_t len, const char *what);

#endif
