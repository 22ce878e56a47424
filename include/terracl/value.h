/*
 * Typed values: the arguments of every constructor and the parsed form of a
 * TerraTorch YAML config. A value is null, bool, int, float, string, list or
 * map (string keys, insertion order kept). Maps remember which keys were
 * read, so a factory can reject arguments nobody used, as TerraTorch does.
 *
 * Ownership: a value returned by a *_new function or by the YAML reader is
 * owned by the caller and freed with terracl_value_free, which frees the
 * whole tree. Values added to a list or map become owned by it. Pointers
 * returned by lookups are borrowed and valid while the owner lives.
 */
#ifndef TERRACL_VALUE_H
#define TERRACL_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "terracl/export.h"
#include "terracl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct terracl_value terracl_value;

typedef enum terracl_value_type {
    TERRACL_VALUE_NULL,
    TERRACL_VALUE_BOOL,
    TERRACL_VALUE_INT,
    TERRACL_VALUE_FLOAT,
    TERRACL_VALUE_STRING,
    TERRACL_VALUE_LIST,
    TERRACL_VALUE_MAP,
} terracl_value_type;

/* Constructors; each returns NULL when out of memory. */
TERRACL_API terracl_value *terracl_value_new_null(void);
TERRACL_API terracl_value *terracl_value_new_bool(int b);
TERRACL_API terracl_value *terracl_value_new_int(int64_t i);
TERRACL_API terracl_value *terracl_value_new_float(double f);
TERRACL_API terracl_value *terracl_value_new_string(const char *s);
TERRACL_API terracl_value *terracl_value_new_list(void);
TERRACL_API terracl_value *terracl_value_new_map(void);
/* Deep copy (the "used" marks are not copied). NULL when out of memory. */
TERRACL_API terracl_value *terracl_value_clone(const terracl_value *v);
TERRACL_API void terracl_value_free(terracl_value *v); /* NULL is a no-op */

TERRACL_API terracl_value_type terracl_value_type_of(const terracl_value *v);
TERRACL_API const char *terracl_value_type_name(terracl_value_type t);
/* Where the value came from in a YAML file (1-based; 0 when built in code). */
TERRACL_API void terracl_value_position(const terracl_value *v, int *line, int *column);

/* Scalars (undefined on the wrong type: check terracl_value_type_of). */
TERRACL_API int terracl_value_bool(const terracl_value *v);
TERRACL_API int64_t terracl_value_int(const terracl_value *v);
TERRACL_API double terracl_value_float(const terracl_value *v); /* ints convert */
TERRACL_API const char *terracl_value_string(const terracl_value *v);

/* Lists. append takes ownership of item (also on failure). */
TERRACL_API size_t terracl_value_list_size(const terracl_value *list);
TERRACL_API const terracl_value *terracl_value_list_get(const terracl_value *list, size_t i);
TERRACL_API terracl_status terracl_value_list_append(terracl_value *list, terracl_value *item,
                                                     terracl_error *err);

/* Maps. set takes ownership of item (also on failure) and replaces an
 * existing key in place. get marks the key as used; peek does not. */
TERRACL_API size_t terracl_value_map_size(const terracl_value *map);
TERRACL_API const char *terracl_value_map_key(const terracl_value *map, size_t i);
TERRACL_API const terracl_value *terracl_value_map_at(const terracl_value *map, size_t i);
TERRACL_API const terracl_value *terracl_value_map_get(const terracl_value *map, const char *key);
TERRACL_API const terracl_value *terracl_value_map_peek(const terracl_value *map, const char *key);
TERRACL_API terracl_status terracl_value_map_set(terracl_value *map, const char *key,
                                                 terracl_value *item, terracl_error *err);
/* Removes a key (freeing its value); returns 1 if it was there. */
TERRACL_API int terracl_value_map_remove(terracl_value *map, const char *key);

/*
 * Typed lookups with defaults, for constructors. A missing key (or a null
 * value) gives the default; a present key of the wrong type is
 * TERRACL_ERR_TYPE naming the key, the expected and the found type. Each
 * marks the key as used. Ints are accepted where floats are expected.
 */
TERRACL_API terracl_status terracl_args_int(const terracl_value *map, const char *key,
                                            int64_t def, int64_t *out, terracl_error *err);
TERRACL_API terracl_status terracl_args_float(const terracl_value *map, const char *key,
                                              double def, double *out, terracl_error *err);
TERRACL_API terracl_status terracl_args_bool(const terracl_value *map, const char *key, int def,
                                             int *out, terracl_error *err);
/* *out is borrowed from the map (or is `def`). */
TERRACL_API terracl_status terracl_args_string(const terracl_value *map, const char *key,
                                               const char *def, const char **out,
                                               terracl_error *err);
/* A list of ints; *count <= cap values are written (a longer list is
 * TERRACL_ERR_INVALID_ARG naming the key). A scalar int is taken as a list
 * of one. Missing key: *count = 0 and *present = 0 (present may be NULL). */
TERRACL_API terracl_status terracl_args_int_list(const terracl_value *map, const char *key,
                                                 int64_t *out, size_t cap, size_t *count,
                                                 int *present, terracl_error *err);

/*
 * The value as YAML text (block style; lists of scalars in flow style;
 * strings quoted whenever a plain scalar would read back as another type),
 * such that reading it back gives an equal tree. *out is a NUL-terminated
 * string the caller frees with free().
 */
TERRACL_API terracl_status terracl_value_to_yaml(const terracl_value *v, char **out,
                                                 terracl_error *err);

/* Keys of the map (not recursing) that no get/args call has read. Writes up
 * to `cap` borrowed key pointers; returns the total number unused. */
TERRACL_API size_t terracl_value_unused_keys(const terracl_value *map, const char **keys,
                                             size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_VALUE_H */
