/*
 * GeoTIFF scenes through GDAL's C API (the only module that includes
 * gdal.h): open a raster, read windows of its bands, and write a tiled,
 * LZW-compressed GeoTIFF that carries another raster's georeferencing.
 *
 * Errors are TERRACL_ERR_IO (cannot open/create/write), TERRACL_ERR_FORMAT
 * (not a raster GDAL reads, truncated data) or TERRACL_ERR_TYPE (a band type
 * terracl cannot use); each message names the file. GDAL's own error
 * printing is silenced while these functions run; its last message is folded
 * into ours.
 */
#ifndef TC_IO_GEOTIFF_H
#define TC_IO_GEOTIFF_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Bands beyond this are refused (a scene of T x C bands stays far below). */
#define TC_GEOTIFF_MAX_BANDS 1024

struct tc_raster;     /* an open input raster */
struct tc_raster_out; /* an output GeoTIFF being written */

struct tc_raster_info {
    int64_t width, height;
    int bands;
    int georeferenced;          /* has a geotransform or a projection */
    const char *type_name;      /* band 1's GDAL type name ("Int16", "Float32"...) */
};

/*
 * Opens `path` read-only. Refuses a file GDAL cannot read as a raster, one
 * without bands or with more than TC_GEOTIFF_MAX_BANDS, and bands of a
 * complex type. Integer and float bands are read as float64.
 */
TC_NODISCARD terracl_status tc_raster_open(const char *path, struct tc_raster **out,
                                           terracl_error *err);
void tc_raster_close(struct tc_raster *r); /* NULL is a no-op */
const struct tc_raster_info *tc_raster_info(const struct tc_raster *r);

/* The geotransform (0 when the file has none; gt is then GDAL's default)
 * and the projection as WKT ("" when none; borrowed). */
int tc_raster_georef(const struct tc_raster *r, double gt[6], const char **wkt);

/* Whether b lies on another grid than a: its size, geotransform or
 * projection (compared as coordinate systems, not as text) differ. When
 * they do, what[cap] says how, in words about b ("size 60 x 45 (width x
 * height) instead of 61 x 45", "another projection", ...). */
int tc_raster_grid_differs(const struct tc_raster *a, const struct tc_raster *b, char *what,
                           size_t cap);

/* Band `band` (0-based) has a nodata value: *value gets it. 0 when none. */
int tc_raster_nodata(const struct tc_raster *r, int band, double *value);
/* Whether `v` (read from `band`) equals that band's nodata value, compared
 * in the band's own type (a NaN nodata matches NaN). 0 when no nodata. */
int tc_raster_is_nodata(const struct tc_raster *r, int band, double v);

/* Reads rows [y0, y0+h) x columns [x0, x0+w) of band `band` (0-based) as
 * float64 into out[h][w]. */
TC_NODISCARD terracl_status tc_raster_read(struct tc_raster *r, int band, int64_t x0, int64_t y0,
                                           int64_t w, int64_t h, double *out, terracl_error *err);
/* Drops the blocks GDAL cached for this raster (keeps memory bounded while
 * streaming through a large scene). */
void tc_raster_drop_cache(struct tc_raster *r);

/* Pixel types an output may have: GDAL's names, lower case, in the order
 * geotiff.c maps them to GDAL's types. */
#define TC_RASTER_OUT_TYPE_COUNT 7
extern const char *const tc_raster_out_type_names[TC_RASTER_OUT_TYPE_COUNT];
/* The position of `name` in tc_raster_out_type_names, or -1 (also for
 * NULL). Defined in raster_types.c, without GDAL, so that builds with and
 * without it judge a config alike. */
int tc_raster_out_type_index(const char *name);
/* Whether `name` is one of them. */
int tc_raster_out_type_known(const char *name);

/*
 * Creates `path` (a new file; the caller picks a temporary name and renames
 * it) of like's size with `bands` bands of type `type_name`, tiled 256x256,
 * LZW-compressed, BigTIFF when needed, with like's geotransform and
 * projection. has_nodata: every band's nodata is `nodata`.
 */
TC_NODISCARD terracl_status tc_raster_create(const char *path, const struct tc_raster *like,
                                             int bands, const char *type_name, int has_nodata,
                                             double nodata, struct tc_raster_out **out,
                                             terracl_error *err);
/* The same for rows [row0, row0 + rows) of like: a file of that many rows
 * whose geotransform puts it where those rows are. */
TC_NODISCARD terracl_status tc_raster_create_rows(const char *path, const struct tc_raster *like,
                                                  int64_t row0, int64_t rows, int bands,
                                                  const char *type_name, int has_nodata,
                                                  double nodata, struct tc_raster_out **out,
                                                  terracl_error *err);
/* Writes rows [y0, y0+h) (full width) of band `band` from in[h][width];
 * values are converted to the file's type by GDAL (the caller rounds). */
TC_NODISCARD terracl_status tc_raster_write_rows(struct tc_raster_out *o, int band, int64_t y0,
                                                 int64_t h, const double *in, terracl_error *err);
/* Writes pending blocks and closes. The file is complete only on success;
 * the handle is freed either way. */
TC_NODISCARD terracl_status tc_raster_finish(struct tc_raster_out *o, terracl_error *err);
/* Closes without caring about the result (the caller removes the file). */
void tc_raster_abandon(struct tc_raster_out *o);

#endif /* TC_IO_GEOTIFF_H */
