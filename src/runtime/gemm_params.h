/*
 * Tuned CLBlast GEMM parameters: which Xgemm kernel parameters to use for
 * which GEMM shape on a device.
 *
 * A runtime holds a table: parameter sets for exact shapes found by
 * `terracl tune` (stored per device and driver in the cache folder), and a
 * default set for other shapes. Untuned devices get the best known set for
 * their type (none for GPUs: CLBlast's own database covers them). Before
 * each GEMM the runtime applies the set for its shape, calling
 * CLBlastOverrideParameters only when it differs from the last one applied
 * to that device (CLBlast caches a compiled kernel per set, so switching
 * back is cheap).
 */
#ifndef TC_RUNTIME_GEMM_PARAMS_H
#define TC_RUNTIME_GEMM_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

/* CLBlast's Xgemm parameter names, in the order the values are stored. */
#define TC_XGEMM_NPARAMS 16
extern const char *const tc_xgemm_param_names[TC_XGEMM_NPARAMS];

struct tc_gemm_set {
    size_t xgemm[TC_XGEMM_NPARAMS];
    /* CLBlast uses its "direct" kernel below m*n*k = this^3, untouched by
     * Xgemm parameters; 1 sends every shape through the tuned kernel. */
    size_t min_indirect;
};

struct tc_gemm_shape {
    size_t m, n, k;
    int trans_a, trans_b;
};

/* Whether a set satisfies Xgemm's divisibility rules, and is not the
 * GEMMK=1 with MWG != NWG combination that CLBlast 1.5.3 gets wrong. */
int tc_gemm_set_valid(const struct tc_gemm_set *s);

/* Parses "NAME=V NAME=V ... [min_indirect=V] [gflops=G]" (every Xgemm
 * parameter present, each an integer in range, the set valid) into *set;
 * returns 0 on any error. Reentrant; `text` is not modified. */
int tc_gemm_parse_set(const char *text, struct tc_gemm_set *set, double *gflops);

/* "MWG=32 NWG=16 ..." into buf. */
const char *tc_gemm_set_str(const struct tc_gemm_set *s, char *buf, size_t cap);

/* The best known set for a device type ("cpu", "gpu", ...), or NULL. */
const struct tc_gemm_set *tc_gemm_type_default(const char *device_type);

/* The file holding a device's tuned sets: <cache>/gemm/<hash>.txt, keyed by
 * device name, vendor, driver and platform version. */
void tc_gemm_params_path(terracl_runtime *rt, char *buf, size_t cap);

/* Tuned table of a runtime. */
struct tc_gemm_table;
/* Loads the device's tuned file if there is one (a damaged file is ignored
 * with a log message, never an error). */
struct tc_gemm_table *tc_gemm_table_load(terracl_runtime *rt);
void tc_gemm_table_free(struct tc_gemm_table *t);
/* The set for a shape: exact tuned shape, else the tuned default, else the
 * device type's default; NULL means "CLBlast's own parameters". */
const struct tc_gemm_set *tc_gemm_table_pick(const struct tc_gemm_table *t,
                                             const struct tc_gemm_shape *shape);
int tc_gemm_table_tuned(const struct tc_gemm_table *t); /* from a tune file? */

/* Records the best set for a shape (and optionally as the default) and
 * writes the device's file atomically. */
TC_NODISCARD terracl_status tc_gemm_table_store(terracl_runtime *rt, struct tc_gemm_table *t,
                                                const struct tc_gemm_shape *shape,
                                                const struct tc_gemm_set *set, double gflops,
                                                terracl_error *err);
/* Whether the table holds a tuned set for exactly this shape. */
int tc_gemm_table_has(const struct tc_gemm_table *t, const struct tc_gemm_shape *shape);

/* Applies `set` (NULL: CLBlast's defaults are not restorable, so NULL means
 * leave as is) to the runtime's device if it is not already in force. Must
 * be called with the CLBlast lock held (from gemm.c). */
TC_NODISCARD terracl_status tc_gemm_apply_locked(terracl_runtime *rt, const struct tc_gemm_set *set,
                                                 terracl_error *err);

/* Forgets what was applied to the runtime's device (after a manual
 * override). CLBlast lock held. */
void tc_gemm_forget_locked(terracl_runtime *rt);

/* The runtime's table (owned by the runtime) and shape recording for the
 * tuner: when on, every distinct GEMM shape is remembered. */
struct tc_gemm_table *tc_runtime_gemm_table(terracl_runtime *rt);
void tc_gemm_record_shapes(terracl_runtime *rt, int on);
size_t tc_gemm_recorded(const terracl_runtime *rt, struct tc_gemm_shape *out, size_t cap);
/* Forces one set for the next GEMMs (the tuner's candidates); NULL returns
 * to the table. */
void tc_gemm_force(terracl_runtime *rt, const struct tc_gemm_set *set);

/*
 * Parameters of terracl's own CPU kernels, kept in the same per-device file
 * as a line "native packed_kc=V conv_block_kib=V conv_tile=V nn_kc=V
 * item_steps=V": packed_kc 0 runs the packed Linear weights through tc_sgemm_packed (panels of two
 * 64-column tiles), otherwise through tc_sgemm_packed_kb with K blocks of
 * packed_kc rows; conv_block_kib bounds the strip of padded input one launch
 * of the implicit-GEMM convolution reads and conv_tile picks that kernel's
 * register tile (ops/conv_implicit.c: tc_conv_implicit_tiles); nn_kc
 * splits the sums of a packed 1x1 convolution on a large map (the NN GEMM
 * with the weight as A) into blocks of that many input channels, 0 not at
 * all; item_steps is the least number of multiply-add steps (K times column
 * tiles) a work-item of the NN and packed GEMMs takes: short sums (a 1x1
 * convolution or a ConvNeXt MLP from 64-192 channels) get strips of more
 * than two column tiles so that
 * the driver's cost per work-item stays small against its work, 0 keeps
 * two tiles everywhere (`terracl tune` keeps the shipped 512, which its
 * warm-cache timing cannot judge: see gemm_pocl.c); strip_kib is the share
 * of a core's L2 in which a packed-weight work-item's strip of panels and
 * all the rows of A it sweeps should fit: where two panels with A would
 * not and one would (few rows, long sums: Winograd's products on small
 * maps), a work-item takes one panel; where two panels alone fill it, a
 * product with packed_kc 0 takes the K-blocked kernel in blocks of 128; 0
 * neither (the tuner keeps the shipped value, as for item_steps). Chosen by
 * `terracl tune` once per device and driver, else the shipped default;
 * nothing is timed at run time.
 */
struct tc_native_params {
    size_t packed_kc;      /* 0, or 16..4096 in steps of 16 */
    size_t conv_block_kib; /* 16..65536 */
    size_t conv_tile;      /* index into the implicit convolution's tiles */
    size_t nn_kc;          /* 0, or 16..65536 in steps of 16 */
    size_t item_steps;     /* 0..65536 */
    size_t strip_kib;      /* 0, or 64..65536 */
};
/* Rows of a tile of tc_sgemm_packed (packed weights) for an m-row
 * product, and of the packed convolution's runs of m pixels: 6, unless 7
 * or 4 computes at least 5% fewer rows (m = 49: 49 against 54). A fixed
 * rule of the shape, never timed at run time. */
size_t tc_packed_row_tile(size_t m);
/* Tiles of the implicit convolution: output channels x 16-pixel vectors. */
#define TC_CONV_TILES 4
extern const int tc_conv_implicit_tiles[TC_CONV_TILES][2];
extern const struct tc_native_params tc_native_default;
/* The shipped set for a device: tc_native_default, or a set measured on
 * that kind of CPU (gemm_params.c says where). */
const struct tc_native_params *tc_native_shipped(const struct terracl_device_info *info);
/* Parses "packed_kc=V conv_block_kib=V [conv_tile=V] [nn_kc=V] [item_steps=V] [strip_kib=V]" (the
 * first two present, all in range; files written before the later ones
 * existed get their defaults); 0 on error. */
int tc_native_parse(const char *text, struct tc_native_params *p);
/* The same, the optional values absent from `text` taken from `base`. */
int tc_native_parse_over(const char *text, const struct tc_native_params *base,
                         struct tc_native_params *p);
const char *tc_native_str(const struct tc_native_params *p, char *buf, size_t cap);
/* In force for this runtime: the tuner's forced set, else the tuned file's,
 * else the shipped set for its device (tc_native_shipped). */
const struct tc_native_params *tc_runtime_native_params(const terracl_runtime *rt);
/* Forces a set for the next launches (the tuner's candidates); NULL returns
 * to the table. */
void tc_native_force(terracl_runtime *rt, const struct tc_native_params *p);
/* Records the device's native parameters and rewrites its file atomically. */
TC_NODISCARD terracl_status tc_gemm_table_store_native(terracl_runtime *rt,
                                                       struct tc_gemm_table *t,
                                                       const struct tc_native_params *p,
                                                       terracl_error *err);

#endif /* TC_RUNTIME_GEMM_PARAMS_H */
