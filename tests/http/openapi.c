/* openapi.c — reads the operations of docs/openapi.yaml (openapi.h).
 *
 * The subset: `paths:` at column 0; under it each path at 2 spaces (`  /v1/x:`), each method at 4
 * (`    get:`), `responses:` at 6 and each status at 8 (`        '200':`). Everything else —
 * parameters, schemas, block scalars, components — sits at other indentations or outside `paths:`
 * and is skipped. A path-level `parameters:` at 4 is not a method. Comment and blank lines are
 * skipped. The file must keep this layout; the test fails loudly when it finds no operation. */
#include "openapi.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int openapi_read(const char *path, struct openapi_op *ops, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char line[4096], cur_path[160] = "";
    struct openapi_op *cur = NULL;
    int in_paths = 0, in_resp = 0, lineno = 0, nops = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        int ind = (int)strspn(line, " ");
        const char *s = line + ind;
        if (!*s || *s == '#')
            continue;
        if (ind == 0) {
            in_paths = strcmp(s, "paths:") == 0;
            cur = NULL;
            continue;
        }
        if (!in_paths)
            continue;
        char key[160];
        size_t kl = strcspn(s, ":");
        if (s[kl] != ':')
            continue;
        snprintf(key, sizeof key, "%.*s", (int)kl, s);
        if (key[0] == '\'' || key[0] == '"') {   /* '200' -> 200 */
            memmove(key, key + 1, strlen(key));
            key[strcspn(key, "'\"")] = '\0';
        }
        if (ind == 2) {
            snprintf(cur_path, sizeof cur_path, "%s", key);
            cur = NULL;
        } else if (ind == 4) {
            static const char *const methods[] = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};
            cur = NULL;
            for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
                if (strcmp(key, methods[m]) == 0 && nops < max) {
                    cur = &ops[nops++];
                    memset(cur, 0, sizeof *cur);
                    for (size_t c = 0; key[c] && c < sizeof cur->method - 1; c++)
                        cur->method[c] = (char)toupper((unsigned char)key[c]);
                    snprintf(cur->path, sizeof cur->path, "%s", cur_path);
                    cur->line = lineno;
                }
            in_resp = 0;
        } else if (ind == 6) {
            in_resp = cur && strcmp(key, "responses") == 0;
        } else if (ind == 8 && in_resp && cur && cur->nst < 32) {
            snprintf(cur->st[cur->nst++], sizeof cur->st[0], "%.11s", key);
        }
    }
    fclose(f);
    return nops;
}
