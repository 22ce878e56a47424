/*
 * Value internals shared with the YAML reader, the registries and the CLI:
 * source positions, equality, size accounting and YAML 1.1 scalar
 * resolution (the part of PyYAML's resolver that TerraTorch configs use).
 */
#ifndef TC_CORE_VALUE_H
#define TC_CORE_VALUE_H

#include <stddef.h>

#include "core/error.h"
#include "terracl/value.h"

/* Records where a value came from (1-based line and column). */
void tc_value_set_position(terracl_value *v, int line, int column);

/* " (line 3, column 7)" when the value has a position, else "". */
const char *tc_value_where(const terracl_value *v, char *buf, size_t cap);

/* Deep equality of type and content (positions and used marks ignored;
 * NaN equals NaN so that round trips compare equal). */
int tc_value_equal(const terracl_value *a, const terracl_value *b);

/* Number of values in the tree (1 for a scalar). */
size_t tc_value_count(const terracl_value *v);

/* Approximate heap bytes the tree occupies (nodes, strings, keys, arrays);
 * saturates at SIZE_MAX. What an alias expansion costs in memory. */
size_t tc_value_bytes(const terracl_value *v);

/* Marks every key of a map (not recursing) as used or unused. */
void tc_value_map_mark_all(const terracl_value *map, int used);

/* Index of `key` in the map, or (size_t)-1; does not mark it used. */
size_t tc_value_map_index(const terracl_value *map, const char *key);

/* Moves the entries of `src` (a map) to the end of `dst`, replacing
 * existing keys in place; frees src. */
TC_NODISCARD terracl_status tc_value_map_merge_into(terracl_value *dst, terracl_value *src,
                                                    terracl_error *err);

/*
 * Resolves a plain (unquoted, untagged) YAML scalar as PyYAML's safe
 * loader does: null (~, null, Null, NULL, empty), bool (true/false, yes/no,
 * on/off in their three spellings), int (decimal, 0x, 0b, 0-octal, "_"
 * separators, sexagesimal), float (with a dot, .inf, .nan; and, as
 * jsonargparse's loader does for Lightning configs, exponents without a dot
 * such as 1e-4). Everything else is a string. Returns a new value (NULL
 * when out of memory) or, for an int that does not fit 64 bits,
 * TERRACL_ERR_OVERFLOW through *status.
 */
terracl_value *tc_value_resolve_plain(const char *text, terracl_status *status);

/* Resolution for explicit tags: kind is one of "null", "bool", "int",
 * "float"; NULL when the text does not fit the tag (or out of memory:
 * *status says which). */
terracl_value *tc_value_resolve_tagged(const char *text, const char *kind,
                                       terracl_status *status);

/* Edit distance (Levenshtein, ASCII case ignored) between a and b, each
 * compared over at most its first 255 characters. */
size_t tc_edit_distance(const char *a, const char *b);

/*
 * Picks the (up to) `k` (at most 8) names of `names` nearest to `query` by
 * edit distance, ties broken by order in `names`; writes their indices to
 * `best` and returns how many were written. Duplicate names count once.
 */
size_t tc_nearest_names(const char *query, const char *const *names, size_t n, size_t k,
                        size_t *best);

/*
 * Whether `name` is near enough to `query` to be worth suggesting: an edit
 * distance of at most a third of the query's length (at least 1), or, for
 * queries of 4 characters or more, one name containing the other (ASCII
 * case ignored): "UNetDecodr" and "UNet" suggest UNetDecoder, "smp_FPN"
 * suggests nothing.
 */
int tc_name_is_near(const char *query, const char *name);

/* A new list of ints; NULL when out of memory. */
terracl_value *tc_value_int_list(const int64_t *v, size_t n);

/* For building configs in a row of calls: sets map[key] = val unless *st
 * already holds a failure; a NULL val (out of memory) becomes one. Takes
 * ownership of val in every case. */
void tc_value_set_chained(terracl_value *map, const char *key, terracl_value *val,
                          terracl_status *st, terracl_error *err);

#endif /* TC_CORE_VALUE_H */
