/* settings.h: every user-settable knob, in one table.
 *
 * Each setting has one name used everywhere: the YAML key (`keep_last`), the
 * long option (`--keep-last`) and the environment variable
 * (`REGSWEEP_KEEP_LAST`). Sources are applied in order of strength:
 * defaults, then the config file, then the environment, then the command
 * line; rs_settings_set() records which source won so `regsweep config` can
 * say. A list setting (`in_use`) collects every value its strongest source
 * gives: `--in-use A --in-use B`, a YAML list, or the variable with the
 * values separated by colons (as KUBECONFIG is); a stronger source
 * replaces the values of a weaker one. Secrets (password, token, passphrases) are accepted from the
 * environment, files and the config file, never as command-line options, and
 * are always printed masked.
 */
#ifndef RS_SETTINGS_H
#define RS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

enum rs_setting_type {
	RS_SET_STRING,
	RS_SET_BOOL,
	RS_SET_INT,
	RS_SET_DURATION,  /* stored as seconds (int64_t) */
	RS_SET_LIST       /* repeatable, stored as struct rs_strlist (see rs_settings_set) */
};

enum rs_setting_flags {
	RS_SETF_SECRET = 1 << 0,   /* masked on output, never a CLI option */
	RS_SETF_NO_ENV = 1 << 1,   /* not read from the environment */
	RS_SETF_NO_FILE = 1 << 2,  /* not read from the config file */
	RS_SETF_URL = 1 << 3,      /* URLs that may hold secrets (webhooks): printed masked
				    * (rs_url_mask), secret parts given to the redactor */
	RS_SETF_PATHS = 1 << 4,    /* a list of paths: one item per value (a path may hold
				    * spaces), several separated by ':' in the environment */
	RS_SETF_NEGATABLE = 1 << 5 /* a boolean that is on by default: --no-NAME turns it off */
};

/* The value of a list setting: items in the order given; owned. */
struct rs_strlist {
	char **items;
	size_t count;
};

enum rs_setting_source {
	RS_SRC_DEFAULT = 0,
	RS_SRC_FILE,
	RS_SRC_ENV,
	RS_SRC_CLI
};

/* Room for every setting of the table (checked when settings.c builds). */
#define RS_SETTINGS_MAX 96

struct rs_settings {
	/* reaching the registry */
	char *registry;
	char *username;
	char *password;
	char *password_file;
	int password_stdin;
	char *token;
	char *token_file;
	char *cacert;
	char *cert;
	char *key;
	int insecure;
	int jobs;
	int rate;
	int64_t connect_timeout;
	int64_t timeout;
	int retries;
	int64_t deadline;          /* seconds from the start; 0: none */
	int page_size;
	/* output */
	int verbose;
	int quiet;
	int json;
	char *out;
	char *report;
	char *metrics;
	int per_repo;
	int progress;
	char *html;                /* the report as one self-contained page */
	struct rs_strlist notify;  /* webhook URLs told when a run ends */
	char *notify_on;           /* "always", "failure" or "change" */
	/* scanning */
	char *cache_dir;
	int no_cache;
	char *shard;
	int index_from_storage;
	/* policy given on the command line (one rule) */
	char *repos;
	char *tags;
	int keep_last;             /* -1: not set */
	int64_t keep_newer_than;   /* -1: not set */
	char *keep_tags;
	char *untagged;            /* "delete" or "keep" */
	int64_t untagged_grace;
	char *order;               /* "created", "pushed" or "version"; NULL: not set */
	struct rs_strlist in_use;  /* lists of images in use ("-": standard input) */
	int untag;                 /* remove a dropped tag whose digest stays (default 1) */
	/* apply / restore */
	char *backup_dir;
	int dry_run;
	/* SSH and garbage collection */
	char *ssh;
	char *ssh_known_hosts;
	int ssh_accept_new;
	char *ssh_key;
	char *ssh_passphrase;
	char *ssh_passphrase_file;
	char *ssh_password;
	int64_t ssh_timeout;
	int64_t command_timeout;
	char *before_gc;
	char *after_gc;
	char *gc_command;
	int delete_untagged;
	char *storage_root;
	char *registry_config;
	/* the storage on S3 (the registry config names the bucket) */
	char *s3_endpoint;
	char *s3_region;
	char *s3_credentials;
	/* the config file itself */
	char *config;

	enum rs_setting_source sources[RS_SETTINGS_MAX];   /* indexed like the table */
};

struct rs_setting_info {
	const char *name;        /* YAML key; the option is "--" + name with '_' -> '-' */
	const char *env;         /* environment variable, NULL if none */
	enum rs_setting_type type;
	size_t offset;           /* into struct rs_settings */
	unsigned flags;          /* enum rs_setting_flags */
	const char *arg;         /* argument name for help ("URL"), NULL for bools */
	const char *help;
};

/* The table, in help order, and its length. */
extern const struct rs_setting_info rs_setting_table[];
extern const size_t rs_setting_count;

/* Fill `s` with defaults. */
int rs_settings_init(struct rs_settings *s);

/* Free every string `s` owns; `s` may be reused after rs_settings_init. */
void rs_settings_release(struct rs_settings *s);

/* Index of the setting called `name` (YAML key or option form), -1 if none. */
int rs_settings_lookup(const char *name);

/* Set setting `index` from text, parsed by its type, recording `source`.
 * A weaker source never overrides a stronger one. Returns 0 or RS_EUSAGE
 * with a message naming the setting.
 * A list setting takes one or more items separated by white space per
 * call; calls from the same source append (`--notify A --notify B`, a YAML
 * list), a stronger source replaces what weaker ones gave, and an empty
 * value from a stronger source empties the list. */
int rs_settings_set(struct rs_settings *s, int index, const char *value,
		    enum rs_setting_source source);

/* Apply every REGSWEEP_* variable present in the environment. */
int rs_settings_load_env(struct rs_settings *s);

/* Read secrets from their files (password_file, token_file,
 * ssh_passphrase_file) and register every secret with the redactor, and
 * the secret parts of URL settings (RS_SETF_URL). */
int rs_settings_resolve_secrets(struct rs_settings *s);

/* Format setting `index` for display into `out`; secrets become "***" (or
 * "" when unset), URL settings are masked (rs_url_mask), and a list's
 * items are separated by spaces. Returns `out`. */
char *rs_settings_format(const struct rs_settings *s, int index, char *out, size_t outsize);

/* Name of a source ("default", "config file", "environment", "command line"). */
const char *rs_settings_source_name(enum rs_setting_source source);

/* Read the first line of `path` (a secret file) into *out, without the
 * trailing newline; *out is the caller's. */
int rs_read_secret_file(char **out, const char *path);

#endif
