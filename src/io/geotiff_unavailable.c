/*
 * GeoTIFF entry points of a build without GDAL (TERRACL_WITH_GDAL=OFF, for
 * devices where GDAL's hundred-odd shared libraries are too much to carry).
 * Models run as before on HDF5/.npy tensors; opening or creating a raster
 * fails with TERRACL_ERR_UNSUPPORTED naming the file and the build option.
 * The handles are never created, so the accessors are unreachable and only
 * keep the interface of geotiff.h whole.
 */
#include "io/geotiff.h"

#include <string.h>

static terracl_status no_gdal(const char *path, terracl_error *err)
{
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "%s: this terracl was built without GDAL (TERRACL_WITH_GDAL=OFF), so it "
                   "reads and writes no GeoTIFF scenes; rebuild with GDAL, or give tensors "
                   "in HDF5 or .npy files",
                   path ? path : "(no path)");
}

terracl_status tc_raster_open(const char *path, struct tc_raster **out, terracl_error *err)
{
    if (out != NULL)
        *out = NULL;
    return no_gdal(path, err);
}

void tc_raster_close(struct tc_raster *r) { (void)r; }

const struct tc_raster_info *tc_raster_info(const struct tc_raster *r)
{
    (void)r;
    return NULL;
}

int tc_raster_georef(const struct tc_raster *r, double gt[6], const char **wkt)
{
    (void)r;
    static const double identity[6] = {0, 1, 0, 0, 0, 1};
    memcpy(gt, identity, sizeof identity);
    if (wkt != NULL)
        *wkt = "";
    return 0;
}

int tc_raster_grid_differs(const struct tc_raster *a, const struct tc_raster *b, char *what,
                           size_t cap)
{
    (void)a;
    (void)b;
    if (cap > 0)
        what[0] = '\0';
    return 0;
}

int tc_raster_nodata(const struct tc_raster *r, int band, double *value)
{
    (void)r;
    (void)band;
    (void)value;
    return 0;
}

int tc_raster_is_nodata(const struct tc_raster *r, int band, double v)
{
    (void)r;
    (void)band;
    (void)v;
    return 0;
}

terracl_status tc_raster_read(struct tc_raster *r, int band, int64_t x0, int64_t y0, int64_t w,
                              int64_t h, double *out, terracl_error *err)
{
    (void)r, (void)band, (void)x0, (void)y0, (void)w, (void)h, (void)out;
    return no_gdal(NULL, err);
}

void tc_raster_drop_cache(struct tc_raster *r) { (void)r; }

terracl_status tc_raster_create(const char *path, const struct tc_raster *like, int bands,
                                const char *type_name, int has_nodata, double nodata,
                                struct tc_raster_out **out, terracl_error *err)
{
    (void)like, (void)bands, (void)type_name, (void)has_nodata, (void)nodata;
    if (out != NULL)
        *out = NULL;
    return no_gdal(path, err);
}

terracl_status tc_raster_create_rows(const char *path, const struct tc_raster *like, int64_t row0,
                                     int64_t rows, int bands, const char *type_name,
                                     int has_nodata, double nodata, struct tc_raster_out **out,
                                     terracl_error *err)
{
    (void)row0, (void)rows;
    return tc_raster_create(path, like, bands, type_name, has_nodata, nodata, out, err);
}

terracl_status tc_raster_write_rows(struct tc_raster_out *o, int band, int64_t y0, int64_t h,
                                    const double *in, terracl_error *err)
{
    (void)o, (void)band, (void)y0, (void)h, (void)in;
    return no_gdal(NULL, err);
}

terracl_status tc_raster_finish(struct tc_raster_out *o, terracl_error *err)
{
    (void)o;
    return no_gdal(NULL, err);
}

void tc_raster_abandon(struct tc_raster_out *o) { (void)o; }
