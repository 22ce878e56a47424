/*
 * Typed value trees: constructor arguments and parsed configs. Maps are
 * ordered arrays; configs have tens of keys, for which a linear scan is the
 * fastest lookup, but a hostile file may hold hundreds of thousands, so a
 * map past MAP_INDEX_MIN entries also keeps a hash index (open addressing
 * over entry positions), built when it grows and never by a lookup, so that
 * reading stays free of allocation. Each entry remembers whether anybody
 * read it, which is how unused constructor arguments are found.
 */
#include "core/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

struct tc_map_entry {
    char *key;
    terracl_value *value;
    /* Set by lookups through const pointers: the map is heap memory the
     * library owns, so the marks may change even when callers see it const. */
    int used;
};

struct terracl_value {
    terracl_value_type type;
    int line, column;
    union {
        int b;
        int64_t i;
        double f;
        char *s;
        struct {
            terracl_value **items;
            size_t n, cap;
        } list;
        struct {
            struct tc_map_entry *entries;
            size_t n, cap;
            /* Slots hold entry position + 1 (0 = empty); NULL below
             * MAP_INDEX_MIN entries. index_cap is a power of two. */
            size_t *index;
            size_t index_cap;
        } map;
    } u;
};

static terracl_value *value_alloc(terracl_value_type type)
{
    terracl_value *v = calloc(1, sizeof *v);
    if (v != NULL)
        v->type = type;
    return v;
}

terracl_value *terracl_value_new_null(void) { return value_alloc(TERRACL_VALUE_NULL); }

terracl_value *terracl_value_new_bool(int b)
{
    terracl_value *v = value_alloc(TERRACL_VALUE_BOOL);
    if (v != NULL)
        v->u.b = b != 0;
    return v;
}

terracl_value *terracl_value_new_int(int64_t i)
{
    terracl_value *v = value_alloc(TERRACL_VALUE_INT);
    if (v != NULL)
        v->u.i = i;
    return v;
}

terracl_value *terracl_value_new_float(double f)
{
    terracl_value *v = value_alloc(TERRACL_VALUE_FLOAT);
    if (v != NULL)
        v->u.f = f;
    return v;
}

terracl_value *terracl_value_new_string(const char *s)
{
    if (s == NULL)
        return NULL;
    terracl_value *v = value_alloc(TERRACL_VALUE_STRING);
    if (v == NULL)
        return NULL;
    v->u.s = strdup(s);
    if (v->u.s == NULL) {
        free(v);
        return NULL;
    }
    return v;
}

terracl_value *terracl_value_new_list(void) { return value_alloc(TERRACL_VALUE_LIST); }
terracl_value *terracl_value_new_map(void) { return value_alloc(TERRACL_VALUE_MAP); }

void terracl_value_free(terracl_value *v)
{
    if (v == NULL)
        return;
    switch (v->type) {
    case TERRACL_VALUE_STRING:
        free(v->u.s);
        break;
    case TERRACL_VALUE_LIST:
        for (size_t i = 0; i < v->u.list.n; i++)
            terracl_value_free(v->u.list.items[i]);
        free(v->u.list.items);
        break;
    case TERRACL_VALUE_MAP:
        for (size_t i = 0; i < v->u.map.n; i++) {
            free(v->u.map.entries[i].key);
            terracl_value_free(v->u.map.entries[i].value);
        }
        free(v->u.map.entries);
        free(v->u.map.index);
        break;
    default:
        break;
    }
    free(v);
}

terracl_value *terracl_value_clone(const terracl_value *v)
{
    if (v == NULL)
        return NULL;
    terracl_value *c = NULL;
    switch (v->type) {
    case TERRACL_VALUE_NULL:
        c = terracl_value_new_null();
        break;
    case TERRACL_VALUE_BOOL:
        c = terracl_value_new_bool(v->u.b);
        break;
    case TERRACL_VALUE_INT:
        c = terracl_value_new_int(v->u.i);
        break;
    case TERRACL_VALUE_FLOAT:
        c = terracl_value_new_float(v->u.f);
        break;
    case TERRACL_VALUE_STRING:
        c = terracl_value_new_string(v->u.s);
        break;
    case TERRACL_VALUE_LIST:
        c = terracl_value_new_list();
        for (size_t i = 0; c != NULL && i < v->u.list.n; i++) {
            terracl_value *item = terracl_value_clone(v->u.list.items[i]);
            if (item == NULL || terracl_value_list_append(c, item, NULL) != TERRACL_OK) {
                terracl_value_free(c);
                c = NULL;
            }
        }
        break;
    case TERRACL_VALUE_MAP:
        c = terracl_value_new_map();
        for (size_t i = 0; c != NULL && i < v->u.map.n; i++) {
            terracl_value *item = terracl_value_clone(v->u.map.entries[i].value);
            if (item == NULL ||
                terracl_value_map_set(c, v->u.map.entries[i].key, item, NULL) != TERRACL_OK) {
                terracl_value_free(c);
                c = NULL;
            }
        }
        break;
    }
    if (c != NULL) {
        c->line = v->line;
        c->column = v->column;
    }
    return c;
}

terracl_value_type terracl_value_type_of(const terracl_value *v)
{
    return v ? v->type : TERRACL_VALUE_NULL;
}

const char *terracl_value_type_name(terracl_value_type t)
{
    switch (t) {
    case TERRACL_VALUE_NULL:
        return "null";
    case TERRACL_VALUE_BOOL:
        return "bool";
    case TERRACL_VALUE_INT:
        return "int";
    case TERRACL_VALUE_FLOAT:
        return "float";
    case TERRACL_VALUE_STRING:
        return "string";
    case TERRACL_VALUE_LIST:
        return "list";
    case TERRACL_VALUE_MAP:
        return "map";
    }
    return "unknown";
}

void terracl_value_position(const terracl_value *v, int *line, int *column)
{
    if (line != NULL)
        *line = v ? v->line : 0;
    if (column != NULL)
        *column = v ? v->column : 0;
}

void tc_value_set_position(terracl_value *v, int line, int column)
{
    if (v == NULL)
        return;
    v->line = line;
    v->column = column;
}

const char *tc_value_where(const terracl_value *v, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    if (v != NULL && v->line > 0)
        snprintf(buf, cap, " (line %d, column %d)", v->line, v->column);
    return buf;
}

int terracl_value_bool(const terracl_value *v)
{
    return v && v->type == TERRACL_VALUE_BOOL ? v->u.b : 0;
}

int64_t terracl_value_int(const terracl_value *v)
{
    return v && v->type == TERRACL_VALUE_INT ? v->u.i : 0;
}

double terracl_value_float(const terracl_value *v)
{
    if (v == NULL)
        return 0.0;
    if (v->type == TERRACL_VALUE_FLOAT)
        return v->u.f;
    if (v->type == TERRACL_VALUE_INT)
        return (double)v->u.i;
    return 0.0;
}

const char *terracl_value_string(const terracl_value *v)
{
    return v && v->type == TERRACL_VALUE_STRING ? v->u.s : NULL;
}

/* ---- lists ---------------------------------------------------------------------------------- */

size_t terracl_value_list_size(const terracl_value *list)
{
    return list && list->type == TERRACL_VALUE_LIST ? list->u.list.n : 0;
}

const terracl_value *terracl_value_list_get(const terracl_value *list, size_t i)
{
    if (list == NULL || list->type != TERRACL_VALUE_LIST || i >= list->u.list.n)
        return NULL;
    return list->u.list.items[i];
}

/* Grows an array of `elem` bytes to hold one more element. */
static terracl_status grow(void **items, size_t *cap, size_t n, size_t elem, terracl_error *err)
{
    if (n < *cap)
        return TERRACL_OK;
    size_t new_cap = *cap ? *cap : 4, bytes;
    if (*cap && tc_mul_overflow(*cap, 2, &new_cap))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "value container too large");
    if (tc_mul_overflow(new_cap, elem, &bytes))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "value container too large");
    void *p = realloc(*items, bytes);
    if (p == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory growing a value container");
    *items = p;
    *cap = new_cap;
    return TERRACL_OK;
}

terracl_status terracl_value_list_append(terracl_value *list, terracl_value *item,
                                         terracl_error *err)
{
    if (list == NULL || list->type != TERRACL_VALUE_LIST || item == NULL) {
        terracl_value_free(item);
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "list append: %s",
                       item == NULL ? "no item (out of memory?)" : "not a list");
    }
    void *items = list->u.list.items;
    terracl_status st = grow(&items, &list->u.list.cap, list->u.list.n, sizeof(terracl_value *), err);
    list->u.list.items = items;
    if (st != TERRACL_OK) {
        terracl_value_free(item);
        return st;
    }
    list->u.list.items[list->u.list.n++] = item;
    return TERRACL_OK;
}

/* ---- maps ----------------------------------------------------------------------------------- */

size_t terracl_value_map_size(const terracl_value *map)
{
    return map && map->type == TERRACL_VALUE_MAP ? map->u.map.n : 0;
}

const char *terracl_value_map_key(const terracl_value *map, size_t i)
{
    if (map == NULL || map->type != TERRACL_VALUE_MAP || i >= map->u.map.n)
        return NULL;
    return map->u.map.entries[i].key;
}

const terracl_value *terracl_value_map_at(const terracl_value *map, size_t i)
{
    if (map == NULL || map->type != TERRACL_VALUE_MAP || i >= map->u.map.n)
        return NULL;
    return map->u.map.entries[i].value;
}

#define MAP_INDEX_MIN 32

static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211u;
    }
    return h;
}

static void index_insert(size_t *slots, size_t cap, const char *key, size_t pos)
{
    size_t i = (size_t)key_hash(key) & (cap - 1);
    while (slots[i] != 0)
        i = (i + 1) & (cap - 1);
    slots[i] = pos + 1;
}

/* (Re)builds the index for the map's current entries, sized for at least
 * `want` entries at a load of one half. On failure the map keeps working
 * without one (lookups fall back to the scan). */
static void index_rebuild(terracl_value *map, size_t want)
{
    free(map->u.map.index);
    map->u.map.index = NULL;
    map->u.map.index_cap = 0;
    if (want < MAP_INDEX_MIN)
        return;
    size_t cap = 64;
    while (cap / 2 < want) {
        if (cap > SIZE_MAX / 4)
            return;
        cap *= 2;
    }
    size_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return;
    for (size_t i = 0; i < map->u.map.n; i++)
        index_insert(slots, cap, map->u.map.entries[i].key, i);
    map->u.map.index = slots;
    map->u.map.index_cap = cap;
}

size_t tc_value_map_index(const terracl_value *map, const char *key)
{
    if (map == NULL || map->type != TERRACL_VALUE_MAP || key == NULL)
        return (size_t)-1;
    const size_t *slots = map->u.map.index;
    if (slots != NULL) {
        size_t cap = map->u.map.index_cap;
        for (size_t i = (size_t)key_hash(key) & (cap - 1); slots[i] != 0; i = (i + 1) & (cap - 1))
            if (strcmp(map->u.map.entries[slots[i] - 1].key, key) == 0)
                return slots[i] - 1;
        return (size_t)-1;
    }
    for (size_t i = 0; i < map->u.map.n; i++)
        if (strcmp(map->u.map.entries[i].key, key) == 0)
            return i;
    return (size_t)-1;
}

static void mark_used(const terracl_value *map, size_t i)
{
    ((terracl_value *)map)->u.map.entries[i].used = 1;
}

const terracl_value *terracl_value_map_get(const terracl_value *map, const char *key)
{
    size_t i = tc_value_map_index(map, key);
    if (i == (size_t)-1)
        return NULL;
    mark_used(map, i);
    return map->u.map.entries[i].value;
}

const terracl_value *terracl_value_map_peek(const terracl_value *map, const char *key)
{
    size_t i = tc_value_map_index(map, key);
    return i == (size_t)-1 ? NULL : map->u.map.entries[i].value;
}

terracl_status terracl_value_map_set(terracl_value *map, const char *key, terracl_value *item,
                                     terracl_error *err)
{
    if (map == NULL || map->type != TERRACL_VALUE_MAP || key == NULL || item == NULL) {
        terracl_value_free(item);
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "map set '%s': %s", key ? key : "(null)",
                       item == NULL ? "no item (out of memory?)" : "not a map or no key");
    }
    size_t i = tc_value_map_index(map, key);
    if (i != (size_t)-1) {
        terracl_value_free(map->u.map.entries[i].value);
        map->u.map.entries[i].value = item;
        return TERRACL_OK;
    }
    char *k = strdup(key);
    if (k == NULL) {
        terracl_value_free(item);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory setting key '%s'", key);
    }
    void *entries = map->u.map.entries;
    terracl_status st =
        grow(&entries, &map->u.map.cap, map->u.map.n, sizeof(struct tc_map_entry), err);
    map->u.map.entries = entries;
    if (st != TERRACL_OK) {
        free(k);
        terracl_value_free(item);
        return st;
    }
    map->u.map.entries[map->u.map.n++] = (struct tc_map_entry){k, item, 0};
    size_t n = map->u.map.n;
    if (map->u.map.index != NULL && n <= map->u.map.index_cap / 2)
        index_insert(map->u.map.index, map->u.map.index_cap, k, n - 1);
    else if (n >= MAP_INDEX_MIN)
        index_rebuild(map, 2 * n);
    return TERRACL_OK;
}

int terracl_value_map_remove(terracl_value *map, const char *key)
{
    size_t i = tc_value_map_index(map, key);
    if (i == (size_t)-1)
        return 0;
    free(map->u.map.entries[i].key);
    terracl_value_free(map->u.map.entries[i].value);
    memmove(&map->u.map.entries[i], &map->u.map.entries[i + 1],
            (map->u.map.n - i - 1) * sizeof(struct tc_map_entry));
    map->u.map.n--;
    /* Positions after i moved: the index is rebuilt (removal is O(n) anyway). */
    if (map->u.map.index != NULL)
        index_rebuild(map, map->u.map.n);
    return 1;
}

void tc_value_map_mark_all(const terracl_value *map, int used)
{
    if (map == NULL || map->type != TERRACL_VALUE_MAP)
        return;
    for (size_t i = 0; i < map->u.map.n; i++)
        ((terracl_value *)map)->u.map.entries[i].used = used != 0;
}

terracl_status tc_value_map_merge_into(terracl_value *dst, terracl_value *src, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < src->u.map.n; i++) {
        struct tc_map_entry *e = &src->u.map.entries[i];
        if (st == TERRACL_OK)
            st = terracl_value_map_set(dst, e->key, e->value, err);
        else
            terracl_value_free(e->value);
        free(e->key);
    }
    src->u.map.n = 0;
    terracl_value_free(src);
    return st;
}

size_t terracl_value_unused_keys(const terracl_value *map, const char **keys, size_t cap)
{
    if (map == NULL || map->type != TERRACL_VALUE_MAP)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < map->u.map.n; i++) {
        if (map->u.map.entries[i].used)
            continue;
        if (n < cap && keys != NULL)
            keys[n] = map->u.map.entries[i].key;
        n++;
    }
    return n;
}

/* ---- whole-tree helpers --------------------------------------------------------------------- */

int tc_value_equal(const terracl_value *a, const terracl_value *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case TERRACL_VALUE_NULL:
        return 1;
    case TERRACL_VALUE_BOOL:
        return a->u.b == b->u.b;
    case TERRACL_VALUE_INT:
        return a->u.i == b->u.i;
    case TERRACL_VALUE_FLOAT:
        return a->u.f == b->u.f || (isnan(a->u.f) && isnan(b->u.f));
    case TERRACL_VALUE_STRING:
        return strcmp(a->u.s, b->u.s) == 0;
    case TERRACL_VALUE_LIST:
        if (a->u.list.n != b->u.list.n)
            return 0;
        for (size_t i = 0; i < a->u.list.n; i++)
            if (!tc_value_equal(a->u.list.items[i], b->u.list.items[i]))
                return 0;
        return 1;
    case TERRACL_VALUE_MAP:
        if (a->u.map.n != b->u.map.n)
            return 0;
        for (size_t i = 0; i < a->u.map.n; i++) {
            if (strcmp(a->u.map.entries[i].key, b->u.map.entries[i].key) != 0 ||
                !tc_value_equal(a->u.map.entries[i].value, b->u.map.entries[i].value))
                return 0;
        }
        return 1;
    }
    return 0;
}

size_t tc_value_count(const terracl_value *v)
{
    if (v == NULL)
        return 0;
    size_t n = 1;
    if (v->type == TERRACL_VALUE_LIST)
        for (size_t i = 0; i < v->u.list.n; i++)
            n += tc_value_count(v->u.list.items[i]);
    else if (v->type == TERRACL_VALUE_MAP)
        for (size_t i = 0; i < v->u.map.n; i++)
            n += tc_value_count(v->u.map.entries[i].value);
    return n;
}

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

size_t tc_value_bytes(const terracl_value *v)
{
    if (v == NULL)
        return 0;
    size_t n = sizeof *v;
    switch (v->type) {
    case TERRACL_VALUE_STRING:
        n = sat_add(n, strlen(v->u.s) + 1);
        break;
    case TERRACL_VALUE_LIST:
        n = sat_add(n, v->u.list.cap * sizeof *v->u.list.items);
        for (size_t i = 0; i < v->u.list.n; i++)
            n = sat_add(n, tc_value_bytes(v->u.list.items[i]));
        break;
    case TERRACL_VALUE_MAP:
        n = sat_add(n, v->u.map.cap * sizeof *v->u.map.entries);
        n = sat_add(n, v->u.map.index_cap * sizeof *v->u.map.index);
        for (size_t i = 0; i < v->u.map.n; i++) {
            n = sat_add(n, strlen(v->u.map.entries[i].key) + 1);
            n = sat_add(n, tc_value_bytes(v->u.map.entries[i].value));
        }
        break;
    default:
        break;
    }
    return n;
}

/* ---- typed lookups -------------------------------------------------------------------------- */

/* Looks `key` up for an args_* call: NULL map, missing key and null value
 * all mean "use the default". */
static const terracl_value *arg_lookup(const terracl_value *map, const char *key)
{
    const terracl_value *v = terracl_value_map_get(map, key);
    return v == NULL || v->type == TERRACL_VALUE_NULL ? NULL : v;
}

static terracl_status type_error(const terracl_value *v, const char *key, const char *expected,
                                 terracl_error *err)
{
    char where[64];
    return tc_fail(err, TERRACL_ERR_TYPE, "argument '%s': expected %s, found %s%s", key, expected,
                   terracl_value_type_name(v->type), tc_value_where(v, where, sizeof where));
}

static terracl_status check_map(const terracl_value *map, const char *key, terracl_error *err)
{
    if (map != NULL && map->type != TERRACL_VALUE_MAP)
        return tc_fail(err, TERRACL_ERR_TYPE, "argument '%s': arguments are a %s, not a map", key,
                       terracl_value_type_name(map->type));
    if (key == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "argument lookup without a key");
    return TERRACL_OK;
}

terracl_status terracl_args_int(const terracl_value *map, const char *key, int64_t def,
                                int64_t *out, terracl_error *err)
{
    terracl_status st = check_map(map, key, err);
    if (st != TERRACL_OK)
        return st;
    const terracl_value *v = arg_lookup(map, key);
    if (v == NULL) {
        *out = def;
        return TERRACL_OK;
    }
    if (v->type != TERRACL_VALUE_INT)
        return type_error(v, key, "int", err);
    *out = v->u.i;
    return TERRACL_OK;
}

terracl_status terracl_args_float(const terracl_value *map, const char *key, double def,
                                  double *out, terracl_error *err)
{
    terracl_status st = check_map(map, key, err);
    if (st != TERRACL_OK)
        return st;
    const terracl_value *v = arg_lookup(map, key);
    if (v == NULL) {
        *out = def;
        return TERRACL_OK;
    }
    if (v->type != TERRACL_VALUE_FLOAT && v->type != TERRACL_VALUE_INT)
        return type_error(v, key, "float", err);
    *out = terracl_value_float(v);
    return TERRACL_OK;
}

terracl_status terracl_args_bool(const terracl_value *map, const char *key, int def, int *out,
                                 terracl_error *err)
{
    terracl_status st = check_map(map, key, err);
    if (st != TERRACL_OK)
        return st;
    const terracl_value *v = arg_lookup(map, key);
    if (v == NULL) {
        *out = def;
        return TERRACL_OK;
    }
    if (v->type != TERRACL_VALUE_BOOL)
        return type_error(v, key, "bool", err);
    *out = v->u.b;
    return TERRACL_OK;
}

terracl_status terracl_args_string(const terracl_value *map, const char *key, const char *def,
                                   const char **out, terracl_error *err)
{
    terracl_status st = check_map(map, key, err);
    if (st != TERRACL_OK)
        return st;
    const terracl_value *v = arg_lookup(map, key);
    if (v == NULL) {
        *out = def;
        return TERRACL_OK;
    }
    if (v->type != TERRACL_VALUE_STRING)
        return type_error(v, key, "string", err);
    *out = v->u.s;
    return TERRACL_OK;
}

terracl_status terracl_args_int_list(const terracl_value *map, const char *key, int64_t *out,
                                     size_t cap, size_t *count, int *present, terracl_error *err)
{
    *count = 0;
    if (present != NULL)
        *present = 0;
    terracl_status st = check_map(map, key, err);
    if (st != TERRACL_OK)
        return st;
    const terracl_value *v = arg_lookup(map, key);
    if (v == NULL)
        return TERRACL_OK;
    if (v->type == TERRACL_VALUE_INT) {
        if (cap < 1)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "argument '%s': no room for its value", key);
        out[0] = v->u.i;
        *count = 1;
    } else if (v->type == TERRACL_VALUE_LIST) {
        size_t n = v->u.list.n;
        if (n > cap) {
            char where[64];
            return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                           "argument '%s': list has %zu entries, at most %zu are supported%s", key,
                           n, cap, tc_value_where(v, where, sizeof where));
        }
        for (size_t i = 0; i < n; i++) {
            const terracl_value *item = v->u.list.items[i];
            if (item->type != TERRACL_VALUE_INT) {
                char what[96];
                snprintf(what, sizeof what, "%s[%zu]", key, i);
                return type_error(item, what, "int", err);
            }
            out[i] = item->u.i;
        }
        *count = n;
    } else {
        return type_error(v, key, "list of ints", err);
    }
    if (present != NULL)
        *present = 1;
    return TERRACL_OK;
}

terracl_value *tc_value_int_list(const int64_t *v, size_t n)
{
    terracl_value *list = terracl_value_new_list();
    for (size_t i = 0; list != NULL && i < n; i++)
        if (terracl_value_list_append(list, terracl_value_new_int(v[i]), NULL) != TERRACL_OK) {
            terracl_value_free(list);
            list = NULL;
        }
    return list;
}

void tc_value_set_chained(terracl_value *map, const char *key, terracl_value *val,
                          terracl_status *st, terracl_error *err)
{
    if (*st != TERRACL_OK || map == NULL) {
        terracl_value_free(val);
        if (*st == TERRACL_OK)
            *st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory recording a config");
        return;
    }
    if (val == NULL)
        *st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory recording a config");
    else
        *st = terracl_value_map_set(map, key, val, err);
}
