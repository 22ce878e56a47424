/*
 * Predicting a GeoTIFF scene from C: the sample scene model (its checkpoint
 * carries its TerraTorch config) over weights/sample/scene.tif, with a
 * progress callback. The prediction is a georeferenced GeoTIFF.
 *
 *   predict_scene EXAMPLE_DIR [OUTPUT.tif]    (default: $TMPDIR or /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <terracl/terracl.h>

static void on_progress(const struct terracl_predict_progress *p, void *user)
{
    int *calls = user;
    if ((*calls)++ == 0)
        printf("predicting: %lld chips, %lld rows\n", (long long)p->chips_total,
               (long long)p->rows_total);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: predict_scene EXAMPLE_DIR [OUTPUT.tif]\n");
        return 2;
    }
    char weights[4096], scene[4096];
    snprintf(weights, sizeof weights, "%s/../../weights/sample/scene_model.h5", argv[1]);
    snprintf(scene, sizeof scene, "%s/../../weights/sample/scene.tif", argv[1]);
    char tmp_out[4096];
    const char *tmpdir = getenv("TMPDIR");
    snprintf(tmp_out, sizeof tmp_out, "%s/terracl-example-scene_pred.tif", tmpdir ? tmpdir : "/tmp");
    const char *output = argc > 2 ? argv[2] : tmp_out;

    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    terracl_model *model = NULL;
    terracl_predictor *predictor = NULL;
    int calls = 0, rc = 1;
    struct terracl_predict_options opt = {0};
    opt.overwrite = 1;
    opt.progress = on_progress;
    opt.progress_user = &calls;
    struct terracl_predict_result res;
    if (terracl_runtime_create(NULL, &rt, &err) != TERRACL_OK ||
        terracl_model_load(rt, NULL, weights, &model, &err) != TERRACL_OK ||
        terracl_predictor_create(model, &predictor, &err) != TERRACL_OK ||
        terracl_predict_scene(predictor, scene, output, &opt, &res, &err) != TERRACL_OK) {
        fprintf(stderr, "predict_scene: %s\n", err.message);
        goto out;
    }
    printf("%s: %lld x %lld, %lld chips, %s\n", output, (long long)res.height, (long long)res.width,
           (long long)res.chips, res.georeferenced ? "georeferenced" : "not georeferenced");
    rc = calls > 0 && res.chips > 1 ? 0 : 1;
out:
    terracl_predictor_destroy(predictor);
    terracl_model_destroy(model);
    terracl_runtime_destroy(rt);
    return rc;
}
