/*
 * GeoTIFF input and output through GDAL (see geotiff.h).
 *
 * GDAL reports problems through a process-wide error handler that prints to
 * stderr by default; the library must not print, so every entry point here
 * pushes the quiet handler for its own thread and reads GDAL's last message
 * back into the terracl error.
 */
#include "io/geotiff.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "core/checked.h"

struct tc_raster {
    GDALDatasetH ds;
    struct tc_raster_info info;
    char path[4096];
    int has_nodata[TC_GEOTIFF_MAX_BANDS];
    double nodata[TC_GEOTIFF_MAX_BANDS];
    GDALDataType types[TC_GEOTIFF_MAX_BANDS];
};

struct tc_raster_out {
    GDALDatasetH ds;
    int64_t width, height;
    int bands;
    char path[4096];
};

static pthread_once_t g_register_once = PTHREAD_ONCE_INIT;
/* GDAL's block cache defaults to 5% of the machine's memory; a scene
 * streamed through it would grow the process by that much. A few row
 * windows of blocks is all the streaming pipeline needs. */
#define TC_GDAL_CACHE_BYTES ((GIntBig)64 << 20)

static void register_drivers(void)
{
    GDALAllRegister();
    if (GDALGetCacheMax64() > TC_GDAL_CACHE_BYTES)
        GDALSetCacheMax64(TC_GDAL_CACHE_BYTES);
}

static void quiet_begin(void)
{
    pthread_once(&g_register_once, register_drivers);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
}

static void quiet_end(void) { CPLPopErrorHandler(); }

/* GDAL's last message, or a fallback. */
static const char *gdal_message(const char *fallback)
{
    const char *m = CPLGetLastErrorMsg();
    return m != NULL && m[0] != '\0' ? m : fallback;
}

void tc_raster_close(struct tc_raster *r)
{
    if (r == NULL)
        return;
    if (r->ds != NULL) {
        quiet_begin();
        GDALClose(r->ds);
        quiet_end();
    }
    free(r);
}

const struct tc_raster_info *tc_raster_info(const struct tc_raster *r) { return &r->info; }

static terracl_status inspect(struct tc_raster *r, terracl_error *err)
{
    int64_t w = GDALGetRasterXSize(r->ds), h = GDALGetRasterYSize(r->ds);
    int bands = GDALGetRasterCount(r->ds);
    if (w <= 0 || h <= 0 || bands <= 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "%s: not a raster with pixels (%lld x %lld, %d bands)",
                       r->path, (long long)w, (long long)h, bands);
    if (bands > TC_GEOTIFF_MAX_BANDS)
        return tc_fail(err, TERRACL_ERR_FORMAT, "%s: %d bands (at most %d are supported)", r->path,
                       bands, TC_GEOTIFF_MAX_BANDS);
    r->info.width = w;
    r->info.height = h;
    r->info.bands = bands;
    for (int b = 0; b < bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(r->ds, b + 1);
        GDALDataType t = GDALGetRasterDataType(band);
        if (GDALDataTypeIsComplex(t) || t == GDT_Unknown)
            return tc_fail(err, TERRACL_ERR_TYPE,
                           "%s: band %d has type %s; scenes need integer or real bands", r->path,
                           b + 1, GDALGetDataTypeName(t));
        r->types[b] = t;
        r->nodata[b] = GDALGetRasterNoDataValue(band, &r->has_nodata[b]);
    }
    r->info.type_name = GDALGetDataTypeName(r->types[0]);
    double gt[6];
    const char *wkt = GDALGetProjectionRef(r->ds);
    int has_gt = GDALGetGeoTransform(r->ds, gt) == CE_None;
    r->info.georeferenced = has_gt || (wkt != NULL && wkt[0] != '\0');
    return TERRACL_OK;
}

terracl_status tc_raster_open(const char *path, struct tc_raster **out, terracl_error *err)
{
    *out = NULL;
    struct tc_raster *r = calloc(1, sizeof *r);
    if (r == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    snprintf(r->path, sizeof r->path, "%s", path);
    quiet_begin();
    r->ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    terracl_status st;
    if (r->ds == NULL)
        st = tc_fail(err, TERRACL_ERR_FORMAT, "%s: cannot open as a raster (%s)", path,
                     gdal_message("not a format GDAL reads"));
    else
        st = inspect(r, err);
    quiet_end();
    if (st != TERRACL_OK) {
        tc_raster_close(r);
        return st;
    }
    *out = r;
    return TERRACL_OK;
}

int tc_raster_georef(const struct tc_raster *r, double gt[6], const char **wkt)
{
    quiet_begin();
    int has = GDALGetGeoTransform(r->ds, gt) == CE_None;
    const char *p = GDALGetProjectionRef(r->ds);
    quiet_end();
    *wkt = p ? p : "";
    return has;
}

/* Two projections are the same when their WKT is, or when OSR finds them
 * the same (one CRS can be written in several ways). */
static int same_projection(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    if (a[0] == '\0' || b[0] == '\0')
        return 0;
    OGRSpatialReferenceH sa = OSRNewSpatialReference(a), sb = OSRNewSpatialReference(b);
    int same = sa != NULL && sb != NULL && OSRIsSame(sa, sb);
    if (sa != NULL)
        OSRDestroySpatialReference(sa);
    if (sb != NULL)
        OSRDestroySpatialReference(sb);
    return same;
}

int tc_raster_grid_differs(const struct tc_raster *a, const struct tc_raster *b, char *what,
                           size_t cap)
{
    if (a->info.width != b->info.width || a->info.height != b->info.height) {
        snprintf(what, cap, "size %lld x %lld (width x height) instead of %lld x %lld",
                 (long long)b->info.width, (long long)b->info.height, (long long)a->info.width,
                 (long long)a->info.height);
        return 1;
    }
    double ga[6], gb[6];
    const char *wa, *wb;
    int ha = tc_raster_georef(a, ga, &wa), hb = tc_raster_georef(b, gb, &wb);
    int gt_same = ha == hb;
    for (int k = 0; gt_same && ha && k < 6; k++) {
        /* Equal up to float rounding of the written coefficients. */
        double tol = 1e-9 * (fabs(ga[k]) > 1.0 ? fabs(ga[k]) : 1.0);
        gt_same = fabs(ga[k] - gb[k]) <= tol;
    }
    if (!gt_same) {
        if (!ha || !hb)
            snprintf(what, cap, "%s geotransform", hb ? "a" : "no");
        else
            snprintf(what, cap, "geotransform (%.10g, %.10g, %.10g, %.10g, %.10g, %.10g) instead "
                     "of (%.10g, %.10g, %.10g, %.10g, %.10g, %.10g)",
                     gb[0], gb[1], gb[2], gb[3], gb[4], gb[5], ga[0], ga[1], ga[2], ga[3], ga[4],
                     ga[5]);
        return 1;
    }
    quiet_begin();
    int proj_same = same_projection(wa, wb);
    quiet_end();
    if (!proj_same) {
        snprintf(what, cap, "%s", wb[0] == '\0' ? "no projection" : wa[0] == '\0' ? "a projection" : "another projection");
        return 1;
    }
    return 0;
}

int tc_raster_nodata(const struct tc_raster *r, int band, double *value)
{
    if (band < 0 || band >= r->info.bands || !r->has_nodata[band])
        return 0;
    *value = r->nodata[band];
    return 1;
}

int tc_raster_is_nodata(const struct tc_raster *r, int band, double v)
{
    if (band < 0 || band >= r->info.bands || !r->has_nodata[band])
        return 0;
    double nd = r->nodata[band];
    if (isnan(nd))
        return isnan(v);
    /* A Float32 band's nodata is stored as a double: compare as float so a
     * value like 1e-30 matches itself. */
    if (r->types[band] == GDT_Float32)
        return (float)v == (float)nd;
    return v == nd;
}

terracl_status tc_raster_read(struct tc_raster *r, int band, int64_t x0, int64_t y0, int64_t w,
                              int64_t h, double *out, terracl_error *err)
{
    if (band < 0 || band >= r->info.bands || x0 < 0 || y0 < 0 || w <= 0 || h <= 0 ||
        x0 + w > r->info.width || y0 + h > r->info.height || w > INT32_MAX || h > INT32_MAX)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: window %lld,%lld %lldx%lld of band %d is outside the raster",
                       r->path, (long long)x0, (long long)y0, (long long)w, (long long)h, band + 1);
    quiet_begin();
    GDALRasterBandH b = GDALGetRasterBand(r->ds, band + 1);
    CPLErr e = GDALRasterIO(b, GF_Read, (int)x0, (int)y0, (int)w, (int)h, out, (int)w, (int)h,
                            GDT_Float64, 0, 0);
    terracl_status st = TERRACL_OK;
    if (e != CE_None)
        st = tc_fail(err, TERRACL_ERR_FORMAT, "%s: cannot read band %d rows %lld..%lld (%s)", r->path,
                     band + 1, (long long)y0, (long long)(y0 + h - 1),
                     gdal_message("truncated or damaged file"));
    quiet_end();
    return st;
}

void tc_raster_drop_cache(struct tc_raster *r)
{
    if (r == NULL || r->ds == NULL)
        return;
    quiet_begin();
    GDALFlushCache(r->ds);
    quiet_end();
}

/* GDAL's type for each of tc_raster_out_type_names, in its order. */
static const GDALDataType k_out_gdal_types[TC_RASTER_OUT_TYPE_COUNT] = {
    GDT_Byte, GDT_UInt16, GDT_Int16, GDT_UInt32, GDT_Int32, GDT_Float32, GDT_Float64};

static GDALDataType out_type(const char *name)
{
    int i = tc_raster_out_type_index(name);
    return i < 0 ? GDT_Unknown : k_out_gdal_types[i];
}

terracl_status tc_raster_create(const char *path, const struct tc_raster *like, int bands,
                                const char *type_name, int has_nodata, double nodata,
                                struct tc_raster_out **out, terracl_error *err)
{
    return tc_raster_create_rows(path, like, 0, like->info.height, bands, type_name, has_nodata,
                                 nodata, out, err);
}

terracl_status tc_raster_create_rows(const char *path, const struct tc_raster *like, int64_t row0,
                                     int64_t rows, int bands, const char *type_name,
                                     int has_nodata, double nodata, struct tc_raster_out **out,
                                     terracl_error *err)
{
    *out = NULL;
    GDALDataType type = out_type(type_name);
    if (type == GDT_Unknown)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "unknown output type '%s'", type_name);
    if (bands <= 0 || bands > TC_GEOTIFF_MAX_BANDS)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: %d output bands", path, bands);
    int64_t w = like->info.width, h = rows;
    if (row0 < 0 || rows <= 0 || row0 > like->info.height - rows)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: rows %lld..%lld outside the scene", path,
                       (long long)row0, (long long)(row0 + rows));
    if (w > INT32_MAX || h > INT32_MAX)
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "%s: raster too large", path);
    struct tc_raster_out *o = calloc(1, sizeof *o);
    if (o == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    snprintf(o->path, sizeof o->path, "%s", path);
    o->width = w;
    o->height = h;
    o->bands = bands;

    quiet_begin();
    terracl_status st = TERRACL_OK;
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **opts = NULL;
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BLOCKXSIZE", "256");
    opts = CSLSetNameValue(opts, "BLOCKYSIZE", "256");
    opts = CSLSetNameValue(opts, "COMPRESS", "LZW");
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
    /* Band-separate storage lets each band be written in its own pass. */
    opts = CSLSetNameValue(opts, "INTERLEAVE", bands > 1 ? "BAND" : "PIXEL");
    if (drv == NULL)
        st = tc_fail(err, TERRACL_ERR_INTERNAL, "GDAL has no GTiff driver");
    else if ((o->ds = GDALCreate(drv, path, (int)w, (int)h, bands, type, opts)) == NULL)
        st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot create (%s)", path,
                     gdal_message("GDALCreate failed"));
    CSLDestroy(opts);
    if (st == TERRACL_OK) {
        double gt[6];
        int has_gt = GDALGetGeoTransform(like->ds, gt) == CE_None;
        /* A band of rows starts row0 rows further along the y axis. */
        gt[0] += (double)row0 * gt[2];
        gt[3] += (double)row0 * gt[5];
        if (has_gt && GDALSetGeoTransform(o->ds, gt) != CE_None)
            st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot set the geotransform (%s)", path,
                         gdal_message("?"));
        const char *wkt = GDALGetProjectionRef(like->ds);
        if (st == TERRACL_OK && wkt != NULL && wkt[0] != '\0' &&
            GDALSetProjection(o->ds, wkt) != CE_None)
            st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot set the projection (%s)", path,
                         gdal_message("?"));
        for (int b = 0; st == TERRACL_OK && has_nodata && b < bands; b++)
            if (GDALSetRasterNoDataValue(GDALGetRasterBand(o->ds, b + 1), nodata) != CE_None)
                st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot set nodata (%s)", path,
                             gdal_message("?"));
    }
    quiet_end();
    if (st != TERRACL_OK) {
        tc_raster_abandon(o);
        return st;
    }
    *out = o;
    return TERRACL_OK;
}

terracl_status tc_raster_write_rows(struct tc_raster_out *o, int band, int64_t y0, int64_t h,
                                    const double *in, terracl_error *err)
{
    if (band < 0 || band >= o->bands || y0 < 0 || h <= 0 || y0 + h > o->height)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: rows %lld+%lld of band %d are outside the raster",
                       o->path, (long long)y0, (long long)h, band + 1);
    quiet_begin();
    GDALRasterBandH b = GDALGetRasterBand(o->ds, band + 1);
    CPLErr e = GDALRasterIO(b, GF_Write, 0, (int)y0, (int)o->width, (int)h, (void *)in,
                            (int)o->width, (int)h, GDT_Float64, 0, 0);
    terracl_status st = TERRACL_OK;
    if (e != CE_None)
        st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot write (%s)", o->path,
                     gdal_message("write failed"));
    quiet_end();
    return st;
}

terracl_status tc_raster_finish(struct tc_raster_out *o, terracl_error *err)
{
    quiet_begin();
    GDALFlushCache(o->ds);
    int failed = CPLGetLastErrorType() >= CE_Failure;
    GDALClose(o->ds);
    failed = failed || CPLGetLastErrorType() >= CE_Failure;
    terracl_status st = TERRACL_OK;
    if (failed)
        st = tc_fail(err, TERRACL_ERR_IO, "%s: cannot finish writing (%s)", o->path,
                     gdal_message("write failed"));
    quiet_end();
    free(o);
    return st;
}

void tc_raster_abandon(struct tc_raster_out *o)
{
    if (o == NULL)
        return;
    if (o->ds != NULL) {
        quiet_begin();
        GDALClose(o->ds);
        quiet_end();
    }
    free(o);
}
