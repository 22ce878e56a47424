/*
 * The parts of a TerraTorch config terracl needs: which factory builds the
 * model, with which arguments, for which task; and band lists, which
 * TerraTorch accepts as HLS/SAR band names or plain integers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/value.h"
#include "io/yaml_config.h"

/* CONFIG (or `code`) error "name:line:column: message" at value v. */
static terracl_status fail_value(terracl_error *err, terracl_status code, const char *name,
                                 const terracl_value *v, const char *fmt, ...) TC_PRINTF(5, 6);

static terracl_status fail_value(terracl_error *err, terracl_status code, const char *name,
                                 const terracl_value *v, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    terracl_value_position(v, &line, &col);
    if (line > 0)
        return tc_fail(err, code, "%s:%d:%d: %s", name, line, col, msg);
    return tc_fail(err, code, "%s: %s", name, msg);
}

const char *tc_task_name(enum tc_task task)
{
    switch (task) {
    case TC_TASK_SEGMENTATION:
        return "segmentation";
    case TC_TASK_REGRESSION:
        return "regression";
    case TC_TASK_CLASSIFICATION:
        return "classification";
    case TC_TASK_SCALAR_REGRESSION:
        return "scalar_regression";
    case TC_TASK_NONE:
        break;
    }
    return "none";
}

static const struct {
    const char *cls, *word;
    enum tc_task task;
} k_tasks[] = {
    {"SemanticSegmentationTask", "segmentation", TC_TASK_SEGMENTATION},
    {"PixelwiseRegressionTask", "regression", TC_TASK_REGRESSION},
    {"ClassificationTask", "classification", TC_TASK_CLASSIFICATION},
    {"ScalarRegressionTask", "scalar_regression", TC_TASK_SCALAR_REGRESSION},
    /* Same model and output shape; only the loss and metrics differ. */
    {"MultiLabelClassificationTask", "multilabel_classification", TC_TASK_CLASSIFICATION},
};
#define TC_NTASKS (sizeof k_tasks / sizeof k_tasks[0])

/* Looks a task up by class name (the last dotted part) or by word. */
static int find_task(const char *text, enum tc_task *task)
{
    const char *dot = strrchr(text, '.');
    const char *cls = dot ? dot + 1 : text;
    for (size_t i = 0; i < TC_NTASKS; i++) {
        if (strcmp(cls, k_tasks[i].cls) == 0 || strcmp(text, k_tasks[i].word) == 0) {
            *task = k_tasks[i].task;
            return 1;
        }
    }
    return 0;
}

/* Reads an optional key of the given type (null counts as absent). */
static terracl_status get_typed(const terracl_value *map, const char *key, const char *path,
                                terracl_value_type type, int required, const char *name,
                                const terracl_value **out, terracl_error *err)
{
    const terracl_value *v = terracl_value_map_peek(map, key);
    *out = NULL;
    if (v == NULL || terracl_value_type_of(v) == TERRACL_VALUE_NULL) {
        if (required)
            return fail_value(err, TERRACL_ERR_CONFIG, name, map, "%s is missing", path);
        return TERRACL_OK;
    }
    if (terracl_value_type_of(v) != type)
        return fail_value(err, TERRACL_ERR_CONFIG, name, v, "%s must be a %s, not a %s", path,
                          terracl_value_type_name(type),
                          terracl_value_type_name(terracl_value_type_of(v)));
    *out = v;
    return TERRACL_OK;
}

static terracl_status read_section(const terracl_value *sec, const char *prefix, const char *name,
                                   struct tc_model_config *out, terracl_error *err)
{
    char path[96];
    const terracl_value *v;
    snprintf(path, sizeof path, "%smodel_factory", prefix);
    terracl_status st = get_typed(sec, "model_factory", path, TERRACL_VALUE_STRING, 1, name, &v, err);
    if (st != TERRACL_OK)
        return st;
    out->factory = terracl_value_string(v);
    snprintf(path, sizeof path, "%smodel_args", prefix);
    st = get_typed(sec, "model_args", path, TERRACL_VALUE_MAP, 1, name, &out->model_args, err);
    if (st != TERRACL_OK)
        return st;
    snprintf(path, sizeof path, "%stiled_inference_parameters", prefix);
    return get_typed(sec, "tiled_inference_parameters", path, TERRACL_VALUE_MAP, 0, name,
                     &out->tiled_inference, err);
}

static terracl_status unsupported_task(const terracl_value *v, const char *path, const char *name,
                                       terracl_error *err)
{
    return fail_value(err, TERRACL_ERR_UNSUPPORTED, name, v,
                      "%s '%s' is not a task terracl runs (SemanticSegmentationTask, "
                      "PixelwiseRegressionTask, ClassificationTask, MultiLabelClassificationTask)",
                      path, terracl_value_string(v));
}

terracl_status tc_config_model(const terracl_value *root, const char *name,
                               struct tc_model_config *out, terracl_error *err)
{
    memset(out, 0, sizeof *out);
    if (name == NULL)
        name = "<config>";
    if (terracl_value_type_of(root) != TERRACL_VALUE_MAP)
        return fail_value(err, TERRACL_ERR_CONFIG, name, root,
                          "the config must be a mapping, not a %s",
                          terracl_value_type_name(terracl_value_type_of(root)));
    const terracl_value *model = terracl_value_map_peek(root, "model");
    int lightning = terracl_value_type_of(model) == TERRACL_VALUE_MAP &&
                    (terracl_value_map_peek(model, "class_path") != NULL ||
                     terracl_value_map_peek(model, "init_args") != NULL);
    terracl_status st;
    if (lightning) {
        out->lightning = 1;
        const terracl_value *cls, *init;
        st = get_typed(model, "class_path", "model.class_path", TERRACL_VALUE_STRING, 1, name,
                       &cls, err);
        if (st != TERRACL_OK)
            return st;
        out->task_class = terracl_value_string(cls);
        if (!find_task(out->task_class, &out->task))
            return unsupported_task(cls, "model.class_path", name, err);
        st = get_typed(model, "init_args", "model.init_args", TERRACL_VALUE_MAP, 1, name, &init,
                       err);
        if (st != TERRACL_OK)
            return st;
        return read_section(init, "model.init_args.", name, out, err);
    }
    if (terracl_value_map_peek(root, "model_factory") == NULL &&
        terracl_value_map_peek(root, "model_args") == NULL)
        return fail_value(err, TERRACL_ERR_CONFIG, name, root,
                          "no model section: expected model.class_path and model.init_args (a "
                          "Lightning config) or model_factory and model_args at the top level");
    const terracl_value *task;
    st = get_typed(root, "task", "task", TERRACL_VALUE_STRING, 0, name, &task, err);
    if (st != TERRACL_OK)
        return st;
    if (task != NULL && !find_task(terracl_value_string(task), &out->task))
        return unsupported_task(task, "task", name, err);
    return read_section(root, "", name, out, err);
}

/* ---- bands ---------------------------------------------------------------------------------- */

static const char *const k_bands[] = {
    /* HLSBands */
    "COASTAL_AEROSOL", "BLUE", "GREEN", "RED", "RED_EDGE_1", "RED_EDGE_2", "RED_EDGE_3",
    "NIR_BROAD", "NIR_NARROW", "SWIR_1", "SWIR_2", "WATER_VAPOR", "CIRRUS", "THERMAL_INFRARED_1",
    "THERMAL_INFRARED_2",
    /* SAR */
    "VV", "VH", "ASC_VV", "ASC_VH", "DSC_VV", "DSC_VH", "VV_VH"};
#define TC_NBANDS (sizeof k_bands / sizeof k_bands[0])

static const char *band_lookup(const char *name)
{
    for (size_t i = 0; i < TC_NBANDS; i++)
        if (strcmp(k_bands[i], name) == 0)
            return k_bands[i];
    return NULL;
}

int tc_band_name_known(const char *name) { return name != NULL && band_lookup(name) != NULL; }

terracl_status tc_config_bands(const terracl_value *list, const char *key, struct tc_band *out,
                               size_t cap, size_t *count, terracl_error *err)
{
    char where[64];
    *count = 0;
    if (terracl_value_type_of(list) != TERRACL_VALUE_LIST)
        return tc_fail(err, TERRACL_ERR_CONFIG, "'%s' must be a list of band names or integers, "
                                                "not a %s%s",
                       key, terracl_value_type_name(terracl_value_type_of(list)),
                       tc_value_where(list, where, sizeof where));
    size_t n = terracl_value_list_size(list);
    if (n > cap)
        return tc_fail(err, TERRACL_ERR_CONFIG, "'%s' has %zu bands, at most %zu are supported%s",
                       key, n, cap, tc_value_where(list, where, sizeof where));
    for (size_t i = 0; i < n; i++) {
        const terracl_value *b = terracl_value_list_get(list, i);
        terracl_value_type t = terracl_value_type_of(b);
        if (t == TERRACL_VALUE_INT) {
            out[i] = (struct tc_band){0, NULL, terracl_value_int(b)};
            continue;
        }
        if (t != TERRACL_VALUE_STRING)
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "'%s' entry %zu: a band is a name or an integer, not a %s%s", key, i,
                           terracl_value_type_name(t), tc_value_where(b, where, sizeof where));
        const char *canon = band_lookup(terracl_value_string(b));
        if (canon == NULL) {
            size_t best[3];
            size_t nb = tc_nearest_names(terracl_value_string(b), k_bands, TC_NBANDS, 3, best);
            return tc_fail(err, TERRACL_ERR_CONFIG,
                           "'%s' entry %zu: unknown band '%s'%s (nearest: %s%s%s%s%s)", key, i,
                           terracl_value_string(b), tc_value_where(b, where, sizeof where),
                           k_bands[best[0]], nb > 1 ? ", " : "", nb > 1 ? k_bands[best[1]] : "",
                           nb > 2 ? ", " : "", nb > 2 ? k_bands[best[2]] : "");
        }
        out[i] = (struct tc_band){1, canon, 0};
    }
    *count = n;
    return TERRACL_OK;
}
