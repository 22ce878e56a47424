/* PNG pictures of segmentation and regression outputs. */
#include "cli/output_image.h"

#include <errno.h>
#include <float.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/tensor_file.h"

#ifdef TERRACL_HAVE_PNG
#include <png.h>

/* A qualitative palette; classes beyond it wrap around. */
static const unsigned char k_palette[][3] = {
    {0, 0, 0},       {230, 25, 75},  {60, 180, 75},   {255, 225, 25}, {0, 130, 200},
    {245, 130, 48},  {145, 30, 180}, {70, 240, 240},  {240, 50, 230}, {210, 245, 60},
    {250, 190, 212}, {0, 128, 128},  {220, 190, 255}, {170, 110, 40}, {255, 250, 200},
    {128, 0, 0},
};
#define PALETTE_SIZE (sizeof k_palette / sizeof k_palette[0])

static terracl_status write_png(const char *path, int width, int height, int channels,
                                const unsigned char *pixels, terracl_error *err)
{
    char tmp[4096], dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int w = snprintf(tmp, sizeof tmp, "%s/.terracl-png-XXXXXX", dirname(dir));
    if (w < 0 || (size_t)w >= sizeof tmp)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "output path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return tc_fail(err, TERRACL_ERR_IO, "cannot create a file in the folder of %s: %s", path,
                       strerror(errno));
    /* mkstemp makes 0600 files: give the picture the mode HDF5 outputs get. */
    fchmod(fd, (mode_t)tc_output_file_mode(path));
    FILE *f = fdopen(fd, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (f == NULL || png == NULL || info == NULL) {
        if (f)
            fclose(f);
        else
            close(fd);
        png_destroy_write_struct(&png, &info);
        remove(tmp);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "cannot start writing %s", path);
    }
    /* libpng reports errors by longjmp; nothing below allocates. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        remove(tmp);
        return tc_fail(err, TERRACL_ERR_IO, "writing PNG %s failed", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * (size_t)width * (size_t)channels));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return tc_fail(err, TERRACL_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    return TERRACL_OK;
}

terracl_status tc_write_output_png(const char *path, const char *task,
                                   const struct terracl_tensor *out, terracl_error *err)
{
    int seg = out->ndim == 4;
    int reg = out->ndim == 3;
    if (!seg && !reg)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "a %s output of rank %d cannot be drawn as a PNG (expected segmentation "
                       "[B, K, H, W] or regression [B, H, W]); write .h5 instead",
                       task, out->ndim);
    int64_t B = out->dims[0], H = out->dims[out->ndim - 2], W = out->dims[out->ndim - 1];
    int64_t K = seg ? out->dims[1] : 1;
    if (H * B > 100000 || W > 100000)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "output too large for a PNG");
    int channels = seg ? 3 : 1;
    size_t npix = (size_t)(B * H * W);
    unsigned char *pix = malloc(npix * (size_t)channels);
    if (pix == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    if (seg) {
        for (int64_t b = 0; b < B; b++)
            for (int64_t p = 0; p < H * W; p++) {
                const float *base = out->data + b * K * H * W + p;
                int64_t best = 0;
                for (int64_t k = 1; k < K; k++)
                    if (base[k * H * W] > base[best * H * W])
                        best = k;
                memcpy(pix + ((size_t)(b * H * W + p)) * 3, k_palette[best % PALETTE_SIZE], 3);
            }
    } else {
        /* The grey scale spans the finite values; NaN is drawn black and
         * infinities at the ends, so no value outside 0..255 reaches the
         * cast (which would be undefined). */
        float lo = FLT_MAX, hi = -FLT_MAX;
        for (size_t i = 0; i < npix; i++) {
            float v = out->data[i];
            if (!isfinite(v))
                continue;
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
        double range = hi > lo ? (double)hi - (double)lo : 1.0;
        for (size_t i = 0; i < npix; i++) {
            float v = out->data[i];
            double g = isnan(v) ? 0.0 : 255.0 * ((double)v - (double)lo) / range + 0.5;
            pix[i] = (unsigned char)(g < 0.0 ? 0.0 : g > 255.0 ? 255.0 : g);
        }
    }
    terracl_status st = write_png(path, (int)W, (int)(B * H), channels, pix, err);
    free(pix);
    return st;
}

#else

terracl_status tc_write_output_png(const char *path, const char *task,
                                   const struct terracl_tensor *out, terracl_error *err)
{
    (void)task;
    (void)out;
    return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                   "cannot write %s: terracl was built without libpng (install libpng-dev and "
                   "rebuild)",
                   path);
}

#endif
