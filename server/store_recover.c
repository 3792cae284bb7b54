/* store_recover.c — the store after a restart (see store.h, store_recover): the jobs a stopped
 * daemon left compiling or running go back to the status before, each with its event, in one
 * transaction; a job that has used its attempts is finished with internal_error instead, its record
 * written here (with what its request held, as every finished record has it).
 *
 * Does not: run anything; the scheduler's lanes take the requeued jobs as any others. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stuck {
    char id[32];
    int status, attempts;
    char *ingest;               /* owned; NULL when none */
};

/* The record of a job given up after attempts runs cut short; NULL when out of memory. */
static char *given_up(int attempts, const char *ingest)
{
    char msg[128];
    snprintf(msg, sizeof msg, "the job did not finish after %d attempts (the daemon stopped while it ran)",
             attempts);
    cJSON *rec = cJSON_CreateObject(), *err = NULL;
    char *text = NULL;
    if (cJSON_AddStringToObject(rec, "schema", "kgrade.result/1") &&
        cJSON_AddStringToObject(rec, "verdict", "internal_error") && (err = cJSON_AddObjectToObject(rec, "error")) &&
        cJSON_AddStringToObject(err, "stage", "worker") && cJSON_AddStringToObject(err, "message", msg) &&
        store_ingest_merge(rec, ingest) == 0)
        text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    return text;
}

int store_recover(struct store *s, int *requeued, int *failed, struct err *e)
{
    sqlite3_stmt *st = NULL;
    struct stuck *v = NULL;
    size_t n = 0, cap = 0;
    int nreq = 0, nfail = 0, rc;
    double now = store_now();
    store_lock(s);
    if ((rc = store_begin(s, e)))
        goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT id, status, attempts, ingest FROM jobs WHERE status IN (1, 3)"
                           " ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
        rc = store_dberr(s, e, "recover");
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            struct stuck *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
            if (!nv) {
                rc = err_set(e, ERR_NOMEM, "", "store: out of memory");
                goto out;
            }
            v = nv;
        }
        store_copy_col(st, 0, v[n].id, sizeof v[n].id);
        v[n].status = sqlite3_column_int(st, 1);
        v[n].attempts = sqlite3_column_int(st, 2);
        const unsigned char *in = sqlite3_column_text(st, 3);
        v[n].ingest = in ? strdup((const char *)in) : NULL;
        if (in && !v[n].ingest) {
            rc = err_set(e, ERR_NOMEM, "", "store: out of memory");
            goto out;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        rc = store_dberr(s, e, "recover");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].attempts >= s->max_attempts) {
            char *result = given_up(v[i].attempts, v[i].ingest);
            rc = result ? store_finish_row(s, v[i].id, v[i].status, "internal_error", result, now, e)
                        : err_set(e, ERR_NOMEM, "", "store: out of memory");
            free(result);
            nfail++;
        } else {
            rc = store_move(s, v[i].id, v[i].status, v[i].status - 1, now, e);
            nreq++;
        }
        if (rc < 0)
            goto out;
    }
    rc = store_commit(s, n > 0, e);
out:
    sqlite3_finalize(st);
    store_end(s);
    for (size_t i = 0; i < n; i++)
        free(v[i].ingest);
    free(v);
    if (requeued)
        *requeued = rc ? 0 : nreq;
    if (failed)
        *failed = rc ? 0 : nfail;
    return rc;
}
