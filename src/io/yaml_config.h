/*
 * TerraTorch YAML configs: reading YAML into a value tree (the only module
 * that includes yaml.h), finding the model section of a Lightning or a
 * plain config, and reading band lists.
 *
 * Every error is TERRACL_ERR_CONFIG (or IO for an unreadable file) with a
 * message "file:line:column: what is wrong".
 */
#ifndef TC_IO_YAML_CONFIG_H
#define TC_IO_YAML_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "terracl/value.h"

/* Nesting deeper than this is an error (configs need about 6 levels). */
#define TC_YAML_MAX_DEPTH 64
/* Values after expanding aliases; more is an error (alias bombs). */
#define TC_YAML_MAX_VALUES (1u << 20)
/* Bytes the tree may occupy after expanding aliases (a few aliases of one
 * long anchored string would otherwise turn a 1 MiB file into gigabytes). */
#define TC_YAML_MAX_BYTES ((size_t)128 << 20)

/*
 * Parses exactly one YAML document into a value tree with line/column on
 * every value. Scalars are typed as PyYAML's safe loader types them (see
 * tc_value_resolve_plain); quoted scalars are strings. Anchors, aliases and
 * merge keys ("<<: *base") are expanded. Duplicate keys, unknown aliases,
 * nesting deeper than TC_YAML_MAX_DEPTH, zero or several documents are
 * errors. `name` labels the text in messages (a file name or "<string>").
 * *out is owned by the caller.
 */
TC_NODISCARD terracl_status tc_yaml_parse(const char *text, size_t len, const char *name,
                                          terracl_value **out, terracl_error *err);
TC_NODISCARD terracl_status tc_yaml_load_file(const char *path, terracl_value **out,
                                              terracl_error *err);

enum tc_task {
    TC_TASK_NONE, /* not stated (a top-level config without `task`) */
    TC_TASK_SEGMENTATION,
    TC_TASK_REGRESSION,
    TC_TASK_CLASSIFICATION,
    TC_TASK_SCALAR_REGRESSION,
};

/* "segmentation", "regression", "classification" or "none". */
const char *tc_task_name(enum tc_task task);

/* The model section of a config; every pointer is borrowed from the tree. */
struct tc_model_config {
    const char *factory;                 /* "EncoderDecoderFactory" */
    enum tc_task task;
    const char *task_class;              /* model.class_path, or NULL */
    const terracl_value *model_args;     /* map */
    const terracl_value *tiled_inference; /* map, or NULL when absent */
    int lightning;                       /* 1: model.init_args.*, 0: top-level keys */
};

/*
 * Finds the model section: a Lightning config (model.class_path naming a
 * TerraTorch task, model.init_args.model_factory / model_args /
 * tiled_inference_parameters) or the same keys at the top level
 * (model_factory, model_args, task, tiled_inference_parameters). `name`
 * labels messages. Missing or mistyped keys are TERRACL_ERR_CONFIG naming
 * the key path and its position; task classes terracl cannot run are
 * TERRACL_ERR_UNSUPPORTED.
 */
TC_NODISCARD terracl_status tc_config_model(const terracl_value *root, const char *name,
                                            struct tc_model_config *out, terracl_error *err);

/* One entry of a band list: a known band name (HLS or SAR) or an integer. */
struct tc_band {
    int is_name;
    const char *name; /* canonical static string when is_name */
    int64_t index;    /* when !is_name */
};

/* Whether `name` is a band name terracl knows (HLSBands, SAR bands). */
int tc_band_name_known(const char *name);

/*
 * Validates a bands list (each entry a known band name or an int) and
 * copies up to `cap` entries to `out`; *count is the list length. More
 * than `cap` entries, a non-list, an unknown name (the message suggests the
 * nearest) or another type is an error naming `key` and the position.
 */
TC_NODISCARD terracl_status tc_config_bands(const terracl_value *list, const char *key,
                                            struct tc_band *out, size_t cap, size_t *count,
                                            terracl_error *err);

#endif /* TC_IO_YAML_CONFIG_H */
