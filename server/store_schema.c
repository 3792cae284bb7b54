/* store_schema.c — the store's schema and its migrations (see store.h).
 *
 * DESIGN
 *   The schema is a list of migrations applied above PRAGMA user_version, each in its own
 *   transaction together with the bump of the version; a later change appends to the list and
 *   never edits an applied entry. A migration is SQL, or a function for what SQL alone cannot say
 *   ("add this column unless it is there"). A database whose version is above the list is refused:
 *   it was written by a newer daemon, whose rows this one might misread.
 *
 *   2 adds to jobs what a candidate in any request form brings: `ingest` (the JSON of what was read
 *   from the request: the candidate's form, language and extraction, the parsed prompt) and
 *   `baseline_id` (the evaluation of the prompt's current code, run for comparison). Both are added
 *   only when missing, so a file that already has them (written by a development build) upgrades
 *   too; rows of version 1 keep NULL in both, which every reader takes as "none". The index on the
 *   open jobs by cache key lets a submission find an evaluation of the same code already under way.
 *
 * Does not: migrate backwards. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

/* 1 when table has column, 0 when not, or a negative ERR_*. */
static int has_column(struct store *s, const char *table, const char *column, struct err *e)
{
    char q[128];
    sqlite3_stmt *st = NULL;
    snprintf(q, sizeof q, "PRAGMA table_info(%s)", table);
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
        return store_dberr(s, e, q);
    int rc, found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 1);
        found |= name && strcmp((const char *)name, column) == 0;
    }
    rc = rc == SQLITE_DONE ? found : store_dberr(s, e, q);
    sqlite3_finalize(st);
    return rc;
}

static int add_column(struct store *s, const char *table, const char *column, const char *type,
                      struct err *e)
{
    int rc = has_column(s, table, column, e);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    char q[200];
    snprintf(q, sizeof q, "ALTER TABLE %s ADD COLUMN %s %s", table, column, type);
    return store_exec(s, q, e);
}

static int v2_ingest(struct store *s, struct err *e)
{
    int rc;
    if ((rc = add_column(s, "jobs", "ingest", "TEXT", e)) ||
        (rc = add_column(s, "jobs", "baseline_id", "TEXT", e)))
        return rc;
    return store_exec(s, "CREATE INDEX IF NOT EXISTS jobs_open_key ON jobs(cache_key, seq)"
                      " WHERE status < 4", e);
}

struct migration {
    const char *sql;
    int (*fn)(struct store *s, struct err *e);
};

static const struct migration migrations[] = {
    /* 1: the initial schema */
    {"CREATE TABLE sources(sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL, body BLOB NOT NULL);"
     "CREATE TABLE batches(id TEXT PRIMARY KEY, label TEXT, created REAL NOT NULL,"
     " total INTEGER NOT NULL);"
     "CREATE TABLE jobs(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
     " batch_id TEXT REFERENCES batches(id), batch_index INTEGER, problem TEXT NOT NULL,"
     " spec TEXT NOT NULL, source_sha256 TEXT NOT NULL REFERENCES sources(sha256),"
     " language TEXT NOT NULL, options TEXT NOT NULL, mode TEXT NOT NULL, cache_key TEXT NOT NULL,"
     " priority INTEGER NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
     " runs INTEGER NOT NULL DEFAULT 0, gpu INTEGER, verdict TEXT, cached_from TEXT, result TEXT,"
     " created REAL NOT NULL, started REAL, finished REAL, fin_seq INTEGER);"
     "CREATE INDEX jobs_queue ON jobs(status, priority DESC, seq);"
     "CREATE INDEX jobs_cache ON jobs(cache_key, seq) WHERE status = 4;"
     "CREATE INDEX jobs_verdict ON jobs(verdict, seq) WHERE status = 4;"
     "CREATE INDEX jobs_batch_fin ON jobs(batch_id, fin_seq) WHERE batch_id IS NOT NULL;"
     "CREATE INDEX jobs_batch_status ON jobs(batch_id, status) WHERE batch_id IS NOT NULL;"
     "CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, type TEXT NOT NULL,"
     " job_id TEXT, batch_id TEXT, status TEXT NOT NULL, verdict TEXT);"
     "CREATE INDEX events_job ON events(job_id) WHERE job_id IS NOT NULL;"
     "CREATE INDEX events_batch ON events(batch_id) WHERE batch_id IS NOT NULL;"
     "CREATE TABLE counters(id INTEGER PRIMARY KEY CHECK (id = 1), fin_seq INTEGER NOT NULL);"
     "INSERT INTO counters VALUES (1, 0);",
     NULL},
    /* 2: jobs.ingest, jobs.baseline_id (a candidate in any request form; the prompt's baseline) */
    {NULL, v2_ingest},
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int store_schema_migrate(struct store *s, struct err *e)
{
    long v = 0;
    int rc = store_number(s, "PRAGMA user_version", &v, e);
    if (rc)
        return rc;
    if (v > NMIGRATIONS)
        return err_set(e, ERR_UNSUPPORTED, "path",
                       "store: the database has schema version %ld; this build knows up to %d", v,
                       NMIGRATIONS);
    for (; v < NMIGRATIONS; v++) {
        const struct migration *m = &migrations[v];
        char bump_sql[64];
        snprintf(bump_sql, sizeof bump_sql, "PRAGMA user_version = %ld", v + 1);
        if ((rc = store_exec(s, "BEGIN IMMEDIATE", e)) ||
            (rc = m->sql ? store_exec(s, m->sql, e) : m->fn(s, e)) ||
            (rc = store_exec(s, bump_sql, e)) || (rc = store_exec(s, "COMMIT", e))) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return 0;
}

/* ---- what the ingest column holds ------------------------------------------------------------ */

/* Set rec[key] = v (taking v), replacing what was there: 0, or -1 when out of memory. */
static int set(cJSON *rec, const char *key, cJSON *v)
{
    if (!v)
        return -1;
    int done = cJSON_GetObjectItemCaseSensitive(rec, key) ? cJSON_ReplaceItemInObjectCaseSensitive(rec, key, v)
                                                          : cJSON_AddItemToObject(rec, key, v);
    if (done)
        return 0;
    cJSON_Delete(v);
    return -1;
}

int store_ingest_merge(cJSON *rec, const char *ingest_json)
{
    if (!ingest_json || !cJSON_IsObject(rec))
        return 0;
    cJSON *in = cJSON_ParseWithLengthOpts(ingest_json, strlen(ingest_json), NULL, 0);
    if (!cJSON_IsObject(in)) {
        cJSON_Delete(in);
        return in ? 0 : -1;
    }
    int rc = 0;
    const cJSON *cand = cJSON_GetObjectItemCaseSensitive(in, "candidate");
    if (cJSON_IsObject(cand)) {
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
        if (!cJSON_IsObject(dst))
            rc = set(rec, "candidate", cJSON_CreateObject()) ? -1 : 0;
        dst = cJSON_GetObjectItemCaseSensitive(rec, "candidate");
        for (const cJSON *m = cand->child; !rc && m; m = m->next)
            rc = set(dst, m->string, cJSON_Duplicate(m, 1));
    }
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(in, "prompt");
    if (!rc)
        rc = set(rec, "prompt", prompt ? cJSON_Duplicate(prompt, 1) : cJSON_CreateNull());
    cJSON_Delete(in);
    return rc;
}
