/* s3cred.h: where the keys to the registry's bucket come from.
 *
 * In this order, the first that gives an access key and a secret key wins:
 *   1. the registry's own config (storage.s3.accesskey and secretkey, both
 *      set: the keys the registry itself uses);
 *   2. the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (both),
 *      with AWS_SESSION_TOKEN when set;
 *   3. the shared credentials file, AWS_SHARED_CREDENTIALS_FILE or
 *      ~/.aws/credentials, profile AWS_PROFILE or "default"
 *      (aws_access_key_id, aws_secret_access_key, aws_session_token);
 *   4. --s3-credentials FILE, a file in the same format (a file without a
 *      [section] is one profile).
 * A profile named by AWS_PROFILE that no file holds, and an --s3-credentials
 * file that cannot be read or holds no keys, are errors; no keys anywhere
 * is an error naming every place looked at. When a source before it wins,
 * an --s3-credentials file is left unused, and a warning says so.
 *
 * The secret key and the session token are registered with the log
 * redactor (base/log.h) as soon as they are read and wiped when released;
 * no message ever holds them, nor anything read from a credentials file.
 */
#ifndef RS_S3CRED_H
#define RS_S3CRED_H

struct rs_s3_credentials {
	char *access_key;           /* owned */
	char *secret_key;           /* owned; a secret */
	char *session_token;        /* owned; a secret; NULL when none */
	char source[512];           /* where they came from, for -v: "the registry config
				     * 'FILE'", "AWS_ACCESS_KEY_ID", ... */
};

struct rs_s3_credential_sources {
	/* from the registry config (NULL when absent) */
	const char *config_access_key;
	const char *config_secret_key;
	const char *config_session_token;
	const char *config_name;            /* the config file's name, for messages */
	/* the environment: NULL means getenv (tests give their own) */
	const char *(*env)(const char *name);
	const char *file;                   /* --s3-credentials, or NULL */
};

/* Find the credentials as above into `out` (the caller releases it, also
 * on failure). Returns 0, or RS_EUSAGE with a message. */
int rs_s3_credentials_resolve(struct rs_s3_credentials *out,
			      const struct rs_s3_credential_sources *src);

void rs_s3_credentials_release(struct rs_s3_credentials *creds);

/* Where credentials would come from, without reading the registry config:
 * for `regsweep config`. Fills `out` with a line such as
 * "AWS_ACCESS_KEY_ID (AKIA...), secret key ***" or "" when none. */
void rs_s3_credentials_describe(char *out, unsigned long outsize, const char *file,
				const char *(*env)(const char *name));

#endif
