/* storage.h: the storage view, what the registry's storage really holds,
 * read behind one interface from whichever backend holds it: a local
 * directory, the registry host over SSH (one remote `find`, or SFTP where
 * the host's find cannot print what is needed), or an S3 bucket.
 *
 * The view is what the API cannot tell: every manifest revision of every
 * repository, tagged or not, with the time its link was written (untagged
 * history and its age), every tag with the time its link was last written
 * (push order) and, when asked, the digest it holds (--index-from-storage),
 * and the blob store's count and bytes (what really is on disk).
 *
 * The layout, under ROOT/docker/registry/v2/ (keys under the root on S3):
 *   repositories/NAME/_manifests/revisions/sha256/HEX/link   "sha256:HEX"
 *   repositories/NAME/_manifests/tags/TAG/current/link       "sha256:HEX"
 *   blobs/sha256/XX/HEX/data
 * NAME may have several components (a/b/c): a repository is a directory
 * that holds `_manifests`.
 *
 * One set of rules for every backend. Backends only report what they find;
 * the view (storage/view.c) decides, the same way for all of them:
 *   - a repository name outside the registry's grammar, a tag name outside
 *     it, an empty or malformed tag or revision link, a tag without its
 *     current link, a size that does not fit: the repository concerned is
 *     `incomplete` (nothing is deleted there) and the view keeps a message
 *     naming it (`problem`), so the run ends in part (exit 3); where no
 *     repository can be named, every repository is incomplete;
 *   - a missing root is RS_ENOTFOUND; a root that holds something but no
 *     docker/registry/v2 is RS_ENOTFOUND ("not a registry's storage"); an
 *     empty root (a registry that never had a push) is an empty view;
 *   - sizes are summed without overflow (pinned at INT64_MAX).
 * Nothing read from the storage is ever placed in a command.
 */
#ifndef RS_STORAGE_H
#define RS_STORAGE_H

#include "base/digest.h"
#include "base/fs.h"

#include <stddef.h>
#include <stdint.h>

struct rs_ssh;
struct rs_http_options;

/* What to read; each costs time on a big storage, so callers ask for what
 * they use. */
enum rs_storage_what {
	RS_STORAGE_MANIFESTS = 1 << 0,   /* revisions, with their link's time */
	RS_STORAGE_TAGS = 1 << 1,        /* tags, with their link's time */
	RS_STORAGE_TAG_LINKS = 1 << 2,   /* ...and the digest each tag's link holds */
	RS_STORAGE_BLOBS = 1 << 3        /* the blob store's count and bytes */
};

struct rs_stored_repo {
	char *name;                      /* owned; a valid repository name */
	unsigned incomplete;             /* something in it could not be trusted */
};

/* A manifest the storage lists (tagged or not), with when it was stored. */
struct rs_stored_manifest {
	const char *repo;                /* the view's copy of the name */
	char digest[RS_DIGEST_MAX];
	int64_t stored_at;               /* RS_TIME_UNKNOWN if not known */
};

/* A tag, with when its link was last written (its last push). */
struct rs_stored_tag {
	const char *repo;                /* the view's copy of the name */
	char *tag;                       /* owned */
	char digest[RS_DIGEST_MAX];      /* "" unless RS_STORAGE_TAG_LINKS */
	int64_t pushed_at;               /* RS_TIME_UNKNOWN if not known */
};

struct rs_storage_view {
	char *where;                     /* "'ROOT' on HOST" and the like, for messages */
	unsigned what;                   /* enum rs_storage_what: what was read */
	struct rs_stored_repo *repos;    /* sorted by name */
	size_t nrepos;
	struct rs_stored_manifest *manifests;   /* by repository, then digest */
	size_t nmanifests;
	struct rs_stored_tag *tags;      /* by repository, then tag */
	size_t ntags;
	int64_t blobs;                   /* -1 when not read */
	int64_t bytes;                   /* -1 when not read */
	char *problem;                   /* the first thing that made it partial, or NULL */
	size_t nproblems;
	uint64_t entries;                /* files, directories or keys looked at */
	uint64_t requests;               /* round trips to the backend (commands, requests) */
};

/* An open storage backend. */
struct rs_storage;

/* The filesystem driver's storage under `root` on this machine. */
int rs_storage_open_local(struct rs_storage **out, const char *root);

/* The filesystem driver's storage under `root` on the SSH host (borrowed;
 * it must outlive the storage): read with one remote `find` (GNU find), or
 * over SFTP when the host's find cannot (busybox) or `sftp` is set.
 * `timeout_ms` bounds each remote command (0: none). */
int rs_storage_open_ssh(struct rs_storage **out, struct rs_ssh *ssh, const char *root,
			int sftp, long timeout_ms);

/* The S3 driver's bucket (see storage/s3.h for its configuration): read
 * on a client of its own. */
struct rs_s3_config;
int rs_storage_open_s3(struct rs_storage **out, const struct rs_s3_config *cfg);

/* Where the storage is, as the user said: either its root, or the
 * registry's own config file (read on the SSH host when `ssh` is set,
 * else locally), which names the driver and its settings. */
struct rs_storage_location {
	const char *root;                /* --storage-root: the filesystem driver's root */
	const char *registry_config;     /* --registry-config; with ssh, NULL means
					  * /etc/docker/registry/config.yml */
	struct rs_ssh *ssh;              /* borrowed; NULL: this machine */
	long timeout_ms;                 /* each remote command */
	const struct rs_http_options *http;  /* borrowed: the S3 client's window, retries and
					      * timeouts (NULL: the transport's defaults) */
	const char *s3_endpoint;         /* --s3-endpoint: overrides the config's */
	const char *s3_region;           /* --s3-region */
	const char *s3_credentials;      /* --s3-credentials FILE */
};

#define RS_STORAGE_LOCATION_INIT { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }

/* Open the storage `loc` names. RS_EUSAGE (with what to add) when it names
 * none, or when the registry config cannot be read or names a driver
 * regsweep cannot read. */
int rs_storage_open(struct rs_storage **out, const struct rs_storage_location *loc);

/* "'ROOT' on HOST", "'/var/lib/registry' on this machine",
 * "s3://BUCKET/ROOT": lives as long as `st`. */
const char *rs_storage_describe(const struct rs_storage *st);

/* The driver's name: "filesystem" or "s3". */
const char *rs_storage_driver(const struct rs_storage *st);

/* Read `what` (enum rs_storage_what) into a view. *out is the caller's
 * (rs_storage_view_free). Returns 0 also when the view is partial (see
 * `problem`); an error when the storage could not be read at all. */
int rs_storage_read(struct rs_storage_view **out, struct rs_storage *st, unsigned what);

void rs_storage_free(struct rs_storage *st);
void rs_storage_view_free(struct rs_storage_view *view);

/* The repository `name` of the view, or NULL. */
const struct rs_stored_repo *rs_storage_view_repo(const struct rs_storage_view *view,
						 const char *name);

#endif
