/*
 * HDF5 checkpoints: every dataset reachable through hard links from the root
 * is a tensor, named by its path with '/' turned into '.' (DESIGN.md §2.2).
 * The root attribute "config" holds the model's YAML config.
 */
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "io/checkpoint_internal.h"
#include "io/h5_util.h"

/* HDF5 1.12 versioned the link-visit callback and replaced H5Dvlen_reclaim;
 * Debian 12 ships 1.10. */
#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t link_info;
#define link_visit H5Lvisit2
#define vlen_reclaim H5Treclaim
#else
typedef H5L_info_t link_info;
#define link_visit H5Lvisit
#define vlen_reclaim H5Dvlen_reclaim
#endif

bool tc_ck_h5_probe(const char *path)
{
    tc_h5_quiet();
    htri_t r = H5Fis_hdf5(path);
    H5Eclear2(H5E_DEFAULT);
    return r > 0;
}

struct visit_state {
    struct tc_checkpoint *ck;
    terracl_error *err;
    terracl_status st;
};

static herr_t visit_cb(hid_t group, const char *name, const link_info *info, void *data)
{
    struct visit_state *v = data;
    struct tc_checkpoint *ck = v->ck;
    char why[512];
    /* Soft and external links may dangle or point outside the file; a state
     * dict never needs them. */
    if (info->type != H5L_TYPE_HARD)
        return 0;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) {
        v->st = tc_fail(v->err, TERRACL_ERR_FORMAT, "checkpoint '%s': cannot open '/%s': %s",
                        ck->path, name, tc_h5_error_text(why, sizeof why));
        return -1;
    }
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        return 0;
    }
    size_t len = strlen(name);
    struct tc_ck_item *it;
    terracl_status st = tc_ck_add_item(ck, name, len, &it, v->err);
    if (st == TERRACL_OK) {
        for (char *p = it->name; *p; p++)
            if (*p == '/')
                *p = '.';
        it->h5_path = strdup(name);
        if (it->h5_path == NULL)
            st = tc_fail(v->err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory",
                         ck->path);
    }
    struct tc_h5_info hi;
    if (st == TERRACL_OK)
        st = tc_h5_describe(obj, ck->path, name, &hi, v->err);
    H5Oclose(obj);
    if (st != TERRACL_OK) {
        v->st = st;
        return -1;
    }
    it->pub.dtype = hi.dtype;
    it->pub.ndim = hi.ndim;
    memcpy(it->pub.dims, hi.dims, sizeof it->pub.dims);
    it->pub.numel = hi.numel;
    it->pub.valid = hi.problem == NULL;
    it->pub.problem = hi.problem;
    return 0;
}

/* Reads the root "config" attribute when it is a string; anything else is
 * treated as absent (a checkpoint stays loadable with a separate config). */
static terracl_status read_config(struct tc_checkpoint *ck, hid_t file, terracl_error *err)
{
    char why[512];
    htri_t exists = H5Aexists(file, "config");
    if (exists <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return TERRACL_OK;
    }
    hid_t attr = H5Aopen(file, "config", H5P_DEFAULT);
    if (attr < 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': cannot open attribute 'config': %s",
                       ck->path, tc_h5_error_text(why, sizeof why));
    terracl_status st = TERRACL_OK;
    hid_t ftype = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    hid_t mtype = H5I_INVALID_HID;
    if (ftype < 0 || space < 0) {
        st = tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': attribute 'config': %s", ck->path,
                     tc_h5_error_text(why, sizeof why));
        goto out;
    }
    if (H5Tget_class(ftype) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1)
        goto out;

    if (H5Tis_variable_str(ftype) > 0) {
        mtype = H5Tcopy(H5T_C_S1);
        char *text = NULL;
        if (mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 || H5Aread(attr, mtype, &text) < 0) {
            st = tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': cannot read attribute 'config': %s",
                         ck->path, tc_h5_error_text(why, sizeof why));
            goto out;
        }
        if (text != NULL) {
            ck->config = strdup(text);
            vlen_reclaim(mtype, space, H5P_DEFAULT, &text);
            if (ck->config == NULL)
                st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory",
                             ck->path);
        }
        goto out;
    }

    /* Fixed-length: read the raw bytes (same type as stored), then end the
     * string at the first NUL and drop space padding. */
    size_t size = H5Tget_size(ftype);
    size_t bytes;
    if (size == 0 || tc_add_overflow(size, 1, &bytes)) {
        st = tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': attribute 'config' has size %zu",
                     ck->path, size);
        goto out;
    }
    char *text = malloc(bytes);
    if (text == NULL) {
        st = tc_fail(err, TERRACL_ERR_NO_MEMORY, "checkpoint '%s': out of memory", ck->path);
        goto out;
    }
    if (H5Aread(attr, ftype, text) < 0) {
        free(text);
        st = tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': cannot read attribute 'config': %s",
                     ck->path, tc_h5_error_text(why, sizeof why));
        goto out;
    }
    text[size] = '\0';
    size_t len = strlen(text);
    if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
        while (len > 0 && text[len - 1] == ' ')
            text[--len] = '\0';
    ck->config = text;

out:
    if (mtype >= 0)
        H5Tclose(mtype);
    if (space >= 0)
        H5Sclose(space);
    if (ftype >= 0)
        H5Tclose(ftype);
    H5Aclose(attr);
    return st;
}

terracl_status tc_ck_h5_open(struct tc_checkpoint *ck, terracl_error *err)
{
    hid_t file;
    terracl_status st = tc_h5_open_read(ck->path, "checkpoint", &file, err);
    if (st != TERRACL_OK)
        return st;
    ck->h5_file = file;
    struct visit_state v = {ck, err, TERRACL_OK};
    herr_t rc = link_visit(file, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v);
    if (v.st != TERRACL_OK)
        return v.st;
    if (rc < 0) {
        char why[512];
        return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': cannot list its datasets: %s",
                       ck->path, tc_h5_error_text(why, sizeof why));
    }
    return read_config(ck, file, err);
}

terracl_status tc_ck_h5_read(struct tc_checkpoint *ck, const struct tc_ck_item *it, float *dst,
                             terracl_error *err)
{
    tc_h5_quiet();
    char why[512];
    hid_t dset = H5Dopen2(ck->h5_file, it->h5_path, H5P_DEFAULT);
    if (dset < 0)
        return tc_fail(err, TERRACL_ERR_FORMAT, "checkpoint '%s': cannot open tensor '%s': %s",
                       ck->path, it->name, tc_h5_error_text(why, sizeof why));
    struct tc_h5_info hi = {
        .dtype = it->pub.dtype, .ndim = it->pub.ndim, .numel = it->pub.numel};
    terracl_status st = tc_h5_read_f32(dset, ck->path, it->name, &hi, dst, err);
    H5Dclose(dset);
    return st;
}

void tc_ck_h5_close(struct tc_checkpoint *ck)
{
    if (ck->h5_file >= 0) {
        tc_h5_quiet();
        H5Fclose(ck->h5_file);
        ck->h5_file = -1;
    }
}
