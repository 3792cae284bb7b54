/* source.c — the command line's candidate, through the request forms (see source.h).
 *
 * Files are read whole with a bound: the same limits as the daemon's defaults, so a candidate that
 * the API would refuse is refused here too, with the file's name in the message. */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidate.h"
#include "lintrules.h"

#define TEXT_MAX (4u << 20)   /* a prompt, a response or a candidate object */

static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "kgrade-worker: cannot open %s\n", path);
        return NULL;
    }
    char *buf = malloc(max + 2);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    if (!buf || n > max) {
        fprintf(stderr, "kgrade-worker: %s is larger than %zu bytes\n", path, max);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int source_read(const struct source_args *a, struct ingest *in)
{
    struct ingest_err ie = {0};
    int rc = -1;
    size_t n = 0, pn = 0;
    char *text = NULL, *prompt = NULL;
    cJSON *obj = NULL;
    memset(in, 0, sizeof *in);
    const char *file = a->candidate ? a->candidate : a->response ? a->response : a->source;
    if (!file) {
        fprintf(stderr, "kgrade-worker: no candidate: --source, --response or --candidate\n");
        return -1;
    }
    if (!(text = slurp(file, a->source && !a->response && !a->candidate ? CANDIDATE_MAX_SOURCE : TEXT_MAX, &n)))
        goto out;
    if (a->prompt && !(prompt = slurp(a->prompt, TEXT_MAX, &pn)))
        goto out;
    if (a->response) {
        rc = ingest_texts(prompt, pn, text, n, a->language, CANDIDATE_MAX_SOURCE, in, &ie);
    } else {
        if (a->candidate)
            obj = cJSON_ParseWithLength(text, n);
        else if ((obj = cJSON_CreateObject())) {
            cJSON_AddItemToObject(obj, "source", cJSON_CreateString(text));
            if (a->language)
                cJSON_AddStringToObject(obj, "language", a->language);
        }
        if (!cJSON_IsObject(obj)) {
            fprintf(stderr, "kgrade-worker: %s is not a JSON object\n", file);
            goto out;
        }
        rc = ingest_candidate(obj, CANDIDATE_MAX_SOURCE, TEXT_MAX, in, &ie);
    }
    if (rc)
        fprintf(stderr, "kgrade-worker: %s: %s\n", file, ie.msg);   /* the message names its field */
out:
    cJSON_Delete(obj);
    free(text);
    free(prompt);
    return rc;
}

cJSON *source_no_code_record(const struct ingest *in)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "schema", "kgrade.result/1");
    cJSON_AddStringToObject(r, "verdict", "no_code");
    cJSON *er = cJSON_AddObjectToObject(r, "error");
    cJSON_AddStringToObject(er, "stage", "extract");
    cJSON_AddStringToObject(er, "message", in->no_code);
    if (in->info)
        cJSON_AddItemToObject(r, "candidate", cJSON_Duplicate(in->info, 1));
    if (in->prompt)
        cJSON_AddItemToObject(r, "prompt", cJSON_Duplicate(in->prompt, 1));
    return r;
}

int source_lint_policy(const char *arg, char *out, size_t len)
{
    cJSON *j = cJSON_CreateObject();
    char buf[512];
    int rc = 0;
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || (strcmp(eq + 1, "reject") && strcmp(eq + 1, "warn") && strcmp(eq + 1, "off"))) {
            fprintf(stderr, "kgrade-worker: --lint takes ID=reject|warn|off[,...], not '%s'\n", tok);
            rc = -1;
            break;
        }
        *eq = 0;
        if (!lintrules_known(tok)) {
            fprintf(stderr, "kgrade-worker: --lint: the static checker has no rule '%s' (docs/lint.md lists them)\n",
                    tok);
            rc = -1;
            break;
        }
        cJSON_AddStringToObject(j, tok, eq + 1);
    }
    char *s = cJSON_PrintUnformatted(j);
    if (!rc && (!s || strlen(s) >= len)) {
        fprintf(stderr, "kgrade-worker: --lint is too long\n");
        rc = -1;
    }
    if (!rc)
        snprintf(out, len, "%s", s);
    free(s);
    cJSON_Delete(j);
    return rc;
}
