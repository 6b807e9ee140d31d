/* settings.c: the settings table and the rules for applying sources. */
#include "config/settings.h"
#include "base/error.h"
#include "net/url.h"
#include "base/log.h"
#include "base/util.h"
#include "net/http.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF(field) offsetof(struct rs_settings, field)
#define S(name, env, type, flags, arg, help) \
	{ #name, env, type, OFF(name), flags, arg, help }

const struct rs_setting_info rs_setting_table[] = {
	S(registry, "REGSWEEP_REGISTRY", RS_SET_STRING, 0, "URL",
	  "registry base URL, e.g. https://registry.example.com"),
	S(username, "REGSWEEP_USERNAME", RS_SET_STRING, 0, "NAME", "user name for basic or token auth"),
	S(password, "REGSWEEP_PASSWORD", RS_SET_STRING, RS_SETF_SECRET, NULL,
	  "password (environment or config file only)"),
	S(password_file, "REGSWEEP_PASSWORD_FILE", RS_SET_STRING, 0, "FILE", "read the password from FILE"),
	S(password_stdin, NULL, RS_SET_BOOL, RS_SETF_NO_ENV | RS_SETF_NO_FILE, NULL,
	  "read the password from standard input"),
	S(token, "REGSWEEP_TOKEN", RS_SET_STRING, RS_SETF_SECRET, NULL,
	  "pre-issued bearer token (environment or config file only)"),
	S(token_file, "REGSWEEP_TOKEN_FILE", RS_SET_STRING, 0, "FILE", "read a pre-issued bearer token from FILE"),
	S(cacert, "REGSWEEP_CACERT", RS_SET_STRING, 0, "FILE", "trust this CA bundle for https"),
	S(cert, "REGSWEEP_CERT", RS_SET_STRING, 0, "FILE", "client certificate for mutual TLS"),
	S(key, "REGSWEEP_KEY", RS_SET_STRING, 0, "FILE", "client key for mutual TLS"),
	S(insecure, "REGSWEEP_INSECURE", RS_SET_BOOL, 0, NULL, "do not verify TLS certificates (dangerous)"),
	S(jobs, "REGSWEEP_JOBS", RS_SET_INT, 0, "N", "requests in flight (default 8)"),
	S(rate, "REGSWEEP_RATE", RS_SET_INT, 0, "N", "at most N requests per second (default unlimited)"),
	S(connect_timeout, "REGSWEEP_CONNECT_TIMEOUT", RS_SET_DURATION, 0, "DURATION",
	  "give up connecting after DURATION (default 10s)"),
	S(timeout, "REGSWEEP_TIMEOUT", RS_SET_DURATION, 0, "DURATION",
	  "give up on a stalled transfer after DURATION (default 30s)"),
	S(retries, "REGSWEEP_RETRIES", RS_SET_INT, 0, "N",
	  "retry transient failures N times (default 4)"),
	S(deadline, "REGSWEEP_DEADLINE", RS_SET_DURATION, 0, "DURATION",
	  "stop starting new work DURATION after the start; exit 3 with the report"),
	S(page_size, "REGSWEEP_PAGE_SIZE", RS_SET_INT, 0, "N",
	  "entries per catalog and tag-list page, 1 to 1000 (default 1000)"),
	S(verbose, "REGSWEEP_VERBOSE", RS_SET_INT, RS_SETF_NO_FILE, NULL, "more output (repeatable)"),
	S(quiet, "REGSWEEP_QUIET", RS_SET_BOOL, 0, NULL, "print errors only"),
	S(json, "REGSWEEP_JSON", RS_SET_BOOL, 0, NULL, "print JSON instead of text"),
	S(out, NULL, RS_SET_STRING, RS_SETF_NO_ENV | RS_SETF_NO_FILE, "FILE", "write the plan to FILE"),
	S(report, "REGSWEEP_REPORT", RS_SET_STRING, 0, "FILE", "write the JSON report to FILE"),
	S(metrics, "REGSWEEP_METRICS", RS_SET_STRING, 0, "FILE",
	  "write Prometheus text-format metrics to FILE"),
	S(per_repo, "REGSWEEP_PER_REPO", RS_SET_BOOL, 0, NULL, "show figures per repository"),
	S(progress, "REGSWEEP_PROGRESS", RS_SET_BOOL, RS_SETF_NO_FILE, NULL,
	  "show progress even when stderr is not a terminal"),
	S(html, "REGSWEEP_HTML", RS_SET_STRING, 0, "FILE",
	  "write the report as one self-contained HTML page to FILE"),
	S(notify, "REGSWEEP_NOTIFY", RS_SET_LIST, RS_SETF_URL, "URL",
	  "POST the outcome as JSON to URL when the run ends (repeatable)"),
	S(notify_on, "REGSWEEP_NOTIFY_ON", RS_SET_STRING, 0, "always|failure|change",
	  "when to notify (default always)"),
	S(cache_dir, "REGSWEEP_CACHE_DIR", RS_SET_STRING, 0, "DIR",
	  "manifest cache (default $XDG_CACHE_HOME/regsweep)"),
	S(no_cache, "REGSWEEP_NO_CACHE", RS_SET_BOOL, 0, NULL, "do not use the manifest cache"),
	S(shard, "REGSWEEP_SHARD", RS_SET_STRING, 0, "K/N", "take only share K of N of the repositories"),
	S(index_from_storage, "REGSWEEP_INDEX_FROM_STORAGE", RS_SET_BOOL, 0, NULL,
	  "read tags from the storage (over SSH, here, or in S3) instead of the API"),
	S(repos, "REGSWEEP_REPOS", RS_SET_STRING, 0, "PATTERN",
	  "command-line rule: repositories it applies to (glob or regex:...)"),
	S(tags, "REGSWEEP_TAGS", RS_SET_STRING, 0, "PATTERN",
	  "command-line rule: tags it applies to (glob or regex:...)"),
	S(keep_last, "REGSWEEP_KEEP_LAST", RS_SET_INT, 0, "N", "command-line rule: keep the newest N tags"),
	S(keep_newer_than, "REGSWEEP_KEEP_NEWER_THAN", RS_SET_DURATION, 0, "DURATION",
	  "command-line rule: keep tags younger than DURATION"),
	S(keep_tags, "REGSWEEP_KEEP_TAGS", RS_SET_STRING, 0, "PATTERN",
	  "tags always kept (comma-separated globs or regex:...)"),
	S(untagged, "REGSWEEP_UNTAGGED", RS_SET_STRING, 0, "delete|keep",
	  "what to do with untagged manifests (default delete)"),
	S(untagged_grace, "REGSWEEP_UNTAGGED_GRACE", RS_SET_DURATION, 0, "DURATION",
	  "keep untagged manifests younger than DURATION (default 24h)"),
	S(order, "REGSWEEP_ORDER", RS_SET_STRING, 0, "ORDER",
	  "what keep_last calls newest: created, pushed or version (default created)"),
	S(in_use, "REGSWEEP_IN_USE", RS_SET_LIST, RS_SETF_PATHS, "FILE",
	  "keep the images FILE lists (kubectl, docker; - for stdin; repeatable)"),
	S(untag, "REGSWEEP_UNTAG", RS_SET_BOOL, RS_SETF_NEGATABLE, NULL,
	  "remove a dropped tag whose image stays, alone (default on; --no-untag keeps it)"),
	S(backup_dir, "REGSWEEP_BACKUP_DIR", RS_SET_STRING, 0, "DIR",
	  "where apply saves what it deletes (default ./regsweep-backup-TIME)"),
	S(dry_run, "REGSWEEP_DRY_RUN", RS_SET_BOOL, 0, NULL, "change nothing"),
	S(ssh, "REGSWEEP_SSH", RS_SET_STRING, 0, "[USER@]HOST[:PORT]", "the registry host, for GC and storage"),
	S(ssh_known_hosts, "REGSWEEP_SSH_KNOWN_HOSTS", RS_SET_STRING, 0, "FILE",
	  "known_hosts file (default ~/.ssh/known_hosts)"),
	S(ssh_accept_new, "REGSWEEP_SSH_ACCEPT_NEW", RS_SET_BOOL, 0, NULL,
	  "trust and record an unknown host key"),
	S(ssh_key, "REGSWEEP_SSH_KEY", RS_SET_STRING, 0, "FILE", "SSH private key"),
	S(ssh_passphrase, "REGSWEEP_SSH_PASSPHRASE", RS_SET_STRING, RS_SETF_SECRET, NULL,
	  "passphrase of the SSH key (environment or config file only)"),
	S(ssh_passphrase_file, "REGSWEEP_SSH_PASSPHRASE_FILE", RS_SET_STRING, 0, "FILE",
	  "read the SSH key passphrase from FILE"),
	S(ssh_password, "REGSWEEP_SSH_PASSWORD", RS_SET_STRING, RS_SETF_SECRET, NULL,
	  "SSH password (environment or config file only)"),
	S(ssh_timeout, "REGSWEEP_SSH_TIMEOUT", RS_SET_DURATION, 0, "DURATION",
	  "SSH connect timeout (default 10s)"),
	S(command_timeout, "REGSWEEP_COMMAND_TIMEOUT", RS_SET_DURATION, 0, "DURATION",
	  "limit for the remote GC script (default 2h)"),
	S(before_gc, "REGSWEEP_BEFORE_GC", RS_SET_STRING, 0, "CMD",
	  "remote command before GC (make the registry read-only or stop it)"),
	S(after_gc, "REGSWEEP_AFTER_GC", RS_SET_STRING, 0, "CMD",
	  "remote command after GC, run even if GC fails (restore and restart)"),
	S(gc_command, "REGSWEEP_GC_COMMAND", RS_SET_STRING, 0, "CMD",
	  "remote garbage-collect command"),
	S(delete_untagged, "REGSWEEP_DELETE_UNTAGGED", RS_SET_BOOL, 0, NULL,
	  "pass --delete-untagged to garbage-collect (unsafe on 2.x with indexes)"),
	S(storage_root, "REGSWEEP_STORAGE_ROOT", RS_SET_STRING, 0, "DIR",
	  "registry storage root directory on the host"),
	S(registry_config, "REGSWEEP_REGISTRY_CONFIG", RS_SET_STRING, 0, "FILE",
	  "registry config file on the host (to find the storage)"),
	S(s3_endpoint, "REGSWEEP_S3_ENDPOINT", RS_SET_STRING, 0, "URL",
	  "the S3 store's endpoint, instead of the registry config's regionendpoint"),
	S(s3_region, "REGSWEEP_S3_REGION", RS_SET_STRING, 0, "REGION",
	  "the S3 region, instead of the registry config's"),
	S(s3_credentials, "REGSWEEP_S3_CREDENTIALS", RS_SET_STRING, 0, "FILE",
	  "S3 keys (AWS credentials format) when neither the registry config, the "
	  "environment nor ~/.aws/credentials has them"),
	S(config, "REGSWEEP_CONFIG", RS_SET_STRING, RS_SETF_NO_FILE, "FILE", "regsweep YAML config file"),
};

const size_t rs_setting_count = sizeof(rs_setting_table) / sizeof(rs_setting_table[0]);
_Static_assert(sizeof(rs_setting_table) / sizeof(rs_setting_table[0]) <= RS_SETTINGS_MAX,
	       "struct rs_settings' sources[] must hold every setting");

#define FIELD(s, info, type) ((type *)((char *)(s) + (info)->offset))

int rs_settings_init(struct rs_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->jobs = 8;
	s->connect_timeout = 10;
	s->timeout = 30;
	s->retries = 4;
	s->page_size = 1000;
	s->keep_last = -1;
	s->keep_newer_than = -1;
	s->untagged_grace = 24 * 3600;
	s->untag = 1;
	s->ssh_timeout = 10;
	s->command_timeout = 2 * 3600;
	s->untagged = strdup("delete");
	s->gc_command = strdup("registry garbage-collect /etc/docker/registry/config.yml");
	s->notify_on = strdup("always");
	if (!s->untagged || !s->gc_command || !s->notify_on) {
		rs_settings_release(s);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

static void strlist_clear(struct rs_strlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int strlist_push(struct rs_strlist *list, const char *item, size_t len)
{
	char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));

	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	list->items = grown;
	if (!(list->items[list->count] = strndup(item, len)))
		return rs_error_set(RS_ERROR, "out of memory");
	list->count++;
	return 0;
}

void rs_settings_release(struct rs_settings *s)
{
	for (size_t i = 0; i < rs_setting_count; i++) {
		const struct rs_setting_info *info = &rs_setting_table[i];

		if (info->type == RS_SET_STRING) {
			char **field = FIELD(s, info, char *);

			free(*field);
			*field = NULL;
		} else if (info->type == RS_SET_LIST) {
			strlist_clear(FIELD(s, info, struct rs_strlist));
		}
	}
}

int rs_settings_lookup(const char *name)
{
	for (size_t i = 0; i < rs_setting_count; i++) {
		const char *a = rs_setting_table[i].name, *b = name;

		while (*a && *b && (*a == *b || (*a == '_' && *b == '-'))) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return (int)i;
	}
	return -1;
}

static int parse_bool(int *out, const char *value)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off", ""};

	for (size_t i = 0; i < 4; i++)
		if (strcasecmp(value, yes[i]) == 0)
			return *out = 1, 0;
	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(value, no[i]) == 0)
			return *out = 0, 0;
	return -1;
}

static int validate(const struct rs_setting_info *info, const char *value)
{
	if (strcmp(info->name, "page_size") == 0 &&
	    (atoi(value) < 1 || atoi(value) > 1000))
		return rs_error_set(RS_EUSAGE, "invalid value '%s' for 'page_size' (1 to 1000; "
				    "distribution refuses more than 1000)", value);
	if (strcmp(info->name, "untagged") == 0 && strcmp(value, "delete") != 0 &&
	    strcmp(value, "keep") != 0)
		return rs_error_set(RS_EUSAGE, "invalid value '%s' for 'untagged' (use delete or keep)",
				    value);
	if (strcmp(info->name, "notify_on") == 0 && strcmp(value, "always") != 0 &&
	    strcmp(value, "failure") != 0 && strcmp(value, "change") != 0)
		return rs_error_set(RS_EUSAGE, "invalid value '%s' for 'notify_on' (use always, "
				    "failure or change)", value);
	if (strcmp(info->name, "order") == 0 && strcmp(value, "created") != 0 &&
	    strcmp(value, "pushed") != 0 && strcmp(value, "version") != 0)
		return rs_error_set(RS_EUSAGE, "invalid value '%s' for 'order' (use created, pushed "
				    "or version)", value);
	if (info->type == RS_SET_LIST && (info->flags & RS_SETF_PATHS) && !*value)
		return rs_error_set(RS_EUSAGE, "empty value for '%s'", info->name);
	return 0;
}

/* One item of a URL list: http or https, and never shown unmasked. */
static int validate_url(const struct rs_setting_info *info, const char *url)
{
	char *masked = NULL;
	int rc = rs_url_mask(&masked, url);

	if (rc < 0)
		return rs_error_set(RS_EUSAGE, "invalid value for '%s': not a URL (not shown: it may "
				    "hold a secret)", info->name);
	if (strncmp(masked, "http://", 7) != 0 && strncmp(masked, "https://", 8) != 0)
		rc = rs_error_set(RS_EUSAGE, "invalid value '%s' for '%s': use an http:// or "
				  "https:// URL", masked, info->name);
	free(masked);
	return rc;
}

/* A list of paths: `value` is one path, or (from the environment) several
 * separated by colons, as PATH is. */
static int set_paths(struct rs_strlist *list, const char *value, enum rs_setting_source source)
{
	const char *p = value;
	int rc = 0;

	if (source != RS_SRC_ENV)
		return strlist_push(list, value, strlen(value));
	while (rc == 0 && *p) {
		size_t n = strcspn(p, ":");

		if (n)
			rc = strlist_push(list, p, n);
		p += n;
		if (*p == ':')
			p++;
	}
	return rc;
}

/* Append the items of `value` to a list setting (white-space separated, or
 * paths: set_paths); a stronger source than the last one starts the list
 * afresh. */
static int set_list(struct rs_settings *s, int index, const char *value,
		    enum rs_setting_source source)
{
	const struct rs_setting_info *info = &rs_setting_table[index];
	struct rs_strlist *list = FIELD(s, info, struct rs_strlist);
	const char *p = value;
	int rc = 0;

	if (info->flags & RS_SETF_PATHS) {
		if (s->sources[index] < source)
			strlist_clear(list);
		return set_paths(list, value, source);
	}
	/* check every item first, so a bad value leaves the list as it was */
	while (rc == 0 && *(p += strspn(p, " \t\r\n"))) {
		size_t n = strcspn(p, " \t\r\n");
		char *item = strndup(p, n);

		if (!item)
			return rs_error_set(RS_ERROR, "out of memory");
		if (info->flags & RS_SETF_URL)
			rc = validate_url(info, item);
		free(item);
		p += n;
	}
	if (rc < 0)
		return rc;
	if (s->sources[index] < source)
		strlist_clear(list);
	for (p = value; rc == 0 && *(p += strspn(p, " \t\r\n"));) {
		size_t n = strcspn(p, " \t\r\n");

		rc = strlist_push(list, p, n);
		p += n;
	}
	return rc;
}

int rs_settings_set(struct rs_settings *s, int index, const char *value,
		    enum rs_setting_source source)
{
	const struct rs_setting_info *info;
	char *end;
	long n;
	int rc;

	if (index < 0 || (size_t)index >= rs_setting_count)
		return rs_error_set(RS_EUSAGE, "unknown setting");
	info = &rs_setting_table[index];
	if (s->sources[index] > source)
		return 0;
	rc = validate(info, value);
	if (rc < 0)
		return rc;
	switch (info->type) {
	case RS_SET_STRING: {
		char **field = FIELD(s, info, char *);
		char *copy = strdup(value);

		if (!copy)
			return rs_error_set(RS_ERROR, "out of memory");
		free(*field);
		*field = copy;
		break;
	}
	case RS_SET_BOOL:
		if (parse_bool(FIELD(s, info, int), value) < 0)
			return rs_error_set(RS_EUSAGE, "invalid value '%s' for '%s' (use true or false)",
					    value, info->name);
		break;
	case RS_SET_INT:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end || n < 0 || n > INT_MAX)
			return rs_error_set(RS_EUSAGE, "invalid value '%s' for '%s' (want a number >= 0)",
					    value, info->name);
		*FIELD(s, info, int) = (int)n;
		break;
	case RS_SET_DURATION:
		rc = rs_duration_parse(FIELD(s, info, int64_t), value);
		if (rc < 0)
			return rs_error_prefix("'%s': ", info->name);
		break;
	case RS_SET_LIST:
		rc = set_list(s, index, value, source);
		if (rc < 0)
			return rc;
		break;
	}
	s->sources[index] = source;
	return 0;
}

int rs_settings_load_env(struct rs_settings *s)
{
	for (size_t i = 0; i < rs_setting_count; i++) {
		const struct rs_setting_info *info = &rs_setting_table[i];
		const char *value;
		int rc;

		if (!info->env || (info->flags & RS_SETF_NO_ENV))
			continue;
		value = getenv(info->env);
		if (!value)
			continue;
		rc = rs_settings_set(s, (int)i, value, RS_SRC_ENV);
		if (rc < 0)
			return rs_error_prefix("environment variable %s: ", info->env);
	}
	return 0;
}

int rs_read_secret_file(char **out, const char *path)
{
	char line[8192];
	FILE *fp;
	size_t n;

	*out = NULL;
	fp = fopen(path, "r");
	if (!fp)
		return rs_error_set(RS_EUSAGE, "cannot read '%s': %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), fp))
		line[0] = '\0';
	fclose(fp);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n)
		return rs_error_set(RS_EUSAGE, "'%s' is empty", path);
	*out = strdup(line);
	memset(line, 0, sizeof(line));
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	return 0;
}

static int secret_from_file(char **secret, const char *path)
{
	char *value;
	int rc;

	if (!path)
		return 0;
	rc = rs_read_secret_file(&value, path);
	if (rc < 0)
		return rc;
	free(*secret);
	*secret = value;
	return 0;
}

int rs_settings_resolve_secrets(struct rs_settings *s)
{
	int rc;

	if ((rc = secret_from_file(&s->password, s->password_file)) < 0 ||
	    (rc = secret_from_file(&s->token, s->token_file)) < 0 ||
	    (rc = secret_from_file(&s->ssh_passphrase, s->ssh_passphrase_file)) < 0)
		return rc;
	rs_secret_register(s->password);
	rs_secret_register(s->token);
	rs_secret_register(s->ssh_passphrase);
	rs_secret_register(s->ssh_password);
	for (size_t i = 0; i < rs_setting_count; i++) {
		const struct rs_setting_info *info = &rs_setting_table[i];
		const struct rs_strlist *list;

		if (info->type != RS_SET_LIST || !(info->flags & RS_SETF_URL))
			continue;
		list = FIELD(s, info, const struct rs_strlist);
		for (size_t j = 0; j < list->count; j++)
			rs_url_register_secrets(list->items[j]);   /* checked when set */
	}
	return 0;
}

/* A list for display: items separated by spaces, URLs masked. */
static void format_list(const struct rs_setting_info *info, const struct rs_strlist *list,
			char *out, size_t outsize)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < list->count && used < outsize; i++) {
		char *masked = NULL;
		const char *shown = list->items[i];
		int n;

		if ((info->flags & RS_SETF_URL) && rs_url_mask(&masked, list->items[i]) < 0)
			shown = "***";
		else if (masked)
			shown = masked;
		n = snprintf(out + used, outsize - used, "%s%s", i ? (info->flags & RS_SETF_PATHS ?
								      ", " : " ") : "", shown);
		free(masked);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

char *rs_settings_format(const struct rs_settings *s, int index, char *out, size_t outsize)
{
	const struct rs_setting_info *info = &rs_setting_table[index];

	switch (info->type) {
	case RS_SET_STRING: {
		const char *v = *FIELD(s, info, char *const);

		if (info->flags & RS_SETF_SECRET)
			snprintf(out, outsize, "%s", v ? "***" : "");
		else
			snprintf(out, outsize, "%s", v ? v : "");
		break;
	}
	case RS_SET_BOOL:
		snprintf(out, outsize, "%s", *FIELD(s, info, const int) ? "true" : "false");
		break;
	case RS_SET_INT:
		if (*FIELD(s, info, const int) < 0)
			snprintf(out, outsize, "%s", "");
		else
			snprintf(out, outsize, "%d", *FIELD(s, info, const int));
		break;
	case RS_SET_DURATION:
		if (*FIELD(s, info, const int64_t) < 0)
			snprintf(out, outsize, "%s", "");
		else
			rs_duration_format(out, outsize, *FIELD(s, info, const int64_t));
		break;
	case RS_SET_LIST:
		format_list(info, FIELD(s, info, const struct rs_strlist), out, outsize);
		break;
	}
	return out;
}

const char *rs_settings_source_name(enum rs_setting_source source)
{
	switch (source) {
	case RS_SRC_DEFAULT: return "default";
	case RS_SRC_FILE: return "config file";
	case RS_SRC_ENV: return "environment";
	case RS_SRC_CLI: return "command line";
	}
	return "?";
}
