/*
 * Device discovery and selection. Devices are numbered globally over all
 * platforms in the order the ICD loader reports them; that index is what
 * `terracl devices` prints and what a numeric selector means.
 *
 * Discovery runs once per process (pthread_once) and its result is kept:
 * the ICD loader and drivers initialise themselves on the first
 * clGetPlatformIDs, and doing that from several threads at once made
 * runtimes created concurrently as a process's first fail with "no OpenCL
 * device found" or crash inside the driver.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cl_internal.h"

#define TC_MAX_PLATFORMS 16
#define TC_MAX_DEVICES 64

static const char k_install_hint[] =
    "no OpenCL device found: install an OpenCL driver (on Debian: apt-get install "
    "pocl-opencl-icd for the CPU, or your GPU vendor's OpenCL ICD) and check with `terracl "
    "devices`";

/* Lists every (platform, device) pair; *count may be 0. */
static terracl_status discover(cl_platform_id *plats, cl_device_id *devs, size_t *plat_of,
                               size_t *count, terracl_error *err)
{
    cl_uint nplat = 0;
    cl_int rc = clGetPlatformIDs(TC_MAX_PLATFORMS, plats, &nplat);
    *count = 0;
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && nplat == 0))
        return TERRACL_OK;
    if (rc != CL_SUCCESS)
        return tc_cl_fail(err, "clGetPlatformIDs", rc);
    if (nplat > TC_MAX_PLATFORMS)
        nplat = TC_MAX_PLATFORMS;
    for (cl_uint p = 0; p < nplat; p++) {
        cl_uint ndev = 0;
        cl_device_id found[TC_MAX_DEVICES];
        rc = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, TC_MAX_DEVICES, found, &ndev);
        if (rc == CL_DEVICE_NOT_FOUND)
            continue;
        if (rc != CL_SUCCESS)
            return tc_cl_fail(err, "clGetDeviceIDs", rc);
        if (ndev > TC_MAX_DEVICES)
            ndev = TC_MAX_DEVICES;
        for (cl_uint d = 0; d < ndev && *count < TC_MAX_DEVICES; d++) {
            devs[*count] = found[d];
            plat_of[*count] = p;
            (*count)++;
        }
    }
    return TERRACL_OK;
}

/* What the one discovery found (written once, then only read). */
static struct {
    cl_platform_id plats[TC_MAX_PLATFORMS];
    cl_device_id devs[TC_MAX_DEVICES];
    size_t plat_of[TC_MAX_DEVICES];
    size_t count;
    terracl_status st;
    terracl_error err;
} g_found;
static pthread_once_t g_found_once = PTHREAD_ONCE_INIT;

static void discover_once(void)
{
    g_found.st = discover(g_found.plats, g_found.devs, g_found.plat_of, &g_found.count,
                          &g_found.err);
}

static terracl_status enumerate(cl_platform_id *plats, cl_device_id *devs, size_t *plat_of,
                                size_t *count, terracl_error *err)
{
    pthread_once(&g_found_once, discover_once);
    *count = 0;
    if (g_found.st != TERRACL_OK)
        return tc_fail(err, g_found.st, "%s", g_found.err.message);
    memcpy(plats, g_found.plats, sizeof g_found.plats);
    memcpy(devs, g_found.devs, sizeof g_found.devs);
    memcpy(plat_of, g_found.plat_of, sizeof g_found.plat_of);
    *count = g_found.count;
    return TERRACL_OK;
}

static void get_string(cl_device_id dev, cl_device_info what, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (clGetDeviceInfo(dev, what, cap, dst, NULL) != CL_SUCCESS)
        dst[0] = '\0';
    dst[cap - 1] = '\0';
}

static void fill_info(cl_platform_id plat, cl_device_id dev, struct terracl_device_info *info)
{
    if (clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name,
                          NULL) != CL_SUCCESS)
        info->platform_name[0] = '\0';
    if (clGetPlatformInfo(plat, CL_PLATFORM_VERSION, sizeof info->platform_version,
                          info->platform_version, NULL) != CL_SUCCESS)
        info->platform_version[0] = '\0';
    info->platform_name[sizeof info->platform_name - 1] = '\0';
    info->platform_version[sizeof info->platform_version - 1] = '\0';
    get_string(dev, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_string(dev, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_string(dev, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    get_string(dev, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);

    cl_device_type type = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    const char *tname = "other";
    if (type & CL_DEVICE_TYPE_GPU)
        tname = "gpu";
    else if (type & CL_DEVICE_TYPE_CPU)
        tname = "cpu";
    else if (type & CL_DEVICE_TYPE_ACCELERATOR)
        tname = "accelerator";
    snprintf(info->type, sizeof info->type, "%s", tname);

    cl_uint cu = 0;
    cl_ulong gmem = 0, maxalloc = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxalloc, &maxalloc, NULL);
    info->compute_units = cu;
    info->global_mem_bytes = gmem;
    info->max_alloc_bytes = maxalloc;

    size_t ext_len = 0;
    info->fp16 = info->fp64 = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS &&
        ext_len > 0) {
        char *ext = malloc(ext_len + 1);
        if (ext && clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
            ext[ext_len] = '\0';
            info->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            info->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        }
        free(ext);
    }
}

terracl_status terracl_device_count(size_t *count, terracl_error *err)
{
    if (count == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_device_count: count is NULL");
    cl_platform_id plats[TC_MAX_PLATFORMS];
    cl_device_id devs[TC_MAX_DEVICES];
    size_t plat_of[TC_MAX_DEVICES];
    return enumerate(plats, devs, plat_of, count, err);
}

terracl_status tc_device_lookup(size_t index, cl_platform_id *platform, cl_device_id *device,
                                struct terracl_device_info *info, terracl_error *err)
{
    cl_platform_id plats[TC_MAX_PLATFORMS];
    cl_device_id devs[TC_MAX_DEVICES];
    size_t plat_of[TC_MAX_DEVICES];
    size_t count = 0;
    terracl_status st = enumerate(plats, devs, plat_of, &count, err);
    if (st != TERRACL_OK)
        return st;
    if (count == 0)
        return tc_fail(err, TERRACL_ERR_NO_DEVICE, "%s", k_install_hint);
    if (index >= count)
        return tc_fail(err, TERRACL_ERR_NO_DEVICE, "device index %zu out of range: %zu device%s found",
                       index, count, count == 1 ? "" : "s");
    if (platform)
        *platform = plats[plat_of[index]];
    if (device)
        *device = devs[index];
    if (info) {
        memset(info, 0, sizeof *info);
        info->index = index;
        info->platform_index = plat_of[index];
        fill_info(plats[plat_of[index]], devs[index], info);
    }
    return TERRACL_OK;
}

terracl_status terracl_device_get_info(size_t index, struct terracl_device_info *info,
                                       terracl_error *err)
{
    if (info == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_device_get_info: info is NULL");
    return tc_device_lookup(index, NULL, NULL, info, err);
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int is_index(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

terracl_status terracl_device_select(const char *selector, size_t *index, terracl_error *err)
{
    if (index == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "terracl_device_select: index is NULL");
    cl_platform_id plats[TC_MAX_PLATFORMS];
    cl_device_id devs[TC_MAX_DEVICES];
    size_t plat_of[TC_MAX_DEVICES];
    size_t count = 0;
    terracl_status st = enumerate(plats, devs, plat_of, &count, err);
    if (st != TERRACL_OK)
        return st;
    if (count == 0)
        return tc_fail(err, TERRACL_ERR_NO_DEVICE, "%s", k_install_hint);

    struct terracl_device_info info[TC_MAX_DEVICES];
    for (size_t i = 0; i < count; i++) {
        memset(&info[i], 0, sizeof info[i]);
        fill_info(plats[plat_of[i]], devs[i], &info[i]);
    }

    if (selector == NULL || *selector == '\0') {
        for (size_t i = 0; i < count; i++)
            if (strcmp(info[i].type, "gpu") == 0) {
                *index = i;
                return TERRACL_OK;
            }
        *index = 0;
        return TERRACL_OK;
    }
    /* "SEL:K": the K-th device that SEL matches, modulo their number, so
     * that processes numbered K on one node spread over its devices. */
    char sel[256];
    unsigned long long nth = 0;
    snprintf(sel, sizeof sel, "%s", selector);
    char *colon = strrchr(sel, ':');
    if (colon != NULL && colon != sel && is_index(colon + 1) && strlen(colon + 1) < 10) {
        nth = strtoull(colon + 1, NULL, 10);
        *colon = '\0';
    }
    if (is_index(sel)) {
        unsigned long long v = strtoull(sel, NULL, 10);
        if (v < count && nth == 0) {
            *index = (size_t)v;
            return TERRACL_OK;
        }
    } else {
        int by_type = strcmp(sel, "cpu") == 0 || strcmp(sel, "gpu") == 0 ||
                      strcmp(sel, "accelerator") == 0;
        size_t matches[TC_MAX_DEVICES], nmatch = 0;
        for (size_t i = 0; i < count; i++)
            if (by_type ? strcmp(info[i].type, sel) == 0 : contains_nocase(info[i].name, sel))
                matches[nmatch++] = i;
        if (nmatch > 0) {
            *index = matches[nth % nmatch];
            return TERRACL_OK;
        }
    }

    char list[2048];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < count && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%zu: %s (%s)", i ? "; " : "", i,
                         info[i].name, info[i].type);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return tc_fail(err, TERRACL_ERR_NO_DEVICE,
                   "no OpenCL device matches '%s' (expected an index, cpu, gpu, accelerator or "
                   "part of a device name, optionally followed by :K for the K-th match); "
                   "devices found: %s",
                   selector, list);
}
