/* "Did you mean" support for unknown names (registries, bands, tasks): edit
 * distance and the nearest known names. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/value.h"

#define TC_NAME_CMP_MAX 255

size_t tc_edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > TC_NAME_CMP_MAX)
        na = TC_NAME_CMP_MAX;
    if (nb > TC_NAME_CMP_MAX)
        nb = TC_NAME_CMP_MAX;
    /* One row of the dynamic-programming table, on the stack. */
    size_t row[TC_NAME_CMP_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diag + (same ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

size_t tc_nearest_names(const char *query, const char *const *names, size_t n, size_t k,
                        size_t *best)
{
    size_t found = 0;
    size_t dist[8];
    if (k > 8)
        k = 8;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(names[j], names[i]) == 0;
        if (dup)
            continue;
        size_t d = tc_edit_distance(query, names[i]);
        /* Insert into the sorted top-k; later names lose ties. */
        size_t pos = found;
        while (pos > 0 && dist[pos - 1] > d)
            pos--;
        if (pos >= k)
            continue;
        size_t last = found < k ? found : k - 1;
        for (size_t j = last; j > pos; j--) {
            dist[j] = dist[j - 1];
            best[j] = best[j - 1];
        }
        dist[pos] = d;
        best[pos] = i;
        if (found < k)
            found++;
    }
    return found;
}

/* strstr with ASCII case ignored. */
static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

int tc_name_is_near(const char *query, const char *name)
{
    size_t len = strlen(query);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    if (tc_edit_distance(query, name) <= limit)
        return 1;
    return len >= 4 && strlen(name) >= 4 &&
           (contains_nocase(name, query) || contains_nocase(query, name));
}
