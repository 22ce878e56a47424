/*
 * The pixel types an output raster may have (geotiff.h), kept apart from
 * GDAL so that a build without it accepts and refuses the same names.
 */
#include "io/geotiff.h"

#include <string.h>

const char *const tc_raster_out_type_names[TC_RASTER_OUT_TYPE_COUNT] = {
    "uint8", "uint16", "int16", "uint32", "int32", "float32", "float64"};

int tc_raster_out_type_index(const char *name)
{
    for (int i = 0; name != NULL && i < TC_RASTER_OUT_TYPE_COUNT; i++)
        if (strcmp(tc_raster_out_type_names[i], name) == 0)
            return i;
    return -1;
}

int tc_raster_out_type_known(const char *name) { return tc_raster_out_type_index(name) >= 0; }
