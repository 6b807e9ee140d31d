/* map.h: a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied and owned by the map, unless the map borrows them
 * (`borrow_keys`, for keys that live inside the values, such as a
 * manifest's digest: saves a copy per entry); values are borrowed pointers
 * the caller owns (the map never frees them). Used to index manifests by digest,
 * repositories by name and the like.
 */
#ifndef RS_MAP_H
#define RS_MAP_H

#include <stddef.h>

struct rs_map_entry {
	char *key;
	void *value;
};

struct rs_map {
	struct rs_map_entry *slots;
	size_t cap;   /* power of two, or 0 */
	size_t len;
	int borrow_keys;   /* keys are the caller's and outlive their entries */
};

#define RS_MAP_INIT { NULL, 0, 0, 0 }
#define RS_MAP_INIT_BORROWED { NULL, 0, 0, 1 }

/* Look `key` up; NULL when absent. */
void *rs_map_get(const struct rs_map *map, const char *key);

/* Insert or replace; returns 0 or RS_ERROR (out of memory). */
int rs_map_put(struct rs_map *map, const char *key, void *value);

/* Remove `key` if present; returns the value it held or NULL. */
void *rs_map_remove(struct rs_map *map, const char *key);

/* Iterate: start with *pos = 0; returns 0 at the end. */
int rs_map_next(const struct rs_map *map, size_t *pos, const char **key, void **value);

/* Free the keys and slots (not the values). */
void rs_map_release(struct rs_map *map);

#endif
