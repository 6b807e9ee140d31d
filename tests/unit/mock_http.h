/* mock_http.h: a tiny HTTP server on 127.0.0.1 for unit tests (built on
 * libmicrohttpd), answering every request through a handler the test
 * supplies: a mock registry, token server, redirect target or proxy.
 *
 * The handler runs on the server's thread, one request at a time; what it
 * records is read by the test after the client has its answer.
 */
#ifndef RS_MOCK_HTTP_H
#define RS_MOCK_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct mock_request {
	const char *method;
	const char *url;            /* the request target as sent (absolute for a proxy) */
	const char *query;          /* decoded GET arguments, "k=v&k=v", "" when none */
	const char *authorization;  /* Authorization header, or NULL */
	const char *content_type;
	const char *host;           /* Host header */
	const char *body;           /* request body (NUL-terminated), "" when none */
	size_t body_len;
	int port;                   /* this server's port */
	int64_t at_ms;              /* monotonic arrival time */
	void *conn;                 /* for mock_request_header() */
};

/* The value of request header `name`, or NULL; valid during the handler. */
const char *mock_request_header(const struct mock_request *req, const char *name);

#define MOCK_MAX_HEADERS 8

struct mock_response {
	int status;                 /* default 200 */
	char headers[MOCK_MAX_HEADERS][512];
	int nheaders;
	char body[16384];
	size_t body_len;
};

typedef void (*mock_handler)(const struct mock_request *req, struct mock_response *resp,
			     void *userdata);

struct mock_server;

/* Start a server on a free port; NULL on failure. */
struct mock_server *mock_start(mock_handler handler, void *userdata);
int mock_port(const struct mock_server *server);
/* "http://127.0.0.1:PORT" + path, in a static buffer per call slot (0..3). */
const char *mock_url(const struct mock_server *server, const char *path, int slot);
void mock_stop(struct mock_server *server);

/* Set the status and a body (copied, truncated to fit). */
void mock_reply(struct mock_response *resp, int status, const char *body);
/* Add a header line "Name: value". */
void mock_header(struct mock_response *resp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Monotonic milliseconds, the clock of at_ms. */
int64_t mock_now_ms(void);

#endif
