/* s3cred.c: the S3 credentials, from the registry config, the environment,
 * the shared credentials file or --s3-credentials, in that order (see
 * s3cred.h). */
#include "storage/s3cred.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A credentials file bigger than this is not one. */
#define CREDENTIALS_FILE_MAX (256 * 1024)

static const char *env_get(const struct rs_s3_credential_sources *src, const char *name)
{
	const char *v = src->env ? src->env(name) : getenv(name);

	return v && *v ? v : NULL;
}

static void secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

void rs_s3_credentials_release(struct rs_s3_credentials *c)
{
	free(c->access_key);
	secret_free(c->secret_key);
	secret_free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
	c->source[0] = '\0';
}

/* Take copies of the three into `out`, registering the secrets. */
static int take(struct rs_s3_credentials *out, const char *access_key, const char *secret_key,
		const char *session_token)
{
	out->access_key = strdup(access_key);
	out->secret_key = strdup(secret_key);
	out->session_token = session_token && *session_token ? strdup(session_token) : NULL;
	if (!out->access_key || !out->secret_key || (session_token && *session_token &&
						     !out->session_token)) {
		rs_s3_credentials_release(out);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rs_secret_register(out->secret_key);
	rs_secret_register(out->session_token);
	return 0;
}

/* ------------------------------------------------------------ the file */

struct profile {
	char *access_key, *secret_key, *session_token;
	int found;                 /* the section exists */
};

static void profile_release(struct profile *p)
{
	free(p->access_key);
	secret_free(p->secret_key);
	secret_free(p->session_token);
	memset(p, 0, sizeof(*p));
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int set_value(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return rs_error_set(RS_ERROR, "out of memory");
	secret_free(*field);
	*field = copy;
	return 0;
}

/* The keys of section `name` in the INI `text` (modified: lines are cut).
 * Keys before any section belong to the section "" (a file of one
 * profile). "[profile NAME]" is NAME, as in ~/.aws/config. */
static int read_profile(struct profile *out, char *text, const char *name)
{
	int in = 1, rc = 0;
	char *line, *next;

	memset(out, 0, sizeof(*out));
	in = *name == '\0';
	out->found = in;
	for (line = text; rc == 0 && line; line = next) {
		char *eq, *key;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line = trim(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *close = strchr(line, ']'), *section;

			if (!close)
				continue;
			*close = '\0';
			section = trim(line + 1);
			if (strncmp(section, "profile ", 8) == 0)
				section = trim(section + 8);
			in = strcmp(section, name) == 0;
			out->found |= in;
			continue;
		}
		eq = strchr(line, '=');
		if (!in || !eq)
			continue;
		*eq = '\0';
		key = trim(line);
		if (strcasecmp(key, "aws_access_key_id") == 0)
			rc = set_value(&out->access_key, trim(eq + 1));
		else if (strcasecmp(key, "aws_secret_access_key") == 0)
			rc = set_value(&out->secret_key, trim(eq + 1));
		else if (strcasecmp(key, "aws_session_token") == 0 ||
			 strcasecmp(key, "aws_security_token") == 0)
			rc = set_value(&out->session_token, trim(eq + 1));
	}
	return rc;
}

/* Read profile `name` of the file `path` into `out`; RS_ENOTFOUND (no
 * message) when the file does not exist. */
static int read_file_profile(struct profile *out, const char *path, const char *name)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	FILE *fp;
	int rc;

	memset(out, 0, sizeof(*out));
	fp = fopen(path, "r");
	if (!fp && errno == ENOENT)
		return RS_ENOTFOUND;
	if (!fp)
		return rs_error_set(RS_EUSAGE, "cannot read the S3 credentials file '%s': %s", path,
				    strerror(errno));
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077))
		rs_log(RS_LOG_WARN, "warning: the S3 credentials file '%s' is readable by others: "
		       "chmod 600 it", path);
	text = calloc(1, CREDENTIALS_FILE_MAX + 1);
	if (!text) {
		fclose(fp);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	len = fread(text, 1, CREDENTIALS_FILE_MAX + 1, fp);
	fclose(fp);
	if (len > CREDENTIALS_FILE_MAX)
		rc = rs_error_set(RS_EUSAGE, "'%s' is too big to be an S3 credentials file", path);
	else if (memchr(text, '\0', len))
		rc = rs_error_set(RS_EUSAGE, "'%s' is not an S3 credentials file (binary)", path);
	else
		rc = read_profile(out, text, name);
	explicit_bzero(text, CREDENTIALS_FILE_MAX + 1);
	free(text);
	if (rc == 0) {
		rs_secret_register(out->secret_key);
		rs_secret_register(out->session_token);
	} else {
		profile_release(out);
	}
	return rc;
}

/* The profile's keys into `out` when it holds both. */
static int from_profile(struct rs_s3_credentials *out, struct profile *p)
{
	if (!p->access_key || !*p->access_key || !p->secret_key || !*p->secret_key)
		return 0;
	return take(out, p->access_key, p->secret_key, p->session_token);
}

/* ------------------------------------------------------------ sources */

static int from_shared_file(struct rs_s3_credentials *out,
			    const struct rs_s3_credential_sources *src)
{
	const char *profile_name = env_get(src, "AWS_PROFILE");
	const char *path = env_get(src, "AWS_SHARED_CREDENTIALS_FILE");
	const char *home = env_get(src, "HOME");
	char *default_path = NULL;
	struct profile p;
	int rc;

	if (!path && home) {
		if (asprintf(&default_path, "%s/.aws/credentials", home) < 0)
			return rs_error_set(RS_ERROR, "out of memory");
		path = default_path;
	}
	if (!path) {
		rc = profile_name ? rs_error_set(RS_EUSAGE, "AWS_PROFILE names the profile '%s' but "
						 "there is no credentials file (no HOME)",
						 profile_name) : 0;
		goto done;
	}
	rc = read_file_profile(&p, path, profile_name ? profile_name : "default");
	if (rc == RS_ENOTFOUND) {
		rc = 0;
		if (profile_name || env_get(src, "AWS_SHARED_CREDENTIALS_FILE"))
			rc = rs_error_set(RS_EUSAGE, "the S3 credentials file '%s' does not exist%s%s%s",
					  path, profile_name ? " (AWS_PROFILE is '" : "",
					  profile_name ? profile_name : "", profile_name ? "')" : "");
		goto done;
	}
	if (rc < 0)
		goto done;
	if (profile_name && !p.found)
		rc = rs_error_set(RS_EUSAGE, "AWS_PROFILE names the profile '%s', which '%s' does "
				  "not hold", profile_name, path);
	else if (profile_name && !(p.access_key && p.secret_key))
		rc = rs_error_set(RS_EUSAGE, "the profile '%s' of '%s' has no aws_access_key_id and "
				  "aws_secret_access_key", profile_name, path);
	else
		rc = from_profile(out, &p);
	if (rc == 0 && out->access_key)
		snprintf(out->source, sizeof(out->source), "the profile '%s' of '%s'",
			 profile_name ? profile_name : "default", path);
	profile_release(&p);
done:
	free(default_path);
	return rc;
}

static int from_option_file(struct rs_s3_credentials *out, const char *path,
			    const struct rs_s3_credential_sources *src)
{
	const char *profile_name = env_get(src, "AWS_PROFILE");
	struct profile p;
	int rc = read_file_profile(&p, path, profile_name ? profile_name : "default");

	if (rc == RS_ENOTFOUND)
		return rs_error_set(RS_EUSAGE, "the S3 credentials file '%s' (--s3-credentials) does "
				    "not exist", path);
	if (rc < 0)
		return rc;
	/* a file of one profile, without a [section] */
	if (!p.access_key && !p.secret_key) {
		profile_release(&p);
		rc = read_file_profile(&p, path, "");
		if (rc < 0)
			return rc;
	}
	rc = from_profile(out, &p);
	profile_release(&p);
	if (rc == 0 && !out->access_key)
		rc = rs_error_set(RS_EUSAGE, "the S3 credentials file '%s' (--s3-credentials) holds "
				  "no aws_access_key_id and aws_secret_access_key%s%s%s", path,
				  profile_name ? " for the profile '" : "",
				  profile_name ? profile_name : "", profile_name ? "'" : "");
	if (rc == 0)
		snprintf(out->source, sizeof(out->source), "--s3-credentials '%s'", path);
	return rc;
}

int rs_s3_credentials_resolve(struct rs_s3_credentials *out,
			      const struct rs_s3_credential_sources *src)
{
	const char *ak, *sk;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	/* 1. the keys the registry itself uses (distribution takes them only
	 * when both are set) */
	if (src->config_access_key && *src->config_access_key && src->config_secret_key &&
	    *src->config_secret_key) {
		rc = take(out, src->config_access_key, src->config_secret_key,
			  src->config_session_token);
		snprintf(out->source, sizeof(out->source), "the registry config '%s'",
			 src->config_name ? src->config_name : "");
		goto found;
	}
	/* 2. the environment */
	ak = env_get(src, "AWS_ACCESS_KEY_ID");
	sk = env_get(src, "AWS_SECRET_ACCESS_KEY");
	if (ak && sk) {
		rc = take(out, ak, sk, env_get(src, "AWS_SESSION_TOKEN"));
		snprintf(out->source, sizeof(out->source), "AWS_ACCESS_KEY_ID");
		goto found;
	}
	if (ak || sk)
		rs_log(RS_LOG_VERBOSE, "s3: %s is set without %s: not used",
		       ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		       ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	/* 3. the shared credentials file */
	rc = from_shared_file(out, src);
	if (rc < 0 || out->access_key)
		goto found;
	/* 4. --s3-credentials */
	if (src->file && *src->file) {
		rc = from_option_file(out, src->file, src);
		goto done;
	}
	rc = rs_error_set(RS_EUSAGE, "no S3 credentials: the registry config%s%s%s has no "
			  "accesskey and secretkey, and none are in AWS_ACCESS_KEY_ID and "
			  "AWS_SECRET_ACCESS_KEY, in ~/.aws/credentials (AWS_PROFILE, "
			  "AWS_SHARED_CREDENTIALS_FILE) or in a file given with --s3-credentials FILE",
			  src->config_name ? " '" : "", src->config_name ? src->config_name : "",
			  src->config_name ? "'" : "");
	goto done;
found:
	if (rc == 0 && src->file && *src->file)
		rs_log(RS_LOG_WARN, "warning: --s3-credentials '%s' is not used: the S3 credentials "
		       "come from %s, which goes first", src->file, out->source);
done:
	if (rc < 0)
		rs_s3_credentials_release(out);
	return rc;
}

void rs_s3_credentials_describe(char *out, unsigned long outsize, const char *file,
				const char *(*env)(const char *name))
{
	struct rs_s3_credential_sources src;
	struct rs_s3_credentials creds;
	enum rs_log_level level = rs_log_get_level();

	memset(&src, 0, sizeof(src));
	src.env = env;
	src.file = file;
	out[0] = '\0';
	/* a description, not a use: its warnings and errors are not this
	 * command's */
	rs_log_set_level(RS_LOG_ERROR);
	rs_s3_credentials_resolve(&creds, &src);
	rs_log_set_level(level);
	if (creds.access_key)
		snprintf(out, outsize, "%s (access key %s), secret key ***%s", creds.source,
			 creds.access_key, creds.session_token ? ", session token ***" : "");
	rs_s3_credentials_release(&creds);
}
