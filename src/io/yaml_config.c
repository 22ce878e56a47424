/*
 * YAML text to value trees, with libyaml's event parser. Building the tree
 * from events (rather than libyaml's document loader) lets us keep every
 * position, bound the nesting, check duplicate keys and expand aliases
 * and merge keys under a size budget (values and bytes), so hostile input
 * cannot crash us or explode memory. Anchors are found through a hash
 * table and map keys through the maps' own index, so a file with hundreds
 * of thousands of keys or anchors loads in linear time.
 */
#include "io/yaml_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/checked.h"
#include "core/value.h"

struct anchor {
    char *name;
    /* A copy: the node in the tree may be moved or freed by merge keys. */
    terracl_value *value;
    size_t count;         /* values in it, for the expansion budget */
    size_t bytes;         /* and the bytes they occupy */
    int line, column;
};

struct reader {
    yaml_parser_t parser;
    const char *name;
    const char *text; /* the whole input, for positions of encoding errors */
    size_t len;
    terracl_error *err;
    struct anchor *anchors;
    size_t nanchors, anchors_cap;
    /* Hash table over anchors: slots hold position + 1 (0 = empty). */
    size_t *anchor_slots;
    size_t slots_cap; /* a power of two, at least twice nanchors */
    size_t values;    /* created so far, aliases expanded */
    size_t bytes;     /* their approximate size */
};

#define LINE(mark) ((int)(mark).line + 1)
#define COL(mark) ((int)(mark).column + 1)

static terracl_status fail_at(struct reader *r, int line, int column, const char *fmt, ...)
    TC_PRINTF(4, 5);

static terracl_status fail_at(struct reader *r, int line, int column, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tc_fail(r->err, TERRACL_ERR_CONFIG, "%s:%d:%d: %s", r->name, line, column, msg);
}

/* Turns libyaml's error state into our message. */
static terracl_status parser_error(struct reader *r)
{
    const yaml_parser_t *p = &r->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory reading YAML", r->name);
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (p->error == YAML_READER_ERROR) {
        /* The reader runs ahead of the scanner, so its marks are stale:
         * count lines and characters up to the offending byte instead. */
        int line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < r->len; i++) {
            unsigned char c = (unsigned char)r->text[i];
            if (c == '\n') {
                line++;
                col = 1;
            } else if ((c & 0xC0) != 0x80) {
                col++;
            }
        }
        if (p->problem_value != -1)
            return fail_at(r, line, col, "%s: #%X at byte %zu", problem,
                           (unsigned)p->problem_value, p->problem_offset);
        return fail_at(r, line, col, "%s at byte %zu", problem, p->problem_offset);
    }
    if (p->context != NULL)
        return fail_at(r, LINE(p->problem_mark), COL(p->problem_mark), "%s %s (line %d, column %d)",
                       problem, p->context, LINE(p->context_mark), COL(p->context_mark));
    return fail_at(r, LINE(p->problem_mark), COL(p->problem_mark), "%s", problem);
}

static terracl_status next_event(struct reader *r, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&r->parser, ev))
        return parser_error(r);
    return TERRACL_OK;
}

/* Adds n values of `bytes` bytes to the budget. */
static terracl_status count_values(struct reader *r, size_t n, size_t bytes, const yaml_mark_t *m)
{
    if (tc_add_overflow(r->values, n, &r->values) || r->values > TC_YAML_MAX_VALUES)
        return fail_at(r, LINE(*m), COL(*m),
                       "too many values (more than %u after expanding aliases)",
                       TC_YAML_MAX_VALUES);
    if (tc_add_overflow(r->bytes, bytes, &r->bytes) || r->bytes > TC_YAML_MAX_BYTES)
        return fail_at(r, LINE(*m), COL(*m),
                       "the document expands to more than %zu MiB (aliases of large values?)",
                       TC_YAML_MAX_BYTES >> 20);
    return TERRACL_OK;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211u;
    }
    return h;
}

static struct anchor *find_anchor(struct reader *r, const char *name)
{
    if (r->slots_cap == 0)
        return NULL;
    size_t mask = r->slots_cap - 1;
    for (size_t i = (size_t)name_hash(name) & mask; r->anchor_slots[i] != 0; i = (i + 1) & mask)
        if (strcmp(r->anchors[r->anchor_slots[i] - 1].name, name) == 0)
            return &r->anchors[r->anchor_slots[i] - 1];
    return NULL;
}

/* Makes room in the hash table for one more anchor (load at most 1/2). */
static int reserve_slot(struct reader *r)
{
    if (r->nanchors + 1 <= r->slots_cap / 2)
        return 1;
    size_t cap = r->slots_cap ? r->slots_cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof *r->anchor_slots)
        return 0;
    size_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return 0;
    for (size_t a = 0; a < r->nanchors; a++) {
        size_t i = (size_t)name_hash(r->anchors[a].name) & (cap - 1);
        while (slots[i] != 0)
            i = (i + 1) & (cap - 1);
        slots[i] = a + 1;
    }
    free(r->anchor_slots);
    r->anchor_slots = slots;
    r->slots_cap = cap;
    return 1;
}

static terracl_status add_anchor(struct reader *r, const char *name, terracl_value *v,
                                 const yaml_mark_t *m)
{
    struct anchor *dup = find_anchor(r, name);
    if (dup != NULL)
        return fail_at(r, LINE(*m), COL(*m), "duplicate anchor &%s (first defined at %d:%d)",
                       name, dup->line, dup->column);
    if (r->nanchors == r->anchors_cap) {
        size_t cap = r->anchors_cap ? r->anchors_cap * 2 : 8, bytes;
        if (tc_mul_overflow(cap, sizeof *r->anchors, &bytes))
            return fail_at(r, LINE(*m), COL(*m), "too many anchors");
        struct anchor *p = realloc(r->anchors, bytes);
        if (p == NULL)
            return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
        r->anchors = p;
        r->anchors_cap = cap;
    }
    if (!reserve_slot(r))
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    size_t count = tc_value_count(v), bytes = tc_value_bytes(v);
    /* The anchor keeps a copy, which costs as much again. */
    terracl_status st = count_values(r, count, bytes, m);
    if (st != TERRACL_OK)
        return st;
    char *copy = strdup(name);
    terracl_value *clone = terracl_value_clone(v);
    if (copy == NULL || clone == NULL) {
        free(copy);
        terracl_value_free(clone);
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    }
    size_t pos = r->nanchors++;
    r->anchors[pos] = (struct anchor){copy, clone, count, bytes, LINE(*m), COL(*m)};
    size_t mask = r->slots_cap - 1, i = (size_t)name_hash(copy) & mask;
    while (r->anchor_slots[i] != 0)
        i = (i + 1) & mask;
    r->anchor_slots[i] = pos + 1;
    return TERRACL_OK;
}

/* The text of a scalar event as a C string; embedded NULs are refused. */
static terracl_status scalar_text(struct reader *r, const yaml_event_t *ev, const char **text)
{
    const char *s = (const char *)ev->data.scalar.value;
    if (strlen(s) != ev->data.scalar.length)
        return fail_at(r, LINE(ev->start_mark), COL(ev->start_mark),
                       "a scalar contains a NUL character");
    *text = s;
    return TERRACL_OK;
}

static terracl_status build_scalar(struct reader *r, const yaml_event_t *ev, terracl_value **out)
{
    const char *text = NULL;
    terracl_status st = scalar_text(r, ev, &text);
    if (st != TERRACL_OK)
        return st;
    const char *tag = (const char *)ev->data.scalar.tag;
    int line = LINE(ev->start_mark), col = COL(ev->start_mark);
    terracl_value *v = NULL;
    if (tag == NULL || strcmp(tag, "!") == 0 || strcmp(tag, YAML_STR_TAG) == 0) {
        if (tag != NULL || !ev->data.scalar.plain_implicit)
            v = terracl_value_new_string(text); /* quoted or tagged: always a string */
        else
            v = tc_value_resolve_plain(text, &st);
        if (st == TERRACL_ERR_OVERFLOW)
            return fail_at(r, line, col, "integer %s does not fit in 64 bits", text);
    } else {
        static const struct {
            const char *tag, *kind;
        } k_tags[] = {{YAML_NULL_TAG, "null"},
                      {YAML_BOOL_TAG, "bool"},
                      {YAML_INT_TAG, "int"},
                      {YAML_FLOAT_TAG, "float"}};
        const char *kind = NULL;
        for (size_t i = 0; i < sizeof k_tags / sizeof k_tags[0]; i++)
            if (strcmp(tag, k_tags[i].tag) == 0)
                kind = k_tags[i].kind;
        if (kind == NULL)
            return fail_at(r, line, col, "unsupported tag %s (only standard YAML types)", tag);
        v = tc_value_resolve_tagged(text, kind, &st);
        if (st == TERRACL_ERR_OVERFLOW)
            return fail_at(r, line, col, "integer %s does not fit in 64 bits", text);
        if (v == NULL && st == TERRACL_OK)
            return fail_at(r, line, col, "'%s' is not a valid %s", text, kind);
    }
    if (v == NULL)
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    tc_value_set_position(v, line, col);
    *out = v;
    return TERRACL_OK;
}

static terracl_status build_node(struct reader *r, yaml_event_t *ev, int depth,
                                 terracl_value **out);

static terracl_status build_alias(struct reader *r, const yaml_event_t *ev, terracl_value **out)
{
    const char *name = (const char *)ev->data.alias.anchor;
    struct anchor *a = find_anchor(r, name);
    if (a == NULL)
        return fail_at(r, LINE(ev->start_mark), COL(ev->start_mark),
                       "alias *%s refers to an unknown anchor (or one still being defined)",
                       name);
    terracl_status st = count_values(r, a->count, a->bytes, &ev->start_mark);
    if (st != TERRACL_OK)
        return st;
    terracl_value *v = terracl_value_clone(a->value);
    if (v == NULL)
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    *out = v;
    return TERRACL_OK;
}

static terracl_status build_sequence(struct reader *r, const yaml_event_t *start, int depth,
                                     terracl_value **out)
{
    terracl_value *list = terracl_value_new_list();
    if (list == NULL)
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    tc_value_set_position(list, LINE(start->start_mark), COL(start->start_mark));
    terracl_status st = TERRACL_OK;
    for (;;) {
        yaml_event_t ev;
        st = next_event(r, &ev);
        if (st != TERRACL_OK)
            break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        terracl_value *item = NULL;
        st = build_node(r, &ev, depth + 1, &item);
        yaml_event_delete(&ev);
        if (st == TERRACL_OK)
            st = terracl_value_list_append(list, item, r->err);
        if (st != TERRACL_OK)
            break;
    }
    if (st != TERRACL_OK) {
        terracl_value_free(list);
        return st;
    }
    *out = list;
    return TERRACL_OK;
}

/* Collects the mappings a merge key brings in (a map or a list of maps). */
static terracl_status merge_sources(struct reader *r, terracl_value *value, int line, int col,
                                    terracl_value *merges)
{
    if (terracl_value_type_of(value) == TERRACL_VALUE_MAP)
        return terracl_value_list_append(merges, value, r->err);
    if (terracl_value_type_of(value) == TERRACL_VALUE_LIST) {
        for (size_t i = 0; i < terracl_value_list_size(value); i++) {
            if (terracl_value_type_of(terracl_value_list_get(value, i)) != TERRACL_VALUE_MAP) {
                terracl_value_free(value);
                return fail_at(r, line, col, "a merge key (<<) takes a mapping or a list of "
                                             "mappings; entry %zu is not a mapping",
                               i);
            }
        }
        /* Move the maps over; the list shell goes. */
        terracl_status st = TERRACL_OK;
        for (size_t i = 0; i < terracl_value_list_size(value) && st == TERRACL_OK; i++) {
            terracl_value *c = terracl_value_clone(terracl_value_list_get(value, i));
            st = terracl_value_list_append(merges, c, r->err);
        }
        terracl_value_free(value);
        return st;
    }
    terracl_value_type t = terracl_value_type_of(value);
    terracl_value_free(value);
    return fail_at(r, line, col, "a merge key (<<) takes a mapping or a list of mappings, not a %s",
                   terracl_value_type_name(t));
}

/*
 * Applies merge keys the way PyYAML does: keys written in the mapping win
 * over merged ones; among merged mappings the earlier in a "<<: [a, b]"
 * list wins; merged keys come first in the result.
 */
static terracl_status apply_merges(struct reader *r, terracl_value **map, terracl_value *merges)
{
    terracl_value *result = terracl_value_new_map();
    if (result == NULL) {
        terracl_value_free(merges);
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    }
    int line, col;
    terracl_value_position(*map, &line, &col);
    tc_value_set_position(result, line, col);
    terracl_status st = TERRACL_OK;
    for (size_t i = terracl_value_list_size(merges); i-- > 0 && st == TERRACL_OK;) {
        const terracl_value *m = terracl_value_list_get(merges, i);
        for (size_t j = 0; j < terracl_value_map_size(m) && st == TERRACL_OK; j++) {
            terracl_value *c = terracl_value_clone(terracl_value_map_at(m, j));
            st = terracl_value_map_set(result, terracl_value_map_key(m, j), c, r->err);
        }
    }
    terracl_value_free(merges);
    if (st == TERRACL_OK) {
        st = tc_value_map_merge_into(result, *map, r->err);
        *map = NULL;
    }
    if (st != TERRACL_OK) {
        terracl_value_free(result);
        return st;
    }
    *map = result;
    return TERRACL_OK;
}

static terracl_status build_mapping(struct reader *r, const yaml_event_t *start, int depth,
                                    terracl_value **out)
{
    terracl_value *map = terracl_value_new_map();
    terracl_value *merges = NULL;
    if (map == NULL)
        return tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
    tc_value_set_position(map, LINE(start->start_mark), COL(start->start_mark));
    terracl_status st = TERRACL_OK;
    for (;;) {
        yaml_event_t kev;
        st = next_event(r, &kev);
        if (st != TERRACL_OK)
            break;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            break;
        }
        int kline = LINE(kev.start_mark), kcol = COL(kev.start_mark);
        if (kev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&kev);
            st = fail_at(r, kline, kcol, "mapping keys must be scalars");
            break;
        }
        const char *ktext = NULL;
        st = scalar_text(r, &kev, &ktext);
        char *key = st == TERRACL_OK ? strdup(ktext) : NULL;
        int is_merge = st == TERRACL_OK && kev.data.scalar.plain_implicit &&
                       kev.data.scalar.tag == NULL && strcmp(ktext, "<<") == 0;
        if (st == TERRACL_OK && kev.data.scalar.anchor != NULL)
            st = fail_at(r, kline, kcol, "anchors on mapping keys are not supported");
        yaml_event_delete(&kev);
        if (st == TERRACL_OK && key == NULL)
            st = tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
        if (st != TERRACL_OK) {
            free(key);
            break;
        }

        yaml_event_t vev;
        st = next_event(r, &vev);
        terracl_value *value = NULL;
        if (st == TERRACL_OK) {
            st = build_node(r, &vev, depth + 1, &value);
            yaml_event_delete(&vev);
        }
        if (st == TERRACL_OK && is_merge) {
            if (merges == NULL && (merges = terracl_value_new_list()) == NULL) {
                terracl_value_free(value);
                st = tc_fail(r->err, TERRACL_ERR_NO_MEMORY, "%s: out of memory", r->name);
            } else {
                st = merge_sources(r, value, kline, kcol, merges);
            }
        } else if (st == TERRACL_OK) {
            size_t prev = tc_value_map_index(map, key);
            if (prev != (size_t)-1) {
                int pl, pc;
                terracl_value_position(terracl_value_map_at(map, prev), &pl, &pc);
                terracl_value_free(value);
                st = fail_at(r, kline, kcol, "duplicate key '%s' (the value first given at %d:%d)",
                             key, pl, pc);
            } else {
                st = terracl_value_map_set(map, key, value, r->err);
            }
        }
        free(key);
        if (st != TERRACL_OK)
            break;
    }
    if (st == TERRACL_OK && merges != NULL) {
        st = apply_merges(r, &map, merges);
        merges = NULL;
    }
    terracl_value_free(merges);
    if (st != TERRACL_OK) {
        terracl_value_free(map);
        return st;
    }
    *out = map;
    return TERRACL_OK;
}

/* Builds the node that starts with `ev` (consuming its events). */
static terracl_status build_node(struct reader *r, yaml_event_t *ev, int depth,
                                 terracl_value **out)
{
    *out = NULL;
    if (depth > TC_YAML_MAX_DEPTH)
        return fail_at(r, LINE(ev->start_mark), COL(ev->start_mark),
                       "nesting deeper than %d levels", TC_YAML_MAX_DEPTH);
    terracl_status st;
    const char *anchor = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return build_alias(r, ev, out);
    case YAML_SCALAR_EVENT:
        anchor = (const char *)ev->data.scalar.anchor;
        st = count_values(r, 1, sizeof(void *) * 8 + ev->data.scalar.length, &ev->start_mark);
        if (st == TERRACL_OK)
            st = build_scalar(r, ev, out);
        break;
    case YAML_SEQUENCE_START_EVENT: {
        anchor = (const char *)ev->data.sequence_start.anchor;
        const char *tag = (const char *)ev->data.sequence_start.tag;
        if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, YAML_SEQ_TAG) != 0)
            return fail_at(r, LINE(ev->start_mark), COL(ev->start_mark),
                           "unsupported tag %s on a sequence", tag);
        st = count_values(r, 1, sizeof(void *) * 8, &ev->start_mark);
        if (st == TERRACL_OK)
            st = build_sequence(r, ev, depth, out);
        break;
    }
    case YAML_MAPPING_START_EVENT: {
        anchor = (const char *)ev->data.mapping_start.anchor;
        const char *tag = (const char *)ev->data.mapping_start.tag;
        if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, YAML_MAP_TAG) != 0)
            return fail_at(r, LINE(ev->start_mark), COL(ev->start_mark),
                           "unsupported tag %s on a mapping", tag);
        st = count_values(r, 1, sizeof(void *) * 8, &ev->start_mark);
        if (st == TERRACL_OK)
            st = build_mapping(r, ev, depth, out);
        break;
    }
    default:
        return fail_at(r, LINE(ev->start_mark), COL(ev->start_mark), "unexpected YAML event");
    }
    if (st == TERRACL_OK && anchor != NULL) {
        /* Registered once complete: aliases inside the node itself are
         * refused as unknown, so no value ever contains itself. */
        st = add_anchor(r, anchor, *out, &ev->start_mark);
        if (st != TERRACL_OK) {
            terracl_value_free(*out);
            *out = NULL;
        }
    }
    return st;
}

/* Reads the stream: exactly one document holding one node. */
static terracl_status read_stream(struct reader *r, terracl_value **out)
{
    terracl_value *root = NULL;
    int docs = 0;
    terracl_status st = TERRACL_OK;
    for (;;) {
        yaml_event_t ev;
        st = next_event(r, &ev);
        if (st != TERRACL_OK)
            break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_STREAM_END_EVENT) {
            if (docs == 0)
                st = fail_at(r, LINE(ev.start_mark), COL(ev.start_mark),
                             "the file holds no YAML document (expected one)");
            yaml_event_delete(&ev);
            break;
        }
        if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
            st = fail_at(r, LINE(ev.start_mark), COL(ev.start_mark),
                         "a second YAML document starts here (expected exactly one)");
        else if (type == YAML_SCALAR_EVENT || type == YAML_SEQUENCE_START_EVENT ||
                 type == YAML_MAPPING_START_EVENT || type == YAML_ALIAS_EVENT)
            st = build_node(r, &ev, 1, &root);
        yaml_event_delete(&ev);
        if (st != TERRACL_OK)
            break;
    }
    if (st != TERRACL_OK) {
        terracl_value_free(root);
        return st;
    }
    *out = root;
    return TERRACL_OK;
}

static terracl_status run_reader(struct reader *r, terracl_value **out)
{
    terracl_status st = read_stream(r, out);
    for (size_t i = 0; i < r->nanchors; i++) {
        free(r->anchors[i].name);
        terracl_value_free(r->anchors[i].value);
    }
    free(r->anchors);
    free(r->anchor_slots);
    yaml_parser_delete(&r->parser);
    return st;
}

terracl_status tc_yaml_parse(const char *text, size_t len, const char *name, terracl_value **out,
                             terracl_error *err)
{
    if (out == NULL || (text == NULL && len > 0))
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "YAML parse: no text or output pointer");
    *out = NULL;
    if (text == NULL)
        text = "";
    struct reader r = {.name = name ? name : "<string>", .err = err, .text = text, .len = len};
    if (!yaml_parser_initialize(&r.parser))
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory starting the YAML parser");
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    return run_reader(&r, out);
}

/* Configs are a few kilobytes; anything this large is not one. */
#define TC_YAML_MAX_FILE (64u << 20)

terracl_status tc_yaml_load_file(const char *path, terracl_value **out, terracl_error *err)
{
    if (out == NULL || path == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "YAML load: no path or output pointer");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tc_fail(err, TERRACL_ERR_IO, "cannot open config %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    terracl_status st = TERRACL_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= TC_YAML_MAX_FILE) {
                st = tc_fail(err, TERRACL_ERR_CONFIG, "%s: larger than %u MiB, not a config",
                             path, TC_YAML_MAX_FILE >> 20);
                break;
            }
            cap = cap ? cap * 2 : 16384;
            char *p = realloc(buf, cap);
            if (p == NULL) {
                st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory reading %s", path);
                break;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                st = tc_fail(err, TERRACL_ERR_IO, "reading config %s failed", path);
            break;
        }
    }
    fclose(f);
    if (st == TERRACL_OK)
        st = tc_yaml_parse(buf, len, path, out, err);
    free(buf);
    return st;
}
