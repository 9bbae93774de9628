/* String-keyed open-addressing hash map (FNV-1a, linear probing). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static unsigned hash_string(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (unsigned)(h ^ (h >> 32));
}

void sg_map_init(sg_map *map) { memset(map, 0, sizeof *map); }

void sg_map_clear(sg_map *map)
{
    sg_free(map->entries);
    sg_map_init(map);
}

static size_t find_slot(const sg_map_entry *e, size_t cap, const char *key, unsigned h)
{
    size_t i = h & (cap - 1);
    while (e[i].key && (e[i].hash != h || strcmp(e[i].key, key) != 0))
        i = (i + 1) & (cap - 1);
    return i;
}

static int rehash(sg_map *map, size_t cap)
{
    sg_map_entry *entries = sg_calloc(cap, sizeof *entries);
    if (!entries)
        return -1;
    for (size_t i = 0; i < map->cap; i++) {
        if (map->entries[i].key) {
            size_t j = map->entries[i].hash & (cap - 1);
            while (entries[j].key)
                j = (j + 1) & (cap - 1);
            entries[j] = map->entries[i];
        }
    }
    sg_free(map->entries);
    map->entries = entries;
    map->cap = cap;
    return 0;
}

int sg_map_reserve(sg_map *map, size_t n)
{
    size_t cap = map->cap ? map->cap : 16;
    while (n * 2 > cap) {
        if (cap > ((size_t)1 << 40))
            return -1;
        cap *= 2;
    }
    return cap > map->cap ? rehash(map, cap) : 0;
}

int sg_map_put(sg_map *map, const char *key, int value)
{
    if ((map->count + 1) * 2 > map->cap && rehash(map, map->cap ? map->cap * 2 : 16) != 0)
        return -1;
    unsigned h = hash_string(key);
    size_t i = find_slot(map->entries, map->cap, key, h);
    sg_map_entry *e = &map->entries[i];
    if (e->key)
        return 1;
    e->key = key;
    e->hash = h;
    e->value = value;
    map->count++;
    return 0;
}

void sg_map_prefetch(const sg_map *map, const char *key)
{
    if (map->cap)
        __builtin_prefetch(&map->entries[hash_string(key) & (map->cap - 1)]);
}

int sg_map_get(const sg_map *map, const char *key)
{
    if (map->cap == 0)
        return -1;
    const sg_map_entry *e = &map->entries[find_slot(map->entries, map->cap, key,
                                                      hash_string(key))];
    return e->key ? e->value : -1;
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
