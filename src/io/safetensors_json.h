/*
 * A small, strict JSON parser for safetensors headers (RFC 8259 grammar,
 * UTF-8 only). It builds a flat tree of nodes; strings are decoded into a
 * private copy of the text. Limits keep hostile input cheap: nesting depth
 * TC_JSON_MAX_DEPTH, at most TC_JSON_MAX_NODES values, no duplicate keys in
 * any object, no NUL characters in strings.
 */
#ifndef TC_IO_SAFETENSORS_JSON_H
#define TC_IO_SAFETENSORS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define TC_JSON_MAX_DEPTH 64
#define TC_JSON_MAX_NODES (1u << 21) /* ~1000x a real checkpoint's header */
#define TC_JSON_NONE UINT32_MAX

enum tc_json_type {
    TC_JSON_NULL,
    TC_JSON_BOOL,
    TC_JSON_NUMBER,
    TC_JSON_STRING,
    TC_JSON_ARRAY,
    TC_JSON_OBJECT
};

struct tc_json_node {
    enum tc_json_type type;
    bool boolean;      /* TC_JSON_BOOL */
    bool is_uint;      /* TC_JSON_NUMBER written as a plain non-negative integer that fits u64 */
    uint64_t u64;      /* its value when is_uint */
    const char *str;   /* TC_JSON_STRING: decoded, NUL-terminated */
    size_t str_len;
    const char *key;   /* member of an object: its decoded key, else NULL */
    size_t key_len;
    uint32_t child;    /* ARRAY/OBJECT: first element, or TC_JSON_NONE */
    uint32_t next;     /* next sibling, or TC_JSON_NONE */
    uint32_t count;    /* ARRAY/OBJECT: number of elements */
};

struct tc_json {
    struct tc_json_node *nodes; /* nodes[0] is the root */
    uint32_t count, cap;
    char *text;                 /* decoded strings live here */
};

/*
 * Parses len bytes of text (need not be NUL-terminated). Trailing spaces
 * after the value are allowed (safetensors pads its header with them);
 * anything else after it is an error. On failure returns TERRACL_ERR_FORMAT
 * (or TERRACL_ERR_NO_MEMORY) with a message like "byte 17: expected ':'"
 * and leaves *out empty. Free with tc_json_free.
 */
TC_NODISCARD terracl_status tc_json_parse(const char *text, size_t len, struct tc_json *out,
                                          terracl_error *err);
void tc_json_free(struct tc_json *json);

/* Member `key` of object node `obj`, or NULL. */
const struct tc_json_node *tc_json_member(const struct tc_json *json,
                                          const struct tc_json_node *obj, const char *key);
/* Node by index, NULL for TC_JSON_NONE. */
const struct tc_json_node *tc_json_at(const struct tc_json *json, uint32_t index);

#endif /* TC_IO_SAFETENSORS_JSON_H */
