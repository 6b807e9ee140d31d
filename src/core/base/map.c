/* map.c: open-addressing string map. Deletion uses backward-shift so no
 * tombstones accumulate. */
#include "base/map.h"
#include "base/error.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

static size_t map_find(const struct rs_map *map, const char *key, int *found)
{
	size_t mask = map->cap - 1;
	size_t i = (size_t)rs_hash(key) & mask;

	while (map->slots[i].key) {
		if (strcmp(map->slots[i].key, key) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = 0;
	return i;
}

void *rs_map_get(const struct rs_map *map, const char *key)
{
	int found;
	size_t i;

	if (!map->cap)
		return NULL;
	i = map_find(map, key, &found);
	return found ? map->slots[i].value : NULL;
}

static int map_grow(struct rs_map *map)
{
	size_t cap = map->cap ? map->cap * 2 : 16;
	struct rs_map_entry *slots = calloc(cap, sizeof(*slots));
	struct rs_map old = *map;

	if (!slots)
		return rs_error_set(RS_ERROR, "out of memory");
	map->slots = slots;
	map->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		int found;
		size_t j;

		if (!old.slots[i].key)
			continue;
		j = map_find(map, old.slots[i].key, &found);
		map->slots[j] = old.slots[i];
	}
	free(old.slots);
	return 0;
}

int rs_map_put(struct rs_map *map, const char *key, void *value)
{
	int found, rc;
	size_t i;
	char *copy;

	if ((map->len + 1) * 4 > map->cap * 3) {
		rc = map_grow(map);
		if (rc < 0)
			return rc;
	}
	i = map_find(map, key, &found);
	if (found) {
		map->slots[i].value = value;
		return 0;
	}
	copy = map->borrow_keys ? (char *)key : strdup(key);
	if (!copy)
		return rs_error_set(RS_ERROR, "out of memory");
	map->slots[i].key = copy;
	map->slots[i].value = value;
	map->len++;
	return 0;
}

void *rs_map_remove(struct rs_map *map, const char *key)
{
	size_t mask, i, j;
	int found;
	void *value;

	if (!map->cap)
		return NULL;
	i = map_find(map, key, &found);
	if (!found)
		return NULL;
	value = map->slots[i].value;
	if (!map->borrow_keys)
		free(map->slots[i].key);
	map->slots[i].key = NULL;
	map->len--;
	mask = map->cap - 1;
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!map->slots[j].key)
			break;
		home = (size_t)rs_hash(map->slots[j].key) & mask;
		/* move j back to i if i lies cyclically in [home, j) */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			map->slots[i] = map->slots[j];
			map->slots[j].key = NULL;
			i = j;
		}
	}
	return value;
}

int rs_map_next(const struct rs_map *map, size_t *pos, const char **key, void **value)
{
	while (*pos < map->cap) {
		size_t i = (*pos)++;

		if (map->slots[i].key) {
			if (key)
				*key = map->slots[i].key;
			if (value)
				*value = map->slots[i].value;
			return 1;
		}
	}
	return 0;
}

void rs_map_release(struct rs_map *map)
{
	if (!map->borrow_keys)
		for (size_t i = 0; i < map->cap; i++)
			free(map->slots[i].key);
	free(map->slots);
	map->slots = NULL;
	map->cap = 0;
	map->len = 0;
}
