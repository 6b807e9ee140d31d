/* registry.c: calls to the registry API, with authentication and retries on 401. */
#include "net/registry.h"
#include "net/url.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_ATTEMPTS 2

struct rs_registry {
	char *url;
	struct rs_http *http;
	struct rs_auth *auth;
	int features[RS_FEATURE_COUNT];   /* 1, 0, or -1 not known */
};

struct pending_call {
	struct rs_registry *reg;
	char *method, *url, *accept, *extra_header, *scope, *content_type, *body;
	size_t body_len, max_body;
	int follow;
	int auth_attempts;
	rs_reg_done_fn done;
	void *userdata;
};

/* A user name or password in the URL would be sent by libcurl behind the
 * authenticator's back and end up in every message and log line that names
 * a URL: refuse it, without repeating it. Only http and https are registries. */
static int check_url(const char *url)
{
	struct rs_url u;
	char shown[512];
	int rc = rs_url_parse(&u, url, RS_URL_DEFAULT_HTTPS);

	if (rc < 0)
		return rs_error_set(RS_EUSAGE, "registry URL %s", rs_error_message());
	if (u.has_userinfo)
		rc = rs_error_set(RS_EUSAGE, "the registry URL holds a user name or password "
				  "('...@%s'): give the user name with -u and the password in "
				  "REGSWEEP_PASSWORD or --password-file", u.host);
	else if (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0)
		rc = rs_error_set(RS_EUSAGE, "registry URL '%s' must start with http:// or https://",
				  rs_url_strip_userinfo(shown, sizeof(shown), url));
	rs_url_release(&u);
	return rc;
}

int rs_registry_new(struct rs_registry **out, const char *url, struct rs_http *http,
		    struct rs_auth *auth)
{
	struct rs_registry *reg;
	struct rs_buf buf = RS_BUF_INIT;
	size_t n;
	int rc;

	*out = NULL;
	if (!url || !*url)
		return rs_error_set(RS_EUSAGE, "no registry given: use -r URL or set REGSWEEP_REGISTRY");
	if ((rc = check_url(url)) < 0)
		return rc;
	/* a bare host is reached over https */
	if (!strstr(url, "://") && rs_buf_puts(&buf, "https://") < 0)
		return RS_ERROR;
	if (rs_buf_puts(&buf, url) < 0)
		return RS_ERROR;
	n = buf.len;
	while (n > 8 && buf.ptr[n - 1] == '/')
		buf.ptr[--n] = '\0';
	buf.len = n;
	if (n > 3 && strcmp(buf.ptr + n - 3, "/v2") == 0) {
		buf.ptr[n - 3] = '\0';
		buf.len = n - 3;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg) {
		rs_buf_release(&buf);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	reg->url = rs_buf_detach(&buf);
	reg->http = http;
	reg->auth = auth;
	for (size_t i = 0; i < RS_FEATURE_COUNT; i++)
		reg->features[i] = -1;
	*out = reg;
	return 0;
}

void rs_registry_free(struct rs_registry *reg)
{
	if (!reg)
		return;
	free(reg->url);
	free(reg);
}

const char *rs_registry_url(const struct rs_registry *reg)
{
	return reg->url;
}

struct rs_http *rs_registry_http(struct rs_registry *reg)
{
	return reg->http;
}

struct rs_auth *rs_registry_auth(struct rs_registry *reg)
{
	return reg->auth;
}

int rs_registry_feature(const struct rs_registry *reg, enum rs_registry_feature feature)
{
	return feature < RS_FEATURE_COUNT ? reg->features[feature] : -1;
}

void rs_registry_set_feature(struct rs_registry *reg, enum rs_registry_feature feature,
			     int value)
{
	if (feature < RS_FEATURE_COUNT)
		reg->features[feature] = value;
}

char *rs_registry_scope(char *out, size_t outsize, const char *repo, const char *action)
{
	snprintf(out, outsize, "repository:%s:%s", repo, action);
	return out;
}

static void pending_free(struct pending_call *pc)
{
	if (!pc)
		return;
	free(pc->method);
	free(pc->url);
	free(pc->accept);
	free(pc->extra_header);
	free(pc->scope);
	free(pc->content_type);
	free(pc->body);
	free(pc);
}

/* First entry of distribution's {"errors":[{"code":..,"message":..,
 * "detail":..}]} (a string detail only). */
static void error_body(const char *body, size_t len, char *code, size_t codesize, char *msg,
		       size_t msgsize, char *detail, size_t detailsize)
{
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "errors"), 0);
	const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "code"));
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "message"));
	const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "detail"));

	code[0] = msg[0] = detail[0] = '\0';
	if (c)
		rs_strlcpy(code, c, codesize);
	if (m)
		rs_strlcpy(msg, m, msgsize);
	if (d)
		rs_strlcpy(detail, d, detailsize);
	cJSON_Delete(root);
}

int rs_registry_status_error(long status, const char *body, size_t len, const char *what)
{
	char code[64], msg[256], detail[256];

	error_body(body, len, code, sizeof(code), msg, sizeof(msg), detail, sizeof(detail));
	/* distribution 3.x no longer reads Docker schema 1: a stored one is a 500 */
	if (status == 500 && strstr(detail, "manifest schema version 1"))
		return rs_error_set(RS_EPROTO, "%s: the registry cannot serve this schema 1 manifest "
				    "(500 '%s'): distribution 3.x no longer reads Docker image "
				    "manifest v1; re-push the image with a current client", what,
				    detail);
	switch (status) {
	case 401:
		return rs_error_set(RS_EAUTH, "%s: the credentials are missing or wrong (401)", what);
	case 403:
		return rs_error_set(RS_EDENIED, "%s: access denied (403): the credentials lack "
				    "permission for this", what);
	case 404:
		return rs_error_set(RS_ENOTFOUND, "%s: not found (404%s%s)", what, code[0] ? " " : "",
				    code);
	case 405:
		if (strcmp(code, "UNSUPPORTED") == 0)
			return rs_error_set(RS_EUNSUPPORTED,
				"%s: deletes are disabled on this registry: set "
				"storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true)",
				what);
		return rs_error_set(RS_EREADONLY, "%s: the registry refused the method (405 "
				    "'Method not allowed'): it is in read-only mode", what);
	case 429:
		return rs_error_set(RS_ENET, "%s: the registry kept answering 429 Too Many Requests "
				    "(lower --jobs or set --rate)", what);
	default:
		if (status >= 500)
			return rs_error_set(RS_ENET, "%s: server error %ld%s%s", what, status,
					    msg[0] ? ": " : "", msg);
		return rs_error_set(RS_EPROTO, "%s: unexpected status %ld%s%s%s%s", what, status,
				    code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
	}
}

static int send_call(struct pending_call *pc);

static void on_done(struct rs_http_req *req, struct rs_http_response *resp, int rc, void *ud)
{
	struct pending_call *pc = ud;
	struct rs_reg_result res;

	(void)req;
	if (rc == 0 && resp->status == 401 && pc->auth_attempts < AUTH_ATTEMPTS) {
		pc->auth_attempts++;
		rc = rs_auth_challenge(pc->reg->auth, resp->www_authenticate, pc->scope);
		if (rc == 0) {
			if (send_call(pc) == 0)
				return;
			rc = rs_error_code();
		}
	} else if (rc == 0 && resp->status == 401) {
		/* a fresh token still refused: say which scope */
		rc = rs_auth_challenge(pc->reg->auth, resp->www_authenticate, pc->scope);
		if (rc == 0)
			rc = rs_error_set(RS_EAUTH, "%s %s: the registry keeps answering 401", pc->method,
					  pc->url);
	} else if (rc == 0 && (resp->status < 200 || resp->status > 299) && resp->status != 304) {
		char what[512];

		/* how hard it was tried, for a status that retries could not get past */
		if (resp->attempts > 1)
			snprintf(what, sizeof(what), "%s %s (tried %d times)", pc->method, pc->url,
				 resp->attempts);
		else
			snprintf(what, sizeof(what), "%s %s", pc->method, pc->url);
		rc = rs_registry_status_error(resp->status, resp->body.ptr, resp->body.len, what);
	}
	memset(&res, 0, sizeof(res));
	res.rc = rc;
	res.status = resp->status;
	res.body = &resp->body;
	res.content_type = resp->content_type;
	res.digest = resp->digest;
	res.link = resp->link;
	res.location = resp->location;
	res.url = resp->url;
	res.attempts = resp->attempts;
	pc->done(&res, pc->userdata);
	pending_free(pc);
}

static int send_call(struct pending_call *pc)
{
	struct rs_http_req *req = NULL;
	char *auth_hdr = NULL;
	struct rs_buf line = RS_BUF_INIT;
	int rc;

	rc = rs_http_req_new(&req, pc->method, pc->url);
	if (rc < 0)
		return rc;
	if (pc->max_body)
		rs_http_req_max_body(req, pc->max_body);
	rs_http_req_follow(req, pc->follow);
	/* A DELETE (by digest or tag) and a PUT of a manifest are idempotent on
	 * a registry: sent twice they end the same, a repeated delete answering
	 * 404. So they are retried like reads; the caller reads a 404 after
	 * retries (rs_reg_result.attempts > 1) as "an earlier try went through". */
	if (strcmp(pc->method, "DELETE") == 0 || strcmp(pc->method, "PUT") == 0)
		rs_http_req_retryable(req, 1);
	if (pc->accept)
		rc = rs_http_req_header(req, pc->accept);
	if (rc == 0 && pc->extra_header)
		rc = rs_http_req_header(req, pc->extra_header);
	if (rc == 0)
		rc = rs_auth_header(&auth_hdr, pc->reg->auth, pc->scope);
	if (rc == 0 && auth_hdr)
		rc = rs_http_req_header(req, auth_hdr);
	free(auth_hdr);
	if (rc == 0 && pc->content_type) {
		rc = rs_buf_printf(&line, "Content-Type: %s", pc->content_type);
		if (rc == 0)
			rc = rs_http_req_header(req, line.ptr);
		rs_buf_release(&line);
	}
	if (rc == 0 && pc->body)
		rc = rs_http_req_body(req, pc->body, pc->body_len);
	if (rc == 0 && !pc->body && (strcmp(pc->method, "PUT") == 0 || strcmp(pc->method, "POST") == 0))
		rc = rs_http_req_body(req, "", 0);
	if (rc < 0) {
		rs_http_req_free(req);
		return rc;
	}
	return rs_http_submit(pc->reg->http, req, on_done, pc);
}

int rs_registry_submit(struct rs_registry *reg, const struct rs_reg_call *call,
		       rs_reg_done_fn done, void *userdata)
{
	struct pending_call *pc = calloc(1, sizeof(*pc));
	struct rs_buf url = RS_BUF_INIT;
	int rc;

	if (!pc)
		return rs_error_set(RS_ERROR, "out of memory");
	if (strncmp(call->path, "http://", 7) == 0 || strncmp(call->path, "https://", 8) == 0)
		rc = rs_buf_puts(&url, call->path);
	else
		rc = rs_buf_printf(&url, "%s%s", reg->url, call->path);
	if (rc < 0) {
		free(pc);
		return rc;
	}
	pc->reg = reg;
	pc->url = rs_buf_detach(&url);
	pc->method = rs_strdup(call->method);
	pc->accept = rs_strdup(call->accept);
	pc->extra_header = rs_strdup(call->extra_header);
	pc->scope = rs_strdup(call->scope);
	pc->content_type = rs_strdup(call->content_type);
	if (call->body) {
		pc->body = malloc(call->body_len ? call->body_len : 1);
		if (pc->body && call->body_len)
			memcpy(pc->body, call->body, call->body_len);
	}
	pc->body_len = call->body_len;
	pc->max_body = call->max_body;
	pc->follow = call->follow;
	pc->done = done;
	pc->userdata = userdata;
	if (!pc->url || !pc->method || (call->accept && !pc->accept) ||
	    (call->extra_header && !pc->extra_header) ||
	    (call->scope && !pc->scope) || (call->content_type && !pc->content_type) ||
	    (call->body && !pc->body)) {
		pending_free(pc);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rc = send_call(pc);
	if (rc < 0)
		pending_free(pc);
	return rc;
}

struct sync_ctx {
	struct rs_reg_answer *answer;
	int rc;
	int finished;
	char message[2048];
};

static void on_sync_done(struct rs_reg_result *res, void *ud)
{
	struct sync_ctx *ctx = ud;

	ctx->finished = 1;
	ctx->rc = res->rc;
	if (res->rc < 0)
		rs_strlcpy(ctx->message, rs_error_message(), sizeof(ctx->message));
	ctx->answer->status = res->status;
	ctx->answer->attempts = res->attempts;
	ctx->answer->body_len = res->body->len;
	ctx->answer->body = res->body->ptr ? rs_buf_detach(res->body) : NULL;
	ctx->answer->digest = rs_strdup(res->digest);
	ctx->answer->content_type = rs_strdup(res->content_type);
	ctx->answer->location = rs_strdup(res->location);
}

int rs_registry_call(struct rs_registry *reg, const struct rs_reg_call *call,
		     struct rs_reg_answer *answer)
{
	struct sync_ctx ctx;
	int rc;

	memset(answer, 0, sizeof(*answer));
	memset(&ctx, 0, sizeof(ctx));
	ctx.answer = answer;
	rc = rs_registry_submit(reg, call, on_sync_done, &ctx);
	if (rc < 0)
		return rc;
	rc = rs_http_run(reg->http);
	if (!ctx.finished)
		return rc < 0 ? rc : rs_error_set(RS_ERROR, "request did not complete");
	if (ctx.rc < 0)
		rs_error_set(ctx.rc, "%s", ctx.message);
	return ctx.rc;
}

void rs_reg_answer_release(struct rs_reg_answer *answer)
{
	if (!answer)
		return;
	free(answer->body);
	free(answer->digest);
	free(answer->content_type);
	free(answer->location);
	memset(answer, 0, sizeof(*answer));
}

int rs_registry_ping(struct rs_registry *reg)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	int rc;

	call.path = "/v2/";
	call.max_body = 64 * 1024;
	rc = rs_registry_call(reg, &call, &answer);
	if (rc == RS_ENOTFOUND)
		rc = rs_error_set(RS_EPROTO, "'%s' is not a registry: it does not serve /v2/ (404)",
				  reg->url);
	else if (rc == RS_ENET || rc == RS_ETIMEOUT)
		rs_error_prefix("registry '%s' is unreachable: ", reg->url);
	else if (rc == RS_EPROTO && answer.status >= 300 && answer.status < 400)
		rc = rs_error_set(RS_EPROTO, "'%s' redirects /v2/ (%ld): is this the registry's URL?",
				  reg->url, answer.status);
	rs_reg_answer_release(&answer);
	if (rc < 0)
		return rc;
	rs_log(RS_LOG_VERBOSE, "registry %s answers /v2/ (credentials: %s)", reg->url,
	       rs_auth_source(reg->auth));
	return 0;
}
