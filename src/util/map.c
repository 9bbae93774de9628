/* String-keyed open-addressing hash map (FNV-1a, linear probing). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static size_t hash_string(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void sg_map_init(sg_map *map) { memset(map, 0, sizeof *map); }

void sg_map_clear(sg_map *map)
{
    sg_free(map->keys);
    sg_free(map->hashes);
    sg_free(map->values);
    sg_map_init(map);
}

static size_t find_slot(const char **keys, const size_t *hashes, size_t cap, const char *key,
                        size_t h)
{
    size_t i = h & (cap - 1);
    while (keys[i] && (hashes[i] != h || strcmp(keys[i], key) != 0))
        i = (i + 1) & (cap - 1);
    return i;
}

static int rehash(sg_map *map, size_t cap)
{
    const char **keys = sg_calloc(cap, sizeof *keys);
    size_t *hashes = sg_calloc(cap, sizeof *hashes);
    int *values = sg_calloc(cap, sizeof *values);
    if (!keys || !hashes || !values) {
        sg_free(keys);
        sg_free(hashes);
        sg_free(values);
        return -1;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (map->keys[i]) {
            size_t j = find_slot(keys, hashes, cap, map->keys[i], map->hashes[i]);
            keys[j] = map->keys[i];
            hashes[j] = map->hashes[i];
            values[j] = map->values[i];
        }
    }
    sg_free(map->keys);
    sg_free(map->hashes);
    sg_free(map->values);
    map->keys = keys;
    map->hashes = hashes;
    map->values = values;
    map->cap = cap;
    return 0;
}

int sg_map_put(sg_map *map, const char *key, int value)
{
    if ((map->count + 1) * 2 > map->cap && rehash(map, map->cap ? map->cap * 2 : 16) != 0)
        return -1;
    size_t h = hash_string(key);
    size_t i = find_slot(map->keys, map->hashes, map->cap, key, h);
    if (map->keys[i])
        return 1;
    map->keys[i] = key;
    map->hashes[i] = h;
    map->values[i] = value;
    map->count++;
    return 0;
}

int sg_map_get(const sg_map *map, const char *key)
{
    if (map->cap == 0)
        return -1;
    size_t i = find_slot(map->keys, map->hashes, map->cap, key, hash_string(key));
    return map->keys[i] ? map->values[i] : -1;
}

int sg_parse_double(const char *text, double *out)
{
    char *end;
    if (!text || !*text)
        return -1;
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0' || end == text || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int sg_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    if (!text || !*text)
        return -1;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
