/* credentials.c: credential sources (regsweep's own settings, then the
 * docker CLI's config.json and its credential helpers). */
#include "net/credentials.h"
#include "net/url.h"
#include "net/auth.h"
#include "base/buf.h"
#include "base/base64.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (4u * 1024 * 1024)
#define HELPER_DEFAULT_TIMEOUT_MS 10000L
#define HELPER_MAX_STDOUT (64u * 1024)
#define HELPER_MAX_STDERR (4u * 1024)
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"
#define DOCKER_HUB_HOST "index.docker.io"

void rs_credentials_free(struct rs_credentials *creds)
{
	if (!creds)
		return;
	free(creds->username);
	free(creds->password);
	free(creds->token);
	free(creds->identity_token);
	free(creds->source);
	free(creds);
}

/* A new record; any of the strings may be NULL. */
static int creds_new(struct rs_credentials **out, const char *username, const char *password,
		     const char *token, const char *identity_token, const char *source)
{
	struct rs_credentials *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return rs_error_set(RS_ERROR, "out of memory");
	c->username = rs_strdup(username);
	c->password = rs_strdup(password);
	c->token = rs_strdup(token);
	c->identity_token = rs_strdup(identity_token);
	c->source = rs_strdup(source);
	if ((username && !c->username) || (password && !c->password) || (token && !c->token) ||
	    (identity_token && !c->identity_token) || (source && !c->source)) {
		rs_credentials_free(c);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rs_secret_register(c->password);
	rs_secret_register(c->token);
	rs_secret_register(c->identity_token);
	*out = c;
	return 0;
}

/* ---- registry names ------------------------------------------------------ */

static int is_docker_hub(const char *host)
{
	return strcmp(host, "docker.io") == 0 || strcmp(host, "index.docker.io") == 0 ||
	       strcmp(host, "registry-1.docker.io") == 0;
}

/* docker's ConvertToHostname: the host and port of a registry address,
 * with or without a scheme and a path ("https://r:5000/v1/", "r:5000"),
 * read with libcurl's URL parser and lower-cased (host names are
 * case-insensitive); NULL when it names no host. */
static char *convert_to_hostname(const char *text)
{
	struct rs_url u;
	char *host = NULL;

	if (rs_url_parse(&u, text, RS_URL_DEFAULT_HTTPS) < 0) {
		rs_error_clear();
		return NULL;
	}
	if (u.explicit_port) {
		if (asprintf(&host, "%s:%d", u.host, u.port) < 0)
			host = NULL;
	} else {
		host = strdup(u.host);
	}
	rs_url_release(&u);
	return host;
}

int rs_registry_hostname(char **out, const char *registry)
{
	char *host;

	*out = NULL;
	host = convert_to_hostname(registry ? registry : "");
	if (!host)
		return rs_error_set(RS_EUSAGE, "no registry host in '%s'", registry ? registry : "");
	if (is_docker_hub(host)) {
		free(host);
		host = strdup(DOCKER_HUB_HOST);
		if (!host)
			return rs_error_set(RS_ERROR, "out of memory");
	}
	*out = host;
	return 0;
}

/* Does a config key ("https://r:5000/v1/", "r:5000", "R:5000") name `host`?
 * An explicit default port (443, 80) matches the bare host name. */
static int key_matches(const char *key, const char *host)
{
	char *k = convert_to_hostname(key);
	size_t klen, hlen;
	int match = 0;

	if (!k)
		return 0;
	if (is_docker_hub(k))
		match = strcmp(host, DOCKER_HUB_HOST) == 0;
	else if (strcmp(k, host) == 0)
		match = 1;
	else {
		klen = strlen(k);
		hlen = strlen(host);
		if (klen > hlen && strncmp(k, host, hlen) == 0)
			match = strcmp(k + hlen, ":443") == 0 || strcmp(k + hlen, ":80") == 0;
		else if (hlen > klen && strncmp(host, k, klen) == 0)
			match = strcmp(host + klen, ":443") == 0 || strcmp(host + klen, ":80") == 0;
	}
	free(k);
	return match;
}

/* The member of object `obj` whose key names `host`: an exact key first,
 * as docker does, then any key that converts to the same host name. */
static const cJSON *find_entry(const cJSON *obj, const char *host, const char **key)
{
	const cJSON *item;

	*key = NULL;
	if (!cJSON_IsObject(obj))
		return NULL;
	item = cJSON_GetObjectItemCaseSensitive(obj, host);
	if (!item && strcmp(host, DOCKER_HUB_HOST) == 0)
		item = cJSON_GetObjectItemCaseSensitive(obj, DOCKER_HUB_KEY);
	if (item) {
		*key = item->string;
		return item;
	}
	cJSON_ArrayForEach(item, obj) {
		if (item->string && key_matches(item->string, host)) {
			*key = item->string;
			return item;
		}
	}
	return NULL;
}

/* ---- credential helpers -------------------------------------------------- */

static int valid_helper_name(const char *name)
{
	if (!name || !*name || strlen(name) > 100)
		return 0;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return 0;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Write `data` to a pipe whose reader may have gone, without dying of
 * SIGPIPE: block it around the write and swallow one we caused. */
static void write_quietly(int fd, const char *data, size_t len)
{
	sigset_t pipe_set, old, pending;
	int was_pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		data += n;
		len -= (size_t)n;
	}
	if (!was_pending) {
		struct timespec zero = {0, 0};

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Read what is there from `*fd` into `buf` (capped); closes it at EOF. */
static void drain(int *fd, struct rs_buf *buf, size_t cap)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	if (buf->len + (size_t)n <= cap)
		rs_buf_put(buf, chunk, (size_t)n);
}

static pid_t wait_child(pid_t pid, int *status)
{
	pid_t r;

	do
		r = waitpid(pid, status, 0);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Run `program get` with `input` on stdin; collect stdout and stderr.
 * *status is the wait status. */
static int run_helper(const char *program, const char *input, long timeout_ms,
		      struct rs_buf *out, struct rs_buf *err, int *status)
{
	int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1}, ex[2] = {-1, -1};
	int64_t deadline = now_ms() + timeout_ms;
	int exec_errno = 0, rc = 0;
	ssize_t n;
	pid_t pid;

	*status = 0;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 ||
	    pipe2(ex, O_CLOEXEC) < 0) {
		rc = rs_error_set(RS_ERROR, "cannot run '%s': %s", program, strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		rc = rs_error_set(RS_ERROR, "cannot run '%s': %s", program, strerror(errno));
		goto done;
	}
	if (pid == 0) {
		char *const argv[] = {(char *)program, (char *)"get", NULL};
		int saved;

		if (dup2(in[0], 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
			_exit(127);
		execvp(program, argv);
		saved = errno;
		if (write(ex[1], &saved, sizeof(saved)) < 0)
			_exit(127);
		_exit(127);
	}
	close_fd(&in[0]);
	close_fd(&o[1]);
	close_fd(&e[1]);
	close_fd(&ex[1]);
	/* the exec pipe closes on a successful exec, or carries its errno */
	do
		n = read(ex[0], &exec_errno, sizeof(exec_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(exec_errno)) {
		wait_child(pid, status);
		rc = rs_error_set(RS_ERROR, "cannot run '%s': %s", program,
				  exec_errno == ENOENT ? "not found on PATH" : strerror(exec_errno));
		goto done;
	}
	write_quietly(in[1], input, strlen(input));
	close_fd(&in[1]);
	while (o[0] >= 0 || e[0] >= 0) {
		struct pollfd fds[2];
		nfds_t nfds = 0;
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0) {
			kill(pid, SIGKILL);
			wait_child(pid, status);
			rc = rs_error_set(RS_ETIMEOUT, "credential helper '%s' did not answer within %ld ms",
					  program, timeout_ms);
			goto done;
		}
		if (o[0] >= 0)
			fds[nfds++] = (struct pollfd){o[0], POLLIN, 0};
		if (e[0] >= 0)
			fds[nfds++] = (struct pollfd){e[0], POLLIN, 0};
		r = poll(fds, nfds, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			wait_child(pid, status);
			rc = rs_error_set(RS_ERROR, "credential helper '%s': %s", program, strerror(errno));
			goto done;
		}
		for (nfds_t i = 0; r > 0 && i < nfds; i++) {
			if (!fds[i].revents)
				continue;
			if (fds[i].fd == o[0])
				drain(&o[0], out, HELPER_MAX_STDOUT);
			else
				drain(&e[0], err, HELPER_MAX_STDERR);
		}
	}
	/* both pipes closed: the helper is done or about to be */
	if (wait_child(pid, status) < 0)
		rc = rs_error_set(RS_ERROR, "credential helper '%s': %s", program, strerror(errno));
done:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&o[0]);
	close_fd(&o[1]);
	close_fd(&e[0]);
	close_fd(&e[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	return rc;
}

/* The first line of a helper's message, printable and short. */
static void first_line(char *dst, size_t size, const char *text)
{
	size_t n = 0;

	while (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')
		text++;
	while (text[n] && text[n] != '\n' && text[n] != '\r' && n + 1 < size) {
		dst[n] = isprint((unsigned char)text[n]) ? text[n] : '?';
		n++;
	}
	dst[n] = '\0';
}

int rs_credential_helper_get(struct rs_credentials **out, const char *name, const char *server,
			     long timeout_ms)
{
	struct rs_buf stdout_buf = RS_BUF_INIT, stderr_buf = RS_BUF_INIT, program = RS_BUF_INIT;
	char message[256], source[256];
	const char *user, *secret;
	cJSON *root = NULL;
	int rc, status = 0;

	*out = NULL;
	if (!valid_helper_name(name))
		return rs_error_set(RS_EUSAGE, "invalid credential helper name '%s'", name ? name : "");
	if (timeout_ms <= 0)
		timeout_ms = HELPER_DEFAULT_TIMEOUT_MS;
	rc = rs_buf_printf(&program, "docker-credential-%s", name);
	if (rc < 0)
		return rc;
	rc = run_helper(program.ptr, server, timeout_ms, &stdout_buf, &stderr_buf, &status);
	if (rc < 0)
		goto done;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		first_line(message, sizeof(message),
			   stdout_buf.len ? rs_buf_cstr(&stdout_buf) : rs_buf_cstr(&stderr_buf));
		if (strcasestr(message, "not found")) {
			rs_log(RS_LOG_DEBUG, "credential helper '%s' has nothing for '%s'", program.ptr,
			       server);
			goto done;
		}
		if (WIFEXITED(status))
			rc = rs_error_set(RS_ERROR, "credential helper '%s' failed (exit status %d)%s%s",
					  program.ptr, WEXITSTATUS(status), message[0] ? ": " : "",
					  message);
		else
			rc = rs_error_set(RS_ERROR, "credential helper '%s' was killed by signal %d",
					  program.ptr, WTERMSIG(status));
		goto done;
	}
	root = cJSON_ParseWithLength(rs_buf_cstr(&stdout_buf), stdout_buf.len);
	if (!cJSON_IsObject(root)) {
		rc = rs_error_set(RS_ERROR, "credential helper '%s' answered something that is not a "
				  "JSON object", program.ptr);
		goto done;
	}
	user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "Username"));
	secret = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "Secret"));
	rs_secret_register(secret);
	if (!secret || !*secret)
		goto done;   /* an empty answer: nothing stored */
	snprintf(source, sizeof(source), "docker credential helper '%s'", program.ptr);
	if (user && strcmp(user, "<token>") == 0)
		rc = creds_new(out, NULL, NULL, NULL, secret, source);
	else
		rc = creds_new(out, user && *user ? user : NULL, secret, NULL, NULL, source);
done:
	cJSON_Delete(root);
	if (stdout_buf.ptr)
		memset(stdout_buf.ptr, 0, stdout_buf.len);
	rs_buf_release(&stdout_buf);
	rs_buf_release(&stderr_buf);
	rs_buf_release(&program);
	return rc;
}

/* ---- config.json ---------------------------------------------------------- */

int rs_docker_config_path(char **out)
{
	const char *dir = getenv("DOCKER_CONFIG");
	struct rs_buf path = RS_BUF_INIT;
	int rc;

	*out = NULL;
	if (dir && *dir) {
		rc = rs_buf_printf(&path, "%s/config.json", dir);
	} else {
		const char *home = getenv("HOME");

		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());

			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return rs_error_set(RS_ERROR, "cannot find the home directory for the docker config");
		rc = rs_buf_printf(&path, "%s/.docker/config.json", home);
	}
	if (rc < 0)
		return rc;
	*out = rs_buf_detach(&path);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

/* Read the whole file; *out NULL when it does not exist. */
static int read_file(char **out, size_t *len, const char *path)
{
	int rc = rs_file_read(out, len, path, CONFIG_MAX_BYTES);

	if (rc == RS_ENOTFOUND)
		return 0;
	return rc < 0 ? rs_error_prefix("'%s': ", path) : 0;
}

/* Credentials from an `auths` entry; *out NULL when it holds none. */
static int from_auths_entry(struct rs_credentials **out, const cJSON *entry, const char *path,
			    const char *key)
{
	const char *auth = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "auth"));
	const char *user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "username"));
	const char *pass = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "password"));
	const char *identity =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "identitytoken"));
	const char *regtoken =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "registrytoken"));
	char *decoded = NULL, *colon = NULL, source[1024];
	size_t decoded_len = 0;
	int rc = 0;

	*out = NULL;
	rs_secret_register(pass);
	rs_secret_register(identity);
	rs_secret_register(regtoken);
	rs_secret_register(auth);
	snprintf(source, sizeof(source), "docker config '%s' (auths '%s')", path, key);
	if (auth && *auth) {
		if (rs_base64_decode(&decoded, &decoded_len, auth) < 0 ||
		    !(colon = strchr(decoded, ':'))) {
			rs_log(RS_LOG_WARN, "warning: ignoring the 'auth' of '%s' in '%s': not base64 of "
			       "user:password", key, path);
		} else {
			*colon = '\0';
			rs_secret_register(colon + 1);
			user = decoded;
			pass = colon + 1;
		}
	}
	if (identity && *identity)
		rc = creds_new(out, user && *user ? user : NULL, NULL, NULL, identity, source);
	else if (user && *user && pass && *pass)
		rc = creds_new(out, user, pass, NULL, NULL, source);
	else if (regtoken && *regtoken)
		rc = creds_new(out, NULL, NULL, regtoken, NULL, source);
	if (decoded)
		memset(decoded, 0, decoded_len);
	free(decoded);
	return rc;
}

/* Ask a helper; a helper that cannot be used is a warning, not a failure:
 * the auths entry or anonymous access may still do. */
static int from_helper(struct rs_credentials **out, const char *name, const char *why,
		       const char *server, const char *path, long timeout_ms)
{
	char source[1024];

	if (rs_credential_helper_get(out, name, server, timeout_ms) < 0) {
		rs_log(RS_LOG_WARN, "warning: %s (%s in '%s'); going on without it",
		       rs_error_message(), why, path);
		return 0;
	}
	if (!*out)
		return 0;
	snprintf(source, sizeof(source), "docker credential helper 'docker-credential-%s' (%s in '%s')",
		 name, why, path);
	free((*out)->source);
	(*out)->source = strdup(source);
	if (!(*out)->source) {
		rs_credentials_free(*out);
		*out = NULL;
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

int rs_docker_config_lookup(struct rs_credentials **out, const char *path, const char *registry,
			    long helper_timeout_ms)
{
	char *text = NULL, *host = NULL;
	const char *server, *key = NULL, *helper;
	const cJSON *entry;
	cJSON *root = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = rs_registry_hostname(&host, registry);
	if (rc < 0)
		return rc;
	rc = read_file(&text, &len, path);
	if (rc < 0) {
		rs_log(RS_LOG_WARN, "warning: ignoring the docker config: %s", rs_error_message());
		rc = 0;
		goto done;
	}
	if (!text)
		goto done;
	root = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(root)) {
		rs_log(RS_LOG_WARN, "warning: ignoring the docker config '%s': it is not valid JSON",
		       path);
		goto done;
	}
	/* docker hands helpers the host name, and Docker Hub's legacy URL */
	server = strcmp(host, DOCKER_HUB_HOST) == 0 ? DOCKER_HUB_KEY : host;
	entry = find_entry(cJSON_GetObjectItemCaseSensitive(root, "credHelpers"), host, &key);
	helper = cJSON_GetStringValue(entry);
	if (helper && *helper) {
		rc = from_helper(out, helper, "credHelpers", server, path, helper_timeout_ms);
	} else {
		helper = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "credsStore"));
		if (helper && *helper)
			rc = from_helper(out, helper, "credsStore", server, path, helper_timeout_ms);
	}
	if (rc < 0 || *out)
		goto done;
	entry = find_entry(cJSON_GetObjectItemCaseSensitive(root, "auths"), host, &key);
	if (entry)
		rc = from_auths_entry(out, entry, path, key);
done:
	cJSON_Delete(root);
	if (text)
		memset(text, 0, len);
	free(text);
	free(host);
	return rc;
}

/* ---- resolution ----------------------------------------------------------- */

int rs_credentials_resolve(struct rs_credentials **out, const struct rs_credentials_options *opts)
{
	char source[512], *path = NULL;
	int rc = 0;

	*out = NULL;
	if (opts->username && *opts->username && opts->password) {
		snprintf(source, sizeof(source), "user name '%s' and %s", opts->username,
			 opts->password_origin ? opts->password_origin : "a password");
		return creds_new(out, opts->username, opts->password, NULL, NULL, source);
	}
	if (opts->password && (!opts->username || !*opts->username))
		return rs_error_set(RS_EUSAGE, "a password was given (%s) but no user name: use -u NAME "
				    "or set REGSWEEP_USERNAME",
				    opts->password_origin ? opts->password_origin : "REGSWEEP_PASSWORD");
	if (opts->token && *opts->token)
		return creds_new(out, NULL, NULL, opts->token, NULL,
				 opts->token_origin ? opts->token_origin : "a pre-issued token");
	if (opts->username && *opts->username)
		return rs_error_set(RS_EUSAGE, "user name '%s' given without a password: set "
				    "REGSWEEP_PASSWORD, or use --password-file or --password-stdin",
				    opts->username);
	if (opts->docker_config) {
		path = strdup(opts->docker_config);
		rc = path ? 0 : rs_error_set(RS_ERROR, "out of memory");
	} else if (rs_docker_config_path(&path) < 0) {
		rs_log(RS_LOG_DEBUG, "no docker config: %s", rs_error_message());
		rc = 0;
	}
	if (rc == 0 && path && opts->registry)
		rc = rs_docker_config_lookup(out, path, opts->registry, opts->helper_timeout_ms);
	if (rc == 0 && !*out)
		rc = creds_new(out, NULL, NULL, NULL, NULL, "anonymous");
	free(path);
	return rc;
}
