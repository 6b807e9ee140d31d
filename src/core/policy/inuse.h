/* inuse.h: the images in use, so that the planner keeps them whatever the
 * rules say (`--in-use FILE`, `in_use: [FILE, ...]`).
 *
 * A list is image references separated by white space or new lines, as
 * these print them:
 *   kubectl get pods -A -o jsonpath='{..image}'     HOST/REPO:TAG, REPO:TAG
 *   kubectl get pods -A -o jsonpath='{..imageID}'   docker-pullable://HOST/REPO@sha256:...,
 *                                                   HOST/REPO@sha256:..., sha256:...
 *   docker ps -a --format '{{.Image}}'              HOST/REPO:TAG, image IDs
 * A reference is [HOST[:PORT]/]REPO[:TAG][@sha256:HEX], read as docker
 * reads it: the first component is a host when it holds a dot or a colon or
 * is "localhost", else the host is docker.io (and a one-component name is
 * under "library/"); a "docker-pullable://" or "docker://" prefix is
 * dropped. Image IDs (sha256:HEX, or 64 hexadecimal digits) name no
 * repository: they are counted and set aside. A '#' where a reference
 * could start comments out the rest of the line. Anything else is an error
 * naming the source and line: a list that cannot be read must stop the run,
 * not shrink what is kept. So must an empty list, which is more likely a
 * command that failed than a fleet with nothing running: a list with only
 * a comment says "nothing in use".
 *
 * Which references name this registry (rs_inuse_names_registry): the same
 * host (case does not matter) and port, where a reference without a port
 * names the scheme's default port (443 for https, 80 for http), as docker
 * reads "registry.example.com/app"; loopback names (localhost, 127.x.x.x,
 * ::1) all name each other, since keeping too much is the safe side.
 *
 * The set owns everything it holds; free it with rs_inuse_free().
 */
#ifndef RS_INUSE_H
#define RS_INUSE_H

#include "base/digest.h"
#include "base/map.h"

#include <stddef.h>

/* Longest reference accepted (docker's own limits are smaller). */
#define RS_INUSE_MAX_REF 1024

struct rs_image_ref {
	char *text;                 /* as read, prefix removed: for messages */
	char *host;                 /* "registry.example.com:5000", lower case; "docker.io" */
	char *repo;                 /* "team/app"; "library/nginx" on docker.io */
	char *tag;                  /* NULL when a digest is given (it is what runs); "latest"
				     * when neither is, as docker reads it */
	char digest[RS_DIGEST_MAX]; /* "" when none */
	const char *source;         /* the list it came from (the set owns it) */
	int line;                   /* its line there, from 1 */
};

struct rs_inuse {
	struct rs_image_ref *refs;  /* distinct references, in the order read */
	size_t nrefs;
	size_t cap;
	size_t image_ids;           /* distinct image IDs, which name no repository */
	char **sources;             /* names of the lists read */
	size_t nsources;
	struct rs_map seen;         /* reference or image ID text -> 1 */
};

/* An empty set; *out is the caller's. */
int rs_inuse_new(struct rs_inuse **out);
void rs_inuse_free(struct rs_inuse *set);

/* Add the references of one list, `len` bytes of `text` (need not end in
 * NUL), read from `source` ("pods.txt", "standard input"). Fails with
 * RS_EUSAGE and "SOURCE:LINE: ..." on anything that is not a reference,
 * and on a list that holds nothing at all; the set then holds what earlier
 * lists gave, and none of this one. */
int rs_inuse_parse(struct rs_inuse *set, const char *text, size_t len, const char *source);

/* Read the list in file `path` ("-": standard input) and add it. At most
 * 64 MiB. Fails with RS_EUSAGE when it cannot be read or parsed. */
int rs_inuse_read(struct rs_inuse *set, const char *path);

/* Parse one reference (no prefix, no white space) into *out, whose strings
 * are the caller's (rs_image_ref_release). Returns 0, 1 when `text` is an
 * image ID (nothing set), or RS_EUSAGE with a message saying what is wrong. */
int rs_image_ref_parse(struct rs_image_ref *out, const char *text);
void rs_image_ref_release(struct rs_image_ref *ref);

/* Does `ref` name the registry at `registry_url` ("https://host[:port]",
 * any path ignored)? */
int rs_inuse_names_registry(const struct rs_image_ref *ref, const char *registry_url);

/* The references of one registry, by repository, for the planner. */
struct rs_inuse_match {
	const struct rs_inuse *set;
	struct rs_map by_repo;      /* repository -> index of its first reference + 1 */
	size_t *next;               /* per reference: the next of its repository + 1, or 0 */
	unsigned char *here;        /* per reference: it names this registry */
	unsigned char *found;       /* per reference: set by the planner when it exists */
	size_t nhere;               /* references naming this registry */
	size_t nelsewhere;          /* references naming another */
};

/* Index the references of `set` (NULL: none) that name `registry_url`. */
int rs_inuse_match_init(struct rs_inuse_match *m, const struct rs_inuse *set,
			const char *registry_url);
void rs_inuse_match_release(struct rs_inuse_match *m);

/* The index of the first reference to `repo`, or (size_t)-1; then of the
 * next one after `i`. */
size_t rs_inuse_match_first(const struct rs_inuse_match *m, const char *repo);
size_t rs_inuse_match_next(const struct rs_inuse_match *m, size_t i);

#endif
