/*
 * "Did you mean": the closest of several names to an unknown one, by edit
 * distance (optimal string alignment, so a swap of two neighbouring letters
 * is one edit; case ignored). Used for unknown names in model files.
 */
#include <ctype.h>
#include <string.h>

#include "util.h"

/* Distance ignoring case; words longer than 64 characters are far. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    int before[65] = {0}, prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int ai = tolower((unsigned char)a[i - 1]);
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int bj = tolower((unsigned char)b[j - 1]);
            int best = prev[j - 1] + (ai != bj);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(before, prev, sizeof prev);
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

void sg_suggest_init(sg_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    /* a third of the letters may be wrong (at most 3); names of one or two
     * letters (A, k1) are all one edit apart: only a difference of case */
    int limit = (int)(strlen(word) / 3);
    s->limit = limit > 3 ? 3 : limit;
    s->best_distance = s->limit + 1;
}

void sg_suggest_consider(sg_suggest *s, const char *candidate)
{
    if (!candidate || strcmp(candidate, s->word) == 0)
        return;
    int d = edit_distance(s->word, candidate);
    if (d < s->best_distance) {
        s->best_distance = d;
        s->best = candidate;
    }
}

void sg_suggest_append(const sg_suggest *s, char *msg, size_t size)
{
    size_t len = strlen(msg);
    if (s->best && len < size)
        snprintf(msg + len, size - len, " (did you mean '%s'?)", s->best);
}
