/*
 * terracl tune: searches CLBlast's Xgemm parameters for the GEMM shapes a
 * model uses on one device and stores the winners in the cache folder,
 * where every later run on that device and driver picks them up.
 *
 *   terracl tune [--device D] [--backbone NAME] [--frames T] [--size S]
 *                [--gemm M,N,K] [--candidates N] [--restart]
 *
 * The shapes come from running the backbone once (random weights), or are
 * the single row-major M x N x K product given with --gemm. Every
 * candidate's result is checked against a plain C reference before it may
 * win. Results are written after each shape, so an interrupted search
 * resumes where it stopped (--restart starts over). On CPU devices it then
 * picks the parameters of terracl's own kernels (tune_native.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/pin_workers.h"
#include "models/model_internal.h"
#include "runtime/gemm_params.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint32_t g_rng = 12345;
static size_t pick(const size_t *options, size_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return options[g_rng % n];
}

/* Candidates: the known good sets first, then random valid ones. Values
 * follow Xgemm's order (GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG
 * SA SB STRM STRN VWM VWN). Local-memory caching (SA/SB) stays off: on CPUs
 * it only adds copies, and GPUs are served by CLBlast's own database. */
static size_t make_candidates(const char *type, struct tc_gemm_set *out, size_t want)
{
    static const struct tc_gemm_set seeds[] = {
        {{0, 1, 64, 8, 2, 2, 32, 1, 1, 16, 0, 0, 1, 0, 16, 8}, 1},
        {{0, 1, 16, 1, 2, 2, 32, 16, 16, 128, 0, 0, 0, 0, 8, 8}, 1},
        {{0, 1, 16, 2, 2, 2, 32, 16, 16, 64, 0, 0, 0, 1, 8, 2}, 1},
        {{0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4}, 1},
        /* CLBlast's direct kernel (no pad/transpose copies) for every
         * shape up to 4096^3: often best for small GEMMs. */
        {{0, 1, 64, 8, 2, 2, 32, 1, 1, 16, 0, 0, 1, 0, 16, 8}, 4096},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0] && n < want; i++)
        out[n++] = seeds[i];
    (void)type;
    static const size_t wg[] = {16, 32, 64, 128}, kwg[] = {16, 32, 64}, dim[] = {1, 2, 4, 8, 16};
    static const size_t vw[] = {1, 2, 4, 8, 16}, kwi[] = {1, 2, 8}, bit[] = {0, 1};
    for (int tries = 0; n < want && tries < 100000; tries++) {
        struct tc_gemm_set s = {{0}, 1};
        s.xgemm[1] = 1;
        s.xgemm[2] = pick(kwg, 3);
        s.xgemm[3] = pick(kwi, 3);
        s.xgemm[5] = pick(dim, 4);
        s.xgemm[4] = s.xgemm[5];
        s.xgemm[6] = pick(wg, 4);
        s.xgemm[8] = pick(dim, 5);
        s.xgemm[7] = s.xgemm[8];
        s.xgemm[9] = pick(wg, 4);
        s.xgemm[12] = pick(bit, 2);
        s.xgemm[13] = pick(bit, 2);
        s.xgemm[14] = pick(vw, 5);
        s.xgemm[15] = pick(vw, 4);
        if (!tc_gemm_set_valid(&s) || s.xgemm[5] * s.xgemm[8] > 256)
            continue;
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = memcmp(&out[j], &s, sizeof s) == 0;
        if (!dup)
            out[n++] = s;
    }
    return n;
}

static void gemm_reference(const struct tc_gemm_shape *s, const float *a, const float *b, float *c)
{
    for (size_t i = 0; i < s->m; i++)
        for (size_t j = 0; j < s->n; j++) {
            double acc = 0;
            for (size_t p = 0; p < s->k; p++) {
                double av = s->trans_a ? a[p * s->m + i] : a[i * s->k + p];
                double bv = s->trans_b ? b[j * s->k + p] : b[p * s->n + j];
                acc += av * bv;
            }
            c[i * s->n + j] = (float)acc;
        }
}

static double rel_l2(const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * (double)want[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Times one candidate on one shape: best of `reps` after a first call
 * (which compiles); -1 when it fails or gives a wrong result. */
static double try_candidate(terracl_runtime *rt, const struct tc_gemm_shape *s,
                            const struct tc_gemm_set *set, struct tc_buf *a, struct tc_buf *b,
                            struct tc_buf *c, const float *ref, float *got, int reps)
{
    terracl_error err = {0};
    tc_gemm_force(rt, set);
    size_t lda = s->trans_a ? s->m : s->k, ldb = s->trans_b ? s->k : s->n;
    double best = INFINITY;
    for (int r = 0; r <= reps; r++) {
        double t0 = now_s();
        if (tc_sgemm(rt, s->trans_a, s->trans_b, s->m, s->n, s->k, 1.0f, (struct tc_matrix){a, 0, lda},
                     (struct tc_matrix){b, 0, ldb}, 0.0f, (struct tc_matrix){c, 0, s->n}, &err) ||
            terracl_runtime_finish(rt, &err))
            return -1;
        double dt = now_s() - t0;
        if (r == 0) {
            if (tc_buf_read(rt, c, 0, got, s->m * s->n * sizeof(float), &err) ||
                !(rel_l2(got, ref, s->m * s->n) < 1e-5))
                return -1;
        } else if (dt < best) {
            best = dt;
        }
    }
    return 2.0 * (double)s->m * (double)s->n * (double)s->k / best * 1e-9;
}

static terracl_status collect_shapes(terracl_runtime *rt, const char *backbone, int64_t frames,
                                     int64_t size, struct tc_gemm_shape *shapes, size_t *n,
                                     terracl_error *err)
{
    terracl_value *root = terracl_value_new_map(), *args = terracl_value_new_map();
    if (root == NULL || args == NULL) {
        terracl_value_free(root);
        terracl_value_free(args);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    terracl_value_map_set(args, "backbone", terracl_value_new_string(backbone), NULL);
    terracl_value_map_set(args, "backbone_num_frames", terracl_value_new_int(frames), NULL);
    terracl_value_map_set(args, "backbone_img_size", terracl_value_new_int(size), NULL);
    terracl_value_map_set(root, "model_factory", terracl_value_new_string("EncoderDecoderFactory"), NULL);
    terracl_value_map_set(root, "model_args", args, NULL);
    terracl_model *model = NULL;
    terracl_status st = tc_model_from_value(rt, root, &model, err);
    if (st != TERRACL_OK)
        return st;
    size_t numel = (size_t)(6 * frames * size * size);
    float *x = calloc(numel, sizeof *x);
    if (x == NULL) {
        terracl_model_destroy(model);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    struct terracl_inputs in = {0};
    in.image = (struct terracl_tensor){x, 5, {1, 6, frames, size, size}};
    struct terracl_tensor out = {0};
    tc_gemm_record_shapes(rt, 1);
    st = terracl_model_run(model, &in, &out, err);
    tc_gemm_record_shapes(rt, 0);
    free(out.data);
    free(x);
    terracl_model_destroy(model);
    if (st == TERRACL_OK)
        *n = tc_gemm_recorded(rt, shapes, *n);
    return st;
}

static const char k_usage[] = "usage: terracl tune [--device D] [--backbone NAME] [--frames T] "
                              "[--size S] [--gemm M,N,K] [--candidates N] [--restart]\n";
static const char k_help[] =
    "\nSearches GEMM parameters for one device and stores the winners for later runs\n"
    "(on CPU devices also the tile parameters of terracl's own kernels).\n"
    "  --device D         a device as in `terracl run --help`\n"
    "  --backbone NAME    tune the GEMM shapes of this backbone (default prithvi_eo_v1_100)\n"
    "  --frames T         its frames (1..16, default 1)\n"
    "  --size S           its input height and width (16..2048, default 224)\n"
    "  --gemm M,N,K       tune this one row-major product instead (1..16384 each)\n"
    "  --candidates N     parameter sets tried per shape (1..500, default 16)\n"
    "  --restart          start over instead of resuming an interrupted search\n"
    "  -h, --help         this text\n";

int tc_cmd_tune(int argc, char **argv)
{
    if (tc_cli_wants_help(argc, argv)) {
        printf("%s%s", k_usage, k_help);
        return 0;
    }
    struct terracl_runtime_params params = {0};
    const char *backbone = "prithvi_eo_v1_100";
    int64_t frames = 1, size = 224, candidates = 16;
    int restart = 0;
    size_t gm = 0, gn = 0, gk = 0;
    for (int i = 0; i < argc; i++) {
        int missing = 0;
        const char *v;
        if ((v = tc_cli_option(argc, argv, &i, "--device", &missing)))
            params.device = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--backbone", &missing)))
            backbone = v;
        else if ((v = tc_cli_option(argc, argv, &i, "--frames", &missing)))
            frames = atoll(v);
        else if ((v = tc_cli_option(argc, argv, &i, "--size", &missing)))
            size = atoll(v);
        else if ((v = tc_cli_option(argc, argv, &i, "--candidates", &missing)))
            candidates = atoll(v);
        else if ((v = tc_cli_option(argc, argv, &i, "--gemm", &missing))) {
            if (sscanf(v, "%zu,%zu,%zu", &gm, &gn, &gk) != 3 || !gm || !gn || !gk || gm > 16384 ||
                gn > 16384 || gk > 16384) {
                fprintf(stderr, "terracl tune: --gemm expects M,N,K (1..16384 each)\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--restart") == 0)
            restart = 1;
        else {
            fprintf(stderr, "terracl tune: %s '%s'\n%s",
                    missing ? "missing value for" : "unknown argument", argv[i], k_usage);
            return 2;
        }
    }
    if (frames < 1 || frames > 16 || size < 16 || size > 2048 || candidates < 1 || candidates > 500) {
        fprintf(stderr, "terracl tune: --frames 1..16, --size 16..2048, --candidates 1..500\n");
        return 2;
    }

    /* Candidates are timed one call at a time: PoCL's workers pinned, or a
     * run of calls may come out at half speed (cli/pin_workers.h). */
    tc_pin_driver_threads();
    terracl_error err = {0};
    terracl_runtime *rt = NULL;
    terracl_status st = terracl_runtime_create(&params, &rt, &err);
    if (st != TERRACL_OK)
        return tc_cli_fail(&err, st);
    const struct terracl_device_info *info = terracl_runtime_device(rt);
    char path[1300];
    tc_gemm_params_path(rt, path, sizeof path);
    if (strcmp(info->type, "cpu") == 0)
        printf("note: on CPU devices terracl runs its own GEMM kernels; the CLBlast parameters "
               "tuned here apply with TERRACL_GEMM=clblast and to shapes those kernels do not "
               "take\n");
    struct tc_gemm_shape shapes[64];
    size_t nshapes = 64;
    if (gm) {
        printf("tuning the %zux%zux%zu GEMM on [%zu] %s\nresults: %s\n", gm, gn, gk, info->index,
               info->name, path);
        shapes[0] = (struct tc_gemm_shape){gm, gn, gk, 0, 0};
        nshapes = 1;
    } else {
        printf("tuning GEMMs of %s (%lld frame%s, %lldx%lld) on [%zu] %s\nresults: %s\n", backbone,
               (long long)frames, frames > 1 ? "s" : "", (long long)size, (long long)size,
               info->index, info->name, path);
        st = collect_shapes(rt, backbone, frames, size, shapes, &nshapes, &err);
    }
    if (st != TERRACL_OK) {
        terracl_runtime_destroy(rt);
        return tc_cli_fail(&err, st);
    }
    struct tc_gemm_set *cands = calloc((size_t)candidates, sizeof *cands);
    size_t ncand = cands ? make_candidates(info->type, cands, (size_t)candidates) : 0;
    struct tc_gemm_table *table = tc_runtime_gemm_table(rt);
    int rc = 0;
    for (size_t si = 0; si < nshapes; si++) {
        const struct tc_gemm_shape *s = &shapes[si];
        if (!restart && tc_gemm_table_has(table, s)) {
            printf("[%zu/%zu] %zux%zux%zu%s%s: already tuned, skipped\n", si + 1, nshapes, s->m, s->n,
                   s->k, s->trans_a ? " A^T" : "", s->trans_b ? " B^T" : "");
            continue;
        }
        size_t asz = s->m * s->k, bsz = s->k * s->n, csz = s->m * s->n;
        float *ha = malloc(asz * sizeof *ha), *hb = malloc(bsz * sizeof *hb);
        float *ref = malloc(csz * sizeof *ref), *got = malloc(csz * sizeof *got);
        struct tc_buf *a = NULL, *b = NULL, *c = NULL;
        if (!ha || !hb || !ref || !got || tc_buf_create(rt, asz * 4, &a, &err) ||
            tc_buf_create(rt, bsz * 4, &b, &err) || tc_buf_create(rt, csz * 4, &c, &err)) {
            rc = tc_cli_fail(&err, TERRACL_ERR_NO_MEMORY);
            goto next;
        }
        for (size_t i = 0; i < asz; i++)
            ha[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
        for (size_t i = 0; i < bsz; i++)
            hb[i] = (float)((i * 104729) % 997) / 997.0f - 0.5f;
        if (tc_buf_write(rt, a, 0, ha, asz * 4, &err) || tc_buf_write(rt, b, 0, hb, bsz * 4, &err)) {
            rc = tc_cli_fail(&err, TERRACL_ERR_OPENCL);
            goto next;
        }
        gemm_reference(s, ha, hb, ref);
        double best = -1;
        size_t best_i = 0;
        for (size_t ci = 0; ci < ncand; ci++) {
            double g = try_candidate(rt, s, &cands[ci], a, b, c, ref, got, 3);
            if (g > best) {
                best = g;
                best_i = ci;
            }
            printf("\r[%zu/%zu] %zux%zux%zu%s%s: candidate %zu/%zu %s %.1f GFLOP/s, best %.1f   ",
                   si + 1, nshapes, s->m, s->n, s->k, s->trans_a ? " A^T" : "", s->trans_b ? " B^T" : "",
                   ci + 1, ncand, g < 0 ? "rejected" : "", g < 0 ? 0.0 : g, best < 0 ? 0.0 : best);
            fflush(stdout);
        }
        printf("\n");
        if (best > 0 && (st = tc_gemm_table_store(rt, table, s, &cands[best_i], best, &err)))
            rc = tc_cli_fail(&err, st);
    next:
        tc_gemm_force(rt, NULL);
        tc_buf_destroy(a);
        tc_buf_destroy(b);
        tc_buf_destroy(c);
        free(ha);
        free(hb);
        free(ref);
        free(got);
        if (rc)
            break;
    }
    free(cands);
    /* On CPU devices, also terracl's own kernels' parameters, at the token
     * count of the tuned backbone (or the M of --gemm). */
    if (rc == 0 && strcmp(info->type, "cpu") == 0) {
        size_t tokens = gm ? gm : (size_t)(frames * (size / 16) * (size / 16) + 1);
        rc = tc_tune_native(rt, tokens);
    }
    terracl_runtime_destroy(rt);
    if (rc == 0)
        printf("done: later runs on this device load %s\n", path);
    return rc;
}
