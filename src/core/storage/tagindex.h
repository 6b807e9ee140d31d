/* tagindex.h: every tag's digest read straight from the registry's storage
 * (`_manifests/tags/TAG/current/link` of each repository), in one pass over
 * the filesystem interface of storage.h (SFTP or local), instead of one HTTP
 * request per tag. --index-from-storage uses it; the manifests themselves
 * are still read (or taken from the cache) through the API, by digest.
 *
 * Names read from the storage are checked against the distribution grammar
 * before they are used; a link that does not hold a valid digest makes its
 * repository "failed" (nothing is deleted there).
 */
#ifndef RS_TAGINDEX_H
#define RS_TAGINDEX_H

#include "base/digest.h"
#include "storage/storage.h"

#include <stddef.h>

struct rs_stored_tag {
	size_t repo;                   /* index into the index's repos[] */
	char *tag;                     /* owned */
	char digest[RS_DIGEST_MAX];
};

struct rs_tag_index {
	char **repos;                  /* owned names */
	unsigned char *failed;         /* per repository: a link could not be read */
	size_t nrepos;
	struct rs_stored_tag *tags;
	size_t ntags;
	uint64_t files_read;
};

/* Read the tags of every repository under `root`, link by link through
 * `fs`. *out is the caller's. */
int rs_tag_index_read(struct rs_tag_index **out, const struct rs_fs *fs, const char *root);

struct rs_ssh;

/* The same in one remote pass: a single `find ... -exec grep` on the host
 * prints every repository and every tag link, so the cost is one command,
 * not a round trip per file. Only `root` (the user's setting, quoted) goes
 * into the command; what comes back is parsed and checked, never run. */
int rs_tag_index_read_remote(struct rs_tag_index **out, struct rs_ssh *ssh, const char *root,
			     long timeout_ms);
void rs_tag_index_free(struct rs_tag_index *index);

#endif
