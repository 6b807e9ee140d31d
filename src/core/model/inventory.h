/* inventory.h: what a scan found in a registry, the graph the planner reads.
 *
 * An inventory holds repositories; a repository holds its tags (name ->
 * digest) and the manifests it stores, indexed by digest. A manifest is
 * recorded once per repository that holds it, as the registry stores a link
 * in each. Everything hangs off the inventory and is freed with it: getters
 * return borrowed pointers valid until rs_inventory_free().
 */
#ifndef RS_INVENTORY_H
#define RS_INVENTORY_H

#include "base/digest.h"
#include "base/map.h"

#include <stddef.h>
#include <stdint.h>

enum rs_media_type {
	RS_MT_UNKNOWN = 0,
	RS_MT_DOCKER_MANIFEST,   /* application/vnd.docker.distribution.manifest.v2+json */
	RS_MT_DOCKER_LIST,       /* application/vnd.docker.distribution.manifest.list.v2+json */
	RS_MT_OCI_MANIFEST,      /* application/vnd.oci.image.manifest.v1+json */
	RS_MT_OCI_INDEX,         /* application/vnd.oci.image.index.v1+json */
	RS_MT_DOCKER_SCHEMA1     /* legacy, listed but never parsed for children */
};

#define RS_MT_STR_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RS_MT_STR_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RS_MT_STR_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RS_MT_STR_OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* Is this an index / manifest list (has children, no config)? */
int rs_media_type_is_index(enum rs_media_type type);
enum rs_media_type rs_media_type_from_string(const char *str);
const char *rs_media_type_name(enum rs_media_type type);
/* A copy of a media type for a descriptor or manifest to own: common types
 * are shared, not copied; release it with rs_media_type_free only. NULL for
 * NULL or when out of memory. */
char *rs_media_type_dup(const char *str);
void rs_media_type_free(char *str);

struct rs_descriptor {
	char digest[RS_DIGEST_MAX];
	char *media_type;        /* owned (rs_media_type_dup); may be NULL */
	int64_t size;
	char *platform;          /* index children: "linux/amd64"; owned, may be NULL */
};

enum rs_manifest_flags {
	RS_MF_FETCHED = 1 << 0,       /* body read and verified against its digest */
	RS_MF_FETCH_FAILED = 1 << 1,  /* a read failed: never delete on its strength */
	RS_MF_FROM_STORAGE = 1 << 2,  /* listed by the storage view (tagged or not) */
	RS_MF_CONFIG_READ = 1 << 3,   /* config blob read, `created` is final */
	RS_MF_CACHED = 1 << 4         /* body came from the local cache */
};

struct rs_manifest {
	char digest[RS_DIGEST_MAX];
	enum rs_media_type type;
	char *media_type;              /* as served or declared; owned (rs_media_type_dup),
					* may be NULL */
	int64_t size;                  /* bytes of the manifest itself */
	struct rs_descriptor config;   /* image manifests; digest "" if none */
	struct rs_descriptor *layers;  /* image manifests */
	size_t nlayers;
	struct rs_descriptor *children; /* index / manifest list entries */
	size_t nchildren;
	char *subject;                 /* OCI 1.1 referrer subject, "" if none: never NULL,
					* set with rs_manifest_set_subject */
	char *artifact_type;           /* owned, may be NULL */
	int64_t created;               /* image creation time, RS_TIME_UNKNOWN if not known */
	int64_t stored_at;             /* when the registry stored it, RS_TIME_UNKNOWN if not known */
	unsigned flags;                /* enum rs_manifest_flags */
};

struct rs_tag {
	char *name;                    /* owned */
	char digest[RS_DIGEST_MAX];    /* "" when the tag could not be resolved */
	int64_t pushed_at;             /* when the tag was last pushed (its storage link's
					* time), RS_TIME_UNKNOWN if not known */
};

struct rs_repo {
	char *name;                    /* owned */
	struct rs_tag *tags;
	size_t ntags;
	size_t tags_cap;
	struct rs_manifest **manifests; /* owned */
	size_t nmanifests;
	size_t manifests_cap;
	struct rs_map by_digest;       /* digest -> struct rs_manifest * */
	unsigned failed;               /* a listing or read in this repo failed */
	char *failure;                 /* the first of those failures, or NULL; owned */
};

struct rs_inventory {
	char *registry;                /* base URL; owned */
	int64_t scanned_at;            /* Unix seconds when the scan began */
	struct rs_repo **repos;        /* owned, in catalog order */
	size_t nrepos;
	size_t repos_cap;
	struct rs_map by_name;         /* name -> struct rs_repo * */
	unsigned from_storage;         /* untagged manifests were listed from storage */
	unsigned tag_times;            /* the storage view gave tags their pushed_at (tags it
					* did not list keep RS_TIME_UNKNOWN) */
};

/* Create an empty inventory for `registry`; *out is the caller's. */
int rs_inventory_new(struct rs_inventory **out, const char *registry);
void rs_inventory_free(struct rs_inventory *inv);

/* Find or add a repository by name; the result is owned by `inv`. */
int rs_inventory_add_repo(struct rs_repo **out, struct rs_inventory *inv, const char *name);
struct rs_repo *rs_inventory_find_repo(const struct rs_inventory *inv, const char *name);

/* Free a repository's tags and manifests, keeping its name and state. */
void rs_repo_clear(struct rs_repo *repo);

/* Mark the repository failed (nothing is deleted there); the first
 * `why` given is kept as its failure. */
void rs_repo_set_failed(struct rs_repo *repo, const char *why);

/* Add a tag (digest may be "" while unresolved; push time unknown); returns
 * the new tag, valid until the next tag is added. */
int rs_repo_add_tag(struct rs_tag **out, struct rs_repo *repo, const char *name, const char *digest);
struct rs_tag *rs_repo_find_tag(const struct rs_repo *repo, const char *name);

/* Add `m` to `repo`, which takes ownership of it (also on failure). A digest
 * already present is an error: look up first. */
int rs_repo_add_manifest(struct rs_repo *repo, struct rs_manifest *m);
struct rs_manifest *rs_repo_find_manifest(const struct rs_repo *repo, const char *digest);

/* Sort repositories by name and each repository's tags by name, so output
 * does not depend on the order responses arrived in. */
void rs_inventory_sort(struct rs_inventory *inv);

/* A new, zeroed manifest with `digest`; times unknown. */
int rs_manifest_new(struct rs_manifest **out, const char *digest);
/* Deep copy (for a manifest seen in several repositories). */
int rs_manifest_dup(struct rs_manifest **out, const struct rs_manifest *m);
void rs_manifest_free(struct rs_manifest *m);

/* Set m->subject to a copy of `digest` ("" or NULL for none). */
int rs_manifest_set_subject(struct rs_manifest *m, const char *digest);

#endif
