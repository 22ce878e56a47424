/*
 * terracl predict: GeoTIFF scenes in, georeferenced predictions out, as
 * `terratorch predict` writes them.
 *
 *   terracl predict --config C.yaml --weights W.h5 --input PATH [--input PATH ...]
 *                   --output-dir DIR [--device D] [--logits] [--out-dtype T]
 *                   [--overwrite] [--quiet] [--split-scene] [--allow-missing-modalities]
 *
 * PATH is a scene or a folder (its *.tif / *.tiff, sorted). Scene S gives
 * DIR/<stem>_pred.tif (or <stem>_logits.tif). For a multimodal model the
 * inputs are NAME=FILE, one scene per modality, together one sample, named
 * after the first. A scene that fails is reported
 * in one line and the others still run; the exit status is 1 if any failed.
 *
 * Under mpirun or srun the ranks share the scenes (cli/dist.h): rank 0
 * hands them out one at a time and prints the summary line.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/dist.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: terracl predict [--config C.yaml] --weights W.h5 --input PATH [--input PATH ...]\n"
            "                       --output-dir DIR [--device D] [--logits] [--out-dtype T]\n"
            "                       [--overwrite] [--quiet] [--split-scene]\n"
            "                       [--allow-missing-modalities]\n"
            "\n"
            "Runs a TerraTorch model over GeoTIFF scenes as `terratorch predict` does: bands,\n"
            "nodata, constant_scale and means/stds from the config's data section, tiling from\n"
            "model.init_args.tiled_inference_parameters.\n"
            "\n"
            "  --input PATH      a GeoTIFF, or a folder: every *.tif / *.tiff in it (repeatable)\n"
            "  --input NAME=FILE multimodal models: the scene of modality NAME (as the config's\n"
            "                    modalities name it), one per modality, all on one grid; they\n"
            "                    make one prediction, named after the first\n"
            "  --allow-missing-modalities\n"
            "                    run without the modalities no scene is given for, as TerraTorch\n"
            "                    does (default: an error naming them)\n"
            "  --output-dir DIR  where DIR/<stem>_pred.tif (or <stem>_logits.tif) go\n"
            "  --logits          write the blended model output (float32, one band per channel)\n"
            "  --out-dtype T     output type: int16 (segmentation default), float32 (regression\n"
            "                    default), int32, float64, uint8, uint16, uint32\n"
            "  --overwrite       replace existing outputs (default: keep them and skip the scene)\n"
            "  --quiet           no progress or summary lines\n"
            "  --split-scene     under MPI: every rank runs a band of each scene's chip rows\n"
            "                    (also when there are fewer scenes than ranks); the output is\n"
            "                    the same as one process's\n"
            "  --device D        index from `terracl devices`, cpu, gpu, accelerator or part of a\n"
            "                    device name (default: TERRACL_DEVICE, else the first GPU);\n"
            "                    D:K is the K-th device D matches, D:local the one of this\n"
            "                    process's rank on its node (modulo their number)\n"
            "  -h, --help        this text\n"
            "  --config may be left out when the checkpoint carries its config.\n"
            "\n"
            "Under MPI (mpirun -np N terracl predict ..., or srun) rank 0 hands the scenes out\n"
            "one at a time to the ranks as they become free (it predicts too) and prints one\n"
            "summary line; every rank needs the same config and checkpoint and a folder shared\n"
            "with the others for the scenes and outputs.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "terracl predict: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr);
    return 2;
}

struct scene_list {
    char **paths;
    size_t n, cap;
};

static int list_add(struct scene_list *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (p == NULL)
            return 0;
        l->paths = p;
        l->cap = cap;
    }
    l->paths[l->n] = strdup(path);
    return l->paths[l->n++] != NULL;
}

static void list_free(struct scene_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
}

/* The scenes of one multimodal sample (--input NAME=FILE); n 0 when the
 * inputs are plain scenes. */
struct modality_scenes {
    struct terracl_scene_input in[32];
    size_t n;
};

/* NAME=FILE: NAME made of letters, digits, '_' and '-', and the argument
 * not itself an existing path (a file may have '=' in its name). */
static int is_named_input(const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || access(arg, F_OK) == 0)
        return 0;
    for (const char *c = arg; c < eq; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

static void modality_scenes_free(struct modality_scenes *m)
{
    for (size_t i = 0; i < m->n; i++)
        free((char *)m->in[i].modality);
    m->n = 0;
}

/* One prediction: a plain scene, or the sample of every modality. */
static terracl_status predict_one(terracl_predictor *pred, const struct modality_scenes *mm,
                                  const char *scene, const char *out,
                                  const struct terracl_predict_options *opt,
                                  struct terracl_predict_result *res, terracl_error *err)
{
    if (mm->n == 0)
        return terracl_predict_scene(pred, scene, out, opt, res, err);
    return terracl_predict_scenes(pred, mm->in, mm->n, out, opt, res, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_tiff_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot != NULL && (strcasecmp(dot, ".tif") == 0 || strcasecmp(dot, ".tiff") == 0);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int same_folder(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* A file as given, or a folder's *.tif / *.tiff sorted by name. When the
 * folder is also the output folder, earlier predictions in it are not
 * scenes. */
static int expand_input(const char *path, const char *outdir, struct scene_list *l)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "terracl: %s: %s\n", path, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return list_add(l, path);
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "terracl: %s: cannot list the folder (%s)\n", path, strerror(errno));
        return 0;
    }
    size_t first = l->n;
    struct dirent *e;
    int ok = 1, is_outdir = same_folder(path, outdir);
    while (ok && (e = readdir(d)) != NULL) {
        if (!is_tiff_name(e->d_name))
            continue;
        if (is_outdir && (ends_with(e->d_name, "_pred.tif") || ends_with(e->d_name, "_logits.tif")))
            continue;
        char full[4096];
        int w = snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        ok = w > 0 && (size_t)w < sizeof full && list_add(l, full);
    }
    closedir(d);
    qsort(l->paths + first, l->n - first, sizeof *l->paths, cmp_str);
    if (ok && l->n == first)
        fprintf(stderr, "terracl: warning: %s: no *.tif or *.tiff files in the folder\n", path);
    return ok;
}

/* DIR/<stem of scene>_<suffix>.tif */
static int output_path(const char *dir, const char *scene, const char *suffix, char *out, size_t cap)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", scene);
    char *name = basename(copy);
    char *dot = strrchr(name, '.');
    if (dot != NULL && dot != name)
        *dot = '\0';
    int w = snprintf(out, cap, "%s/%s_%s.tif", dir, name, suffix);
    return w > 0 && (size_t)w < cap;
}

struct progress_state {
    int enabled;
    struct tc_dist_sched *sched; /* answered between batches */
    size_t index, count;
    const char *scene;
    double start, last;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_progress(const struct terracl_predict_progress *p, void *user)
{
    struct progress_state *s = user;
    tc_dist_serve(s->sched);
    double t = now_s();
    int done = p->chips_done == p->chips_total && p->rows_done == p->rows_total;
    if (!s->enabled || (t - s->last < 0.25 && !done))
        return;
    s->last = t;
    double el = t - s->start, rate = el > 0 ? (double)p->chips_done / el : 0.0;
    double eta = rate > 0 ? (double)(p->chips_total - p->chips_done) / rate : 0.0;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s: chips %lld/%lld, rows %lld/%lld, %.1f chips/s, ETA %.0f s",
            s->index + 1, s->count, s->scene, (long long)p->chips_done, (long long)p->chips_total,
            (long long)p->rows_done, (long long)p->rows_total, rate, eta);
    fflush(stderr);
}

static int ensure_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 1;
        fprintf(stderr, "terracl: %s: the output folder is not a folder\n", dir);
        return 0;
    }
    /* EEXIST: another rank made it first. */
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "terracl: %s: cannot create the output folder (%s)\n", dir, strerror(errno));
        return 0;
    }
    return 1;
}

/* "SEL:local" -> "SEL:<rank on this node>" (the library's K-th match). */
static const char *resolve_local_device(const char *device, const struct tc_dist *d, char *buf,
                                        size_t cap)
{
    if (device == NULL || !ends_with(device, ":local"))
        return device;
    int w = snprintf(buf, cap, "%.*s:%d", (int)(strlen(device) - strlen(":local")), device,
                     d->local_rank);
    return w > 0 && (size_t)w < cap ? buf : device;
}

/* Rank 0's last line: `terracl predict: N ranks, ...`. */
static void print_summary(const struct tc_dist *d, const struct tc_dist_totals *t, double wall)
{
    int64_t done = 0, failed = 0, skipped = 0;
    double pixels = 0;
    for (int r = 0; r < d->size; r++) {
        done += t->ranks[r].scenes;
        failed += t->ranks[r].failed;
        skipped += t->ranks[r].skipped;
        pixels += t->ranks[r].pixels;
    }
    int64_t not_run = t->scenes - done;
    double mp = pixels / 1e6;
    printf("terracl predict: %d rank%s, %lld scene%s (%lld predicted, %lld kept, %lld failed", d->size,
           d->size == 1 ? "" : "s", (long long)t->scenes, t->scenes == 1 ? "" : "s",
           (long long)(done - failed - skipped), (long long)skipped, (long long)failed);
    if (not_run > 0)
        printf(", %lld not run", (long long)not_run);
    printf("), %.2f MP in %.2f s, %.3f MP/s overall; per rank MP/s:", mp, wall,
           wall > 0 ? mp / wall : 0.0);
    for (int r = 0; r < d->size; r++) {
        const struct tc_dist_rank_totals *k = &t->ranks[r];
        printf(" %d:%.3f", r, k->seconds > 0 ? k->pixels / 1e6 / k->seconds : 0.0);
    }
    printf("\n");
    fflush(stdout);
}

/* Every rank runs part of each scene (--split-scene, or fewer scenes than
 * ranks); rank 0 joins the parts. A rank whose part fails ends the job:
 * its neighbours would wait for its rows forever. */
static int predict_split(const struct tc_dist *dist, terracl_predictor *pred,
                         struct terracl_predict_options *opt, const struct scene_list *scenes,
                         const struct modality_scenes *mm, const char *outdir, int quiet)
{
    struct terracl_predict_split sp;
    tc_dist_split_init(dist, &sp);
    opt->split = &sp;
    int64_t n = tc_dist_bcast_int(dist, (int64_t)scenes->n), failed = 0;
    double t_start = now_s(), totals[2] = {0, 0}; /* pixels, seconds of this rank */
    for (int64_t i = 0; i < n; i++) {
        char scene[4096] = "", out[4096];
        if (dist->rank == 0)
            snprintf(scene, sizeof scene, "%s", scenes->paths[i]);
        tc_dist_bcast_text(dist, scene, sizeof scene);
        if (!output_path(outdir, scene, opt->logits ? "logits" : "pred", out, sizeof out)) {
            if (dist->rank == 0)
                fprintf(stderr, "terracl: %s: output path too long\n", scene);
            failed++;
            continue;
        }
        /* Rank 0 decides whether the scene is done, for everyone. */
        int exists = tc_dist_bcast_int(dist, !opt->overwrite && access(out, F_OK) == 0) != 0;
        if (exists) {
            if (dist->rank == 0 && !quiet)
                printf("%s: kept the existing %s (--overwrite replaces it)\n", scene, out);
            continue;
        }
        terracl_error err = {0};
        struct terracl_predict_result res;
        terracl_status st = predict_one(pred, mm, scene, out, opt, &res, &err);
        if (st != TERRACL_OK) {
            fprintf(stderr, "[rank %d] ", dist->rank);
            tc_cli_fail(&err, st);
            /* The neighbours may be waiting for this rank's rows, and would
             * wait forever: a failed shared scene ends the job. */
            fflush(stdout);
            tc_dist_abort(dist, 1);
        }
        if (!tc_dist_all_ok(dist, st == TERRACL_OK)) {
            char part[4096];
            if (st == TERRACL_OK && terracl_predict_part_path(out, dist->rank, dist->size, part, sizeof part))
                unlink(part);
            failed++;
            continue;
        }
        totals[0] += (double)res.width * (double)res.rows;
        totals[1] += res.seconds;
        if (dist->rank == 0) {
            double t0 = now_s();
            if ((st = terracl_predict_join_parts(scene, out, dist->size, &err)) != TERRACL_OK) {
                tc_cli_fail(&err, st);
                failed++;
            } else if (!quiet) {
                double mp = (double)res.width * (double)res.height / 1e6, s = res.seconds + now_s() - t0;
                printf("%s -> %s: %lld x %lld over %d ranks, %.2f s, %.3f MP/s\n", scene, out,
                       (long long)res.height, (long long)res.width, dist->size, s, s > 0 ? mp / s : 0.0);
                fflush(stdout);
            }
        }
    }
    double *all = calloc((size_t)dist->size * 2, sizeof *all);
    tc_dist_gather(dist, totals[0], all);
    tc_dist_gather(dist, totals[1], all ? all + dist->size : NULL);
    if (dist->rank == 0 && all != NULL && !quiet) {
        double wall = now_s() - t_start, pixels = 0;
        for (int r = 0; r < dist->size; r++)
            pixels += all[r];
        printf("terracl predict: %d ranks, %lld scene%s split across the ranks (%lld failed), %.2f MP "
               "in %.2f s, %.3f MP/s overall; per rank MP/s:",
               dist->size, (long long)n, n == 1 ? "" : "s", (long long)failed, pixels / 1e6, wall,
               wall > 0 ? pixels / 1e6 / wall : 0.0);
        for (int r = 0; r < dist->size; r++)
            printf(" %d:%.3f", r, all[dist->size + r] > 0 ? all[r] / 1e6 / all[dist->size + r] : 0.0);
        printf("\n");
        fflush(stdout);
    }
    free(all);
    if (failed > 0 && dist->rank == 0)
        fprintf(stderr, "terracl: %lld of %lld scenes failed\n", (long long)failed, (long long)n);
    return failed > 0;
}

static int predict_split_main(const struct tc_dist *dist, const struct terracl_runtime_params *params,
                              const char *config, const char *weights,
                              struct terracl_predict_options *opt, struct scene_list *scenes,
                              const struct modality_scenes *mm, const char *outdir, int quiet,
                              int list_rc)
{
    terracl_error err = {0};
    terracl_status st = TERRACL_OK;
    terracl_runtime *rt = NULL;
    terracl_model *model = NULL;
    terracl_predictor *pred = NULL;
    int ok = ensure_dir(outdir);
    if (ok && ((st = terracl_runtime_create(params, &rt, &err)) ||
               (st = terracl_model_load(rt, config, weights, &model, &err)) ||
               (st = terracl_predictor_create(model, &pred, &err)))) {
        fprintf(stderr, "[rank %d] ", dist->rank);
        tc_cli_fail(&err, st);
        ok = 0;
    }
    int rc = 1;
    if (tc_dist_all_ok(dist, ok))
        rc = predict_split(dist, pred, opt, scenes, mm, outdir, quiet) || list_rc;
    terracl_predictor_destroy(pred);
    terracl_model_destroy(model);
    terracl_runtime_destroy(rt);
    list_free(scenes);
    return rc;
}

static int predict_main(int argc, char **argv, const struct tc_dist *dist)
{
    const char *config = NULL, *weights = NULL, *outdir = NULL;
    struct terracl_runtime_params params = {0};
    struct terracl_predict_options opt = {0};
    int quiet = 0, rc = 0, list_rc = 0, split = 0;
    struct scene_list inputs = {0}, scenes = {0};
    struct modality_scenes mm = {0};
    char device_buf[256];
    if (tc_cli_wants_help(argc, argv)) {
        if (dist->rank == 0)
            usage(stdout);
        return 0;
    }
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (strcmp(argv[i], "--logits") == 0) {
            opt.logits = 1;
        } else if (strcmp(argv[i], "--overwrite") == 0) {
            opt.overwrite = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--split-scene") == 0) {
            split = 1;
        } else if (strcmp(argv[i], "--allow-missing-modalities") == 0) {
            opt.allow_missing_modalities = 1;
        } else if ((v = tc_cli_option(argc, argv, &i, "--config", &missing))) {
            config = v;
        } else if ((v = tc_cli_option(argc, argv, &i, "--weights", &missing))) {
            weights = v;
        } else if ((v = tc_cli_option(argc, argv, &i, "--input", &missing)) && is_named_input(v)) {
            if (mm.n == sizeof mm.in / sizeof mm.in[0]) {
                modality_scenes_free(&mm);
                list_free(&inputs);
                return usage_error("%s", "too many modality inputs");
            }
            const char *eq = strchr(v, '=');
            mm.in[mm.n].modality = strndup(v, (size_t)(eq - v));
            mm.in[mm.n].path = eq + 1;
            if (mm.in[mm.n++].modality == NULL) {
                modality_scenes_free(&mm);
                list_free(&inputs);
                return 1;
            }
        } else if (v != NULL) {
            if (!list_add(&inputs, v)) {
                modality_scenes_free(&mm);
                list_free(&inputs);
                return 1;
            }
        } else if ((v = tc_cli_option(argc, argv, &i, "--output-dir", &missing))) {
            outdir = v;
        } else if ((v = tc_cli_option(argc, argv, &i, "--device", &missing))) {
            params.device = v;
        } else if ((v = tc_cli_option(argc, argv, &i, "--out-dtype", &missing))) {
            opt.out_dtype = v;
        } else {
            modality_scenes_free(&mm);
            list_free(&inputs);
            return usage_error(missing ? "missing value for '%s'" : "unknown argument '%s'", argv[i]);
        }
    }
    const char *bad = NULL;
    if ((inputs.n == 0 && mm.n == 0) || outdir == NULL)
        bad = "--input and --output-dir are required";
    else if (inputs.n > 0 && mm.n > 0)
        bad = "give either scenes (--input PATH) or one scene per modality (--input NAME=FILE), "
              "not both";
    else if (config == NULL && weights == NULL)
        bad = "give --config, --weights, or both";
    for (size_t k = 0; bad == NULL && k < mm.n; k++) {
        struct stat sb;
        if (stat(mm.in[k].path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            modality_scenes_free(&mm);
            list_free(&inputs);
            return usage_error("a modality takes one scene file, not a folder: %s", mm.in[k].path);
        }
    }
    if (bad != NULL) {
        modality_scenes_free(&mm);
        list_free(&inputs);
        return usage_error("%s", bad);
    }
    /* The sample of every modality is one prediction, named after the first scene. */
    if (mm.n > 0 && dist->rank == 0 && !list_add(&scenes, mm.in[0].path)) {
        modality_scenes_free(&mm);
        return 1;
    }
    params.device = resolve_local_device(params.device, dist, device_buf, sizeof device_buf);
    /* Only rank 0 lists the scenes; the others get their paths from it. */
    for (size_t i = 0; dist->rank == 0 && i < inputs.n; i++)
        if (!expand_input(inputs.paths[i], outdir, &scenes))
            list_rc = 1;
    list_free(&inputs);
    /* One scene across all ranks when asked, or when there are fewer scenes than ranks. */
    if (dist->size > 1 && tc_dist_bcast_int(dist, split || (int64_t)scenes.n < dist->size)) {
        int rc_split = predict_split_main(dist, &params, config, weights, &opt, &scenes, &mm, outdir,
                                          quiet, list_rc);
        modality_scenes_free(&mm);
        return rc_split;
    }
    struct tc_dist_sched *sched = NULL;
    if (!ensure_dir(outdir) || !tc_dist_sched_create(dist, scenes.paths, scenes.n, &sched)) {
        /* Still take part in the schedule, so the other ranks are not left waiting. */
        rc = 1;
    }
    double t_start = now_s();

    terracl_error err = {0};
    terracl_status st = TERRACL_OK;
    terracl_runtime *rt = NULL;
    terracl_model *model = NULL;
    terracl_predictor *pred = NULL;
    char prefix[32] = "";
    if (dist->size > 1)
        snprintf(prefix, sizeof prefix, "[rank %d] ", dist->rank);
    if (rc == 0 && ((st = terracl_runtime_create(&params, &rt, &err)) ||
                    (st = terracl_model_load(rt, config, weights, &model, &err)) ||
                    (st = terracl_predictor_create(model, &pred, &err)))) {
        fprintf(stderr, "%s", prefix);
        rc = tc_cli_fail(&err, st);
    }
    if (rc == 0) {
        const char *unused = terracl_model_unused_tensors(model);
        if (unused[0] != '\0' && dist->rank == 0)
            fprintf(stderr, "terracl: warning: %s\n", unused);
    }

    struct progress_state ps = {0};
    ps.enabled = !quiet && isatty(2) && dist->size == 1;
    ps.sched = sched;
    ps.count = scenes.n;
    size_t failed = 0;
    struct tc_dist_report report = {-1, 0, 0, 0, 0};
    char scene[4096];
    int64_t index;
    while (rc == 0 && tc_dist_next(sched, &report, &index, scene, sizeof scene)) {
        char out[4096];
        report = (struct tc_dist_report){index, 1, 0, 0, 0};
        if (scene[0] == '\0' || !output_path(outdir, scene, opt.logits ? "logits" : "pred", out, sizeof out)) {
            fprintf(stderr, "terracl: %sscene %lld: path too long\n", prefix, (long long)index);
            failed++;
            continue;
        }
        ps.index = (size_t)index;
        ps.scene = scene;
        ps.start = ps.last = now_s();
        opt.progress = on_progress;
        opt.progress_user = &ps;
        struct terracl_predict_result res;
        memset(&err, 0, sizeof err);
        st = predict_one(pred, &mm, scene, out, &opt, &res, &err);
        if (ps.enabled)
            fprintf(stderr, "\r\033[K");
        if (st != TERRACL_OK) {
            fprintf(stderr, "%s", prefix);
            tc_cli_fail(&err, st);
            failed++;
            continue;
        }
        report.failed = 0;
        if (res.skipped) {
            report.skipped = 1;
            if (!quiet)
                printf("%s%s: kept the existing %s (--overwrite replaces it)\n", prefix, scene, out);
            continue;
        }
        report.pixels = (double)res.width * (double)res.height;
        report.seconds = res.seconds;
        if (!res.georeferenced)
            fprintf(stderr, "terracl: warning: %s has no georeferencing; %s has none either\n", scene,
                    out);
        if (res.delta_reduced)
            fprintf(stderr, "terracl: warning: tiled inference: delta is higher than the overlap, "
                            "reduced as TerraTorch does\n");
        if (!quiet) {
            double mp = report.pixels / 1e6;
            printf("%s%s -> %s: %lld x %lld, %s%lld chip%s, %.2f s, %.3f MP/s\n", prefix, scene, out,
                   (long long)res.height, (long long)res.width, res.tiled ? "tiled, " : "",
                   (long long)res.chips, res.chips == 1 ? "" : "s", res.seconds,
                   res.seconds > 0 ? mp / res.seconds : 0.0);
            fflush(stdout);
        }
    }
    if (sched != NULL) {
        struct tc_dist_totals tot;
        tc_dist_finish(sched, &tot);
        if (dist->rank == 0 && tot.ranks != NULL) {
            int64_t all_failed = tot.scenes - tot.handed_out;
            for (int r = 0; r < dist->size; r++)
                all_failed += tot.ranks[r].failed;
            if (all_failed > 0) {
                fprintf(stderr, "terracl: %lld of %lld scenes failed\n", (long long)all_failed,
                        (long long)tot.scenes);
                rc = 1;
            }
            if (!quiet)
                print_summary(dist, &tot, now_s() - t_start);
        }
    }
    if (failed > 0 || list_rc)
        rc = 1;
    tc_dist_sched_free(sched);
    terracl_predictor_destroy(pred);
    terracl_model_destroy(model);
    terracl_runtime_destroy(rt);
    list_free(&scenes);
    modality_scenes_free(&mm);
    return rc;
}

int tc_cmd_predict(int argc, char **argv)
{
    struct tc_dist dist;
    tc_dist_init(&dist, NULL, NULL);
    int rc = predict_main(argc, argv, &dist);
    tc_dist_finalize(&dist);
    return rc;
}
