/* mock_http.c: the unit tests' loopback HTTP server (libmicrohttpd). */
#include "mock_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mock_server {
	struct MHD_Daemon *daemon;
	mock_handler handler;
	void *userdata;
	int port;
	pthread_mutex_t lock;
};

/* A request's body, gathered across calls of the access handler. */
struct upload {
	char *data;
	size_t len;
	int64_t at_ms;
};

int64_t mock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mock_reply(struct mock_response *resp, int status, const char *body)
{
	resp->status = status;
	resp->body_len = 0;
	if (body) {
		snprintf(resp->body, sizeof(resp->body), "%s", body);
		resp->body_len = strlen(resp->body);
	}
}

void mock_header(struct mock_response *resp, const char *fmt, ...)
{
	va_list ap;

	if (resp->nheaders >= MOCK_MAX_HEADERS)
		return;
	va_start(ap, fmt);
	vsnprintf(resp->headers[resp->nheaders++], sizeof(resp->headers[0]), fmt, ap);
	va_end(ap);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	char *query = cls;
	size_t len = strlen(query);

	(void)kind;
	snprintf(query + len, 4096 - len, "%s%s=%s", len ? "&" : "", key, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct mock_server *server = cls;
	struct upload *up = *con_cls;
	struct mock_request req;
	struct mock_response *resp;
	struct MHD_Response *r;
	char *query;
	enum MHD_Result ret;

	(void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		up->at_ms = mock_now_ms();
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		char *grown = realloc(up->data, up->len + *upload_data_size + 1);

		if (!grown)
			return MHD_NO;
		memcpy(grown + up->len, upload_data, *upload_data_size);
		up->len += *upload_data_size;
		grown[up->len] = '\0';
		up->data = grown;
		*upload_data_size = 0;
		return MHD_YES;
	}
	query = calloc(1, 4096);
	resp = calloc(1, sizeof(*resp));
	if (!query || !resp) {
		free(query);
		free(resp);
		return MHD_NO;
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, query);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.query = query;
	req.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	req.host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	req.body = up->data ? up->data : "";
	req.body_len = up->len;
	req.port = server->port;
	req.at_ms = up->at_ms;
	req.conn = conn;
	resp->status = 200;
	pthread_mutex_lock(&server->lock);
	server->handler(&req, resp, server->userdata);
	pthread_mutex_unlock(&server->lock);
	r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_COPY);
	for (int i = 0; r && i < resp->nheaders; i++) {
		char name[128];
		const char *colon = strchr(resp->headers[i], ':');
		const char *value;

		if (!colon || (size_t)(colon - resp->headers[i]) >= sizeof(name))
			continue;
		memcpy(name, resp->headers[i], (size_t)(colon - resp->headers[i]));
		name[colon - resp->headers[i]] = '\0';
		value = colon + 1;
		while (*value == ' ')
			value++;
		MHD_add_response_header(r, name, value);
	}
	ret = r ? MHD_queue_response(conn, (unsigned)resp->status, r) : MHD_NO;
	if (r)
		MHD_destroy_response(r);
	free(query);
	free(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)code;
	if (up) {
		free(up->data);
		free(up);
	}
	*con_cls = NULL;
}

struct mock_server *mock_start(mock_handler handler, void *userdata)
{
	struct mock_server *server = calloc(1, sizeof(*server));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;

	if (!server)
		return NULL;
	server->handler = handler;
	server->userdata = userdata;
	pthread_mutex_init(&server->lock, NULL);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	server->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
					  0, NULL, NULL, on_request, server,
					  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
					  MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
					  MHD_OPTION_END);
	if (!server->daemon) {
		free(server);
		return NULL;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	server->port = info ? info->port : 0;
	return server;
}

int mock_port(const struct mock_server *server)
{
	return server->port;
}

const char *mock_url(const struct mock_server *server, const char *path, int slot)
{
	static char urls[4][512];

	slot &= 3;
	snprintf(urls[slot], sizeof(urls[slot]), "http://127.0.0.1:%d%s", server->port, path);
	return urls[slot];
}

void mock_stop(struct mock_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	pthread_mutex_destroy(&server->lock);
	free(server);
}

const char *mock_request_header(const struct mock_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}
