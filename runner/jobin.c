/* jobin.c — the job line of a pre-started worker (see jobin.h).
 *
 * DESIGN. The line is read with a bound (JOBIN_LINE_MAX) through the same stdio stream the source
 * is read from afterwards, so no byte of the source is lost to read-ahead. It must be a JSON array
 * of strings, each free of NUL bytes (a C argument cannot hold one); anything else is refused with
 * the element at fault named. Nothing here knows what the arguments mean.
 *
 * Does not: parse options (main.c does, with the command line's parser) or read the source. */
#include "jobin.h"

#include <stdlib.h>
#include <string.h>

void jobin_free(struct jobin *j)
{
    if (!j)
        return;
    cJSON_Delete(j->json);
    free(j->argv);
    j->json = NULL;
    j->argv = NULL;
    j->argc = 0;
}

/* The line (without its newline) into buf[0..*len); 0 or ERR_INVALID. */
static int read_line(FILE *f, char *buf, size_t *len, struct err *e)
{
    size_t n = 0;
    for (;;) {
        int c = getc(f);
        if (c == EOF)
            return err_set(e, ERR_INVALID, "job", "stdin ended %s", n ? "before the job line's newline"
                                                                       : "before a job line arrived");
        if (c == '\n')
            break;
        if (c == 0)
            return err_set(e, ERR_INVALID, "job", "the job line holds a NUL byte");
        if (n == JOBIN_LINE_MAX)
            return err_set(e, ERR_INVALID, "job", "the job line is longer than %d bytes", JOBIN_LINE_MAX);
        buf[n++] = (char)c;
    }
    *len = n;
    return 0;
}

int jobin_read(FILE *f, struct jobin *j, struct err *e)
{
    char *line = NULL;
    size_t len = 0;
    int rc = 0;
    memset(j, 0, sizeof *j);
    if (!(line = malloc(JOBIN_LINE_MAX + 1))) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    if ((rc = read_line(f, line, &len, e)))
        goto out;
    line[len] = 0;
    j->json = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);   /* the NUL included: nothing may follow */
    if (!cJSON_IsArray(j->json)) {
        rc = err_set(e, ERR_INVALID, "job", "the job line is not a JSON array%s", j->json ? "" : " (not JSON)");
        goto out;
    }
    int n = cJSON_GetArraySize(j->json);
    if (n > JOBIN_ARGS_MAX) {
        rc = err_set(e, ERR_INVALID, "job", "the job line holds %d arguments, more than %d", n, JOBIN_ARGS_MAX);
        goto out;
    }
    if (!(j->argv = calloc((size_t)n + 1, sizeof *j->argv))) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    /* a decoded \u0000 would end a C string early: the argument would silently be shorter */
    if (strstr(line, "\\u0000")) {
        rc = err_set(e, ERR_INVALID, "job", "the job line holds a NUL character (\\u0000)");
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, j->json) {
        if (!cJSON_IsString(it)) {
            rc = err_set(e, ERR_INVALID, "job", "element %d of the job line is not a string", j->argc);
            goto out;
        }
        j->argv[j->argc++] = it->valuestring;
    }
out:
    free(line);
    if (rc)
        jobin_free(j);
    return rc;
}
