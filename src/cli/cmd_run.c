/*
 * terracl run: config + checkpoint + input file -> output file.
 *
 *   terracl run --config C.yaml --weights W.h5 --input IN.h5 --output OUT.h5 [--device D] [--tiled]
 *
 * The model runs as TerraTorch's model(x); --tiled applies the config's
 * tiled_inference_parameters as TerraTorch's tiled_inference does.
 *
 * The output is written to a temporary file in its folder and renamed into
 * place, so a failed run never leaves a partial file or clobbers an
 * existing one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output_image.h"
#include "cli/output_path.h"
#include "io/tensor_file.h"
#include "io/yaml_config.h"

static const char k_usage[] =
    "usage: terracl run [--config C.yaml] --weights W.h5 --input IN.h5 --output OUT.h5|OUT.png "
    "[--device D] [--tiled] [--allow-missing-modalities]\n";
static const char k_help[] =
    "\nRuns a model on the batch in IN.h5 and writes its output.\n"
    "  --config C.yaml    TerraTorch config (Lightning or top-level model_args); may be left out\n"
    "                     when W.h5 stores its config\n"
    "  --weights W.h5     converted checkpoint (tools/convert_checkpoint.py); may be left out when\n"
    "                     the config's backbone has a ckpt_path\n"
    "  --input IN.h5      dataset input [B, C, H, W] or [B, C, T, H, W]; optional temporal_coords\n"
    "                     [B, T, 2] and location_coords [B, 2]. Multimodal (TerraMind) models:\n"
    "                     one dataset [B, C_m, H, W] per modality, named as the config's\n"
    "                     modalities (e.g. S2L2A, S1GRD); with one modality `input` also works\n"
    "  --allow-missing-modalities\n"
    "                     run with the modalities the file has, as TerraTorch does with a\n"
    "                     partial input dict (default: every modality is required)\n"
    "  --output OUT       OUT.h5: dataset output (merge_method dict: output/<modality>);\n"
    "                     OUT.png: a picture of the prediction\n"
    "  --device D         index from `terracl devices`, cpu, gpu, accelerator or part of a device\n"
    "                     name (default: TERRACL_DEVICE, else the first GPU, else the first device)\n"
    "  --tiled            apply the config's tiled_inference_parameters as TerraTorch's\n"
    "                     tiled_inference does (default: one model(x) pass)\n"
    "  -h, --help         this text\n";

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "terracl run: %s\n", msg);
    fputs(k_usage, stderr);
    return 2;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads an optional dataset: absent is fine, anything else wrong is not. */
static terracl_status read_optional(const char *path, const char *name, struct tc_host_tensor *t,
                                    terracl_error *err)
{
    terracl_status st = tc_tensor_file_read(path, name, t, err);
    if (st == TERRACL_ERR_NOT_FOUND) {
        memset(t, 0, sizeof *t);
        return TERRACL_OK;
    }
    return st;
}

static struct terracl_tensor as_tensor(struct tc_host_tensor *t)
{
    struct terracl_tensor r = {0};
    r.data = t->data;
    r.ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++)
        r.dims[i] = t->dims[i];
    return r;
}

/* Multimodal models have at most this many modalities (and outputs). */
#define TC_RUN_MAX_OUTPUTS 8

/* Reads one image dataset after checking its declared shape against what
 * the model would need (a tiny compressed file may declare gigabytes). */
static terracl_status read_checked(terracl_model *model, const char *path, const char *name,
                                   struct tc_host_tensor *t, terracl_error *err)
{
    struct tc_host_tensor declared = {0};
    terracl_status st = tc_tensor_file_shape(path, name, &declared, err);
    if (st == TERRACL_OK)
        st = terracl_model_check_input(model, declared.ndim, declared.dims, err);
    if (st == TERRACL_OK)
        st = tc_tensor_file_read(path, name, t, err);
    if (st != TERRACL_OK && st != TERRACL_ERR_NOT_FOUND)
        tc_fail_context(err, st, "%s: dataset %s", path, name);
    return st;
}

/* The input images: `input`, or for a multimodal model one dataset per
 * modality named as the config names it. Every modality is required unless
 * allow_missing; a single-modality model also takes `input`. */
static terracl_status read_images(terracl_model *model, const char *path, int allow_missing,
                                  struct tc_host_tensor *image, struct tc_host_tensor *mods,
                                  struct terracl_named_tensor *named, size_t *nnamed,
                                  terracl_error *err)
{
    size_t nm = terracl_model_modality_count(model);
    *nnamed = 0;
    if (nm == 0)
        return read_checked(model, path, "input", image, err);
    if (nm > TC_RUN_MAX_OUTPUTS)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "%zu modalities", nm);
    char absent[256] = "", all[256] = "";
    for (size_t j = 0; j < nm; j++) {
        const char *name = terracl_model_modality_name(model, j);
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", j ? ", " : "", name);
        terracl_status st = read_checked(model, path, name, &mods[*nnamed], err);
        if (st == TERRACL_ERR_NOT_FOUND) {
            snprintf(absent + strlen(absent), sizeof absent - strlen(absent), "%s%s",
                     absent[0] ? ", " : "", name);
            continue;
        }
        if (st != TERRACL_OK)
            return st;
        named[*nnamed].name = name;
        named[*nnamed].tensor = as_tensor(&mods[*nnamed]);
        (*nnamed)++;
    }
    if (*nnamed == 0) {
        if (nm == 1)
            return read_checked(model, path, "input", image, err);
        return tc_fail(err, TERRACL_ERR_NOT_FOUND,
                       "%s: no dataset for any modality of the model (%s): give one dataset "
                       "[B, C, H, W] per modality, named after it",
                       path, all);
    }
    if (absent[0] && !allow_missing)
        return tc_fail(err, TERRACL_ERR_NOT_FOUND,
                       "%s: no dataset for modality %s (the model's modalities: %s); add it, or "
                       "pass --allow-missing-modalities to run without it as TerraTorch does",
                       path, absent, all);
    return TERRACL_OK;
}

int tc_cmd_run(int argc, char **argv)
{
    const char *config = NULL, *weights = NULL, *input = NULL, *output = NULL;
    struct terracl_runtime_params params = {0};
    int tiled = 0, allow_missing = 0;
    if (tc_cli_wants_help(argc, argv)) {
        printf("%s%s", k_usage, k_help);
        return 0;
    }
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (strcmp(argv[i], "--tiled") == 0)
            tiled = 1;
        else if (strcmp(argv[i], "--allow-missing-modalities") == 0)
            allow_missing = 1;
        else if ((v = tc_cli_option(argc, argv, &i, "--config", &missing)))
            config = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--weights", &missing)))
            weights = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--input", &missing)))
            input = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--output", &missing)))
            output = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--device", &missing)))
            params.device = v;
        else {
            fprintf(stderr, "terracl run: %s '%s'\n",
                    missing ? "missing value for" : "unknown argument", argv[i]);
            return usage(NULL);
        }
    }
    if (input == NULL || output == NULL)
        return usage("--input and --output are required");
    if (config == NULL && weights == NULL)
        return usage("give --config, --weights, or both");

    /* The output is checked before any work is done. */
    const char *inputs[] = {config, weights, input};
    if (!tc_cli_output_ok(output, inputs, sizeof inputs / sizeof inputs[0]))
        return 1;

    terracl_error err = {0};
    terracl_status st;
    struct tc_host_tensor image = {0}, tcoords = {0}, lcoords = {0};
    terracl_runtime *rt = NULL;
    terracl_model *model = NULL;
    struct tc_host_tensor mods[TC_RUN_MAX_OUTPUTS];
    struct terracl_named_tensor named[TC_RUN_MAX_OUTPUTS], outs[TC_RUN_MAX_OUTPUTS];
    size_t nnamed = 0, nout = 0;
    int rc = 1;
    memset(mods, 0, sizeof mods);
    memset(outs, 0, sizeof outs);

    /* Everything that can be checked on the host comes first: the config
     * (a broken YAML file is reported before anything else) and inputs. */
    if (config != NULL) {
        terracl_value *root = NULL;
        struct tc_model_config cfg;
        st = tc_yaml_load_file(config, &root, &err);
        if (st == TERRACL_OK)
            st = tc_config_model(root, config, &cfg, &err);
        terracl_value_free(root);
        if (st != TERRACL_OK) {
            rc = tc_cli_fail(&err, st);
            goto out;
        }
    }
    /* HDF5 files are decoded in a child process first: libhdf5 can crash
     * on malformed metadata before any check of ours runs, and a crash
     * there must become an error message, not a dead process. */
    if ((weights != NULL && (st = terracl_h5_probe(weights, 0, 0, &err))) ||
        (st = terracl_h5_probe(input, TERRACL_H5_PROBE_DATA, 0, &err))) {
        rc = tc_cli_fail(&err, st);
        goto out;
    }
    if ((st = read_optional(input, "temporal_coords", &tcoords, &err)) ||
        (st = read_optional(input, "location_coords", &lcoords, &err)) ||
        (st = terracl_runtime_create(&params, &rt, &err)) ||
        (st = terracl_model_load(rt, config, weights, &model, &err)) ||
        (st = read_images(model, input, allow_missing, &image, mods, named, &nnamed, &err))) {
        rc = tc_cli_fail(&err, st);
        goto out;
    }
    const char *unused = terracl_model_unused_tensors(model);
    if (unused[0] != '\0')
        fprintf(stderr, "terracl: warning: %s\n", unused);

    struct terracl_inputs in = {0};
    if (nnamed > 0) {
        in.modalities = named;
        in.n_modalities = nnamed;
    } else {
        in.image = as_tensor(&image);
    }
    if (tcoords.data)
        in.temporal_coords = as_tensor(&tcoords);
    if (lcoords.data)
        in.location_coords = as_tensor(&lcoords);
    if (tiled) {
        st = terracl_model_run_tiled(model, &in, &outs[0].tensor, &err);
        outs[0].name = "output";
        nout = st == TERRACL_OK ? 1 : 0;
    } else {
        st = terracl_model_run_named(model, &in, outs, TC_RUN_MAX_OUTPUTS, &nout, &err);
    }
    if (st != TERRACL_OK) {
        rc = tc_cli_fail(&err, st);
        goto out;
    }
    struct terracl_tensor out = outs[0].tensor;
    if (ends_with(output, ".png")) {
        st = nout == 1 ? tc_write_output_png(output, terracl_model_task(model), &out, &err)
                       : tc_fail(&err, TERRACL_ERR_INVALID_ARG,
                                 "this model gives one output per modality; write them to an .h5 file");
    } else {
        struct tc_tensor_file_item items[TC_RUN_MAX_OUTPUTS];
        char names[TC_RUN_MAX_OUTPUTS][96];
        for (size_t k = 0; k < nout; k++) {
            /* "output", or output/<modality> for merge_method dict */
            if (strcmp(outs[k].name, "output") == 0)
                snprintf(names[k], sizeof names[k], "output");
            else
                snprintf(names[k], sizeof names[k], "output/%s", outs[k].name);
            items[k] = (struct tc_tensor_file_item){names[k], outs[k].tensor.ndim, outs[k].tensor.dims,
                                                    outs[k].tensor.data};
        }
        st = tc_tensor_file_write(output, items, nout, &err);
    }
    if (st != TERRACL_OK) {
        rc = tc_cli_fail(&err, st);
        goto out;
    }
    char shape[128] = "[";
    for (int i = 0; i < out.ndim; i++) {
        char d[32];
        snprintf(d, sizeof d, "%s%lld", i ? ", " : "", (long long)out.dims[i]);
        strncat(shape, d, sizeof shape - strlen(shape) - 2);
    }
    strcat(shape, "]");
    printf("%s: %s output %s%s on %s\n", output, terracl_model_task(model), shape,
           nout > 1 ? " per modality" : "", terracl_runtime_device(rt)->name);
    rc = 0;
out:
    for (size_t k = 0; k < nout; k++)
        free(outs[k].tensor.data);
    for (size_t k = 0; k < TC_RUN_MAX_OUTPUTS; k++)
        tc_host_tensor_free(&mods[k]);
    terracl_model_destroy(model);
    terracl_runtime_destroy(rt);
    tc_host_tensor_free(&image);
    tc_host_tensor_free(&tcoords);
    tc_host_tensor_free(&lcoords);
    return rc;
}
