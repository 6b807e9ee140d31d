/* url.h: URLs, through libcurl's URL API (CURLU): parsing, the origin
 * (scheme, host and port) that decides whether a link or redirect stays on
 * the registry, resolving a reference against a base, and taking the user
 * name and password out of a URL before it is shown or stored. Part of the
 * transport (only net/ includes libcurl). */
#ifndef RS_URL_H
#define RS_URL_H

#include <stddef.h>

struct rs_url {
	char *scheme;          /* lower case */
	char *host;            /* as libcurl gives it (IPv6 in brackets), lower case */
	int port;              /* explicit, or the scheme's default (-1 when none is known) */
	int explicit_port;     /* the URL names its port */
	char *path;            /* "/" at least */
	char *query;           /* without '?', or NULL */
	int has_userinfo;      /* a user name or password is in the URL */
};

enum rs_url_flags {
	RS_URL_DEFAULT_HTTPS = 1 << 0   /* "host:port/path" is read as https:// */
};

/* Parse `text` into `out` (release with rs_url_release). RS_EUSAGE naming the
 * text (with any user name and password left out) when it is not a URL. */
int rs_url_parse(struct rs_url *out, const char *text, unsigned flags);
void rs_url_release(struct rs_url *url);

/* "scheme://host:port" of `url`, the port always written; *out is the
 * caller's. */
int rs_url_origin(char **out, const char *url);

/* `ref` (absolute, or relative to `base`) as an absolute URL; *out is the
 * caller's. RS_EPROTO when either cannot be read. */
int rs_url_resolve(char **out, const char *base, const char *ref);

/* `url` without its user name and password, into `out` (truncated to
 * `outsize`); what cannot be parsed comes back as "(an unreadable URL)", so
 * that nothing secret is ever shown. Returns `out`. */
char *rs_url_strip_userinfo(char *out, size_t outsize, const char *url);

/* The path and query of `url` ("/v2/x?n=1"), for log lines; *out is the
 * caller's. */
int rs_url_path_query(char **out, const char *url);

/* `url` for people: "scheme://host[:port]", with "user:***@" (or "***@"
 * for a user name alone, which is often a token) when it carries
 * credentials, and a path of three stars after the host when it has any
 * path or query beyond "/" (webhook URLs carry their secret there).
 * *out is the caller's. An unparseable URL is RS_EUSAGE, and the message
 * does not show it. */
int rs_url_mask(char **out, const char *url);

/* Register the parts of `url` that may be secret with the log redactor
 * (base/log.h): the password, a user name given without a password, the
 * path and the query, as written and percent-decoded. Parts shorter than
 * RS_SECRET_MIN_MASK are not registered (the redactor ignores them).
 * Returns 0, or RS_EUSAGE for an unparseable URL (message without it). */
int rs_url_register_secrets(const char *url);

#endif
