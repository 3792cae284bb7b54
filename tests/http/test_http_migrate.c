/* test_http_migrate.c — a database file of schema 1 (before candidates came in request forms) is
 * upgraded in place by a new kgraded:
 *   - the file is written here with schema 1's own SQL: a finished job, a queued check-mode job;
 *   - the daemon starts on it: the finished job reads back as it was (language, result; baseline_id
 *     null), the queued one runs to ok, and a new submission in a request form works;
 *   - the file is then at schema 2 with jobs.ingest, jobs.baseline_id and the open-jobs index;
 *   - a second start on it changes nothing; a file of a newer schema is refused at start.
 *
 * usage: test_http_migrate KGRADED WORKER SOURCE_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "check.h"
#include "harness.h"

/* Schema 1, as server/store_schema.c's first migration has it. */
static const char schema1[] =
    "CREATE TABLE sources(sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL, body BLOB NOT NULL);"
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
    "INSERT INTO counters VALUES (1, 0);"
    "PRAGMA user_version = 1;";

#define SRC "// @kgrade launch k grid(1) block(1) args(y)\n__global__ void k(float *y) { y[0] = 0; }\n"
#define SPEC "{\"n\":2,\"c_in\":8,\"h\":16,\"w\":16,\"c_out\":8,\"kernel\":[3,3],\"stride\":[1,1]," \
             "\"padding\":[0,0],\"dilation\":[1,1],\"groups\":1,\"bias\":false,\"dtype\":\"float32\"}"
#define OPTS "{\"mode\":\"check\",\"trials\":3,\"exact\":true,\"precision\":\"tf32\",\"timing\":true," \
             "\"timing_budget_ms\":2000,\"baselines\":true,\"metrics\":false,\"seed\":null}"

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    return rc;
}

/* The schema-1 file at path: one finished job (ev_old...01), one queued (ev_old...02). */
static int write_v1(const char *path)
{
    sqlite3 *db = NULL;
    char sql[4096];
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = exec(db, schema1);
    snprintf(sql, sizeof sql,
             "INSERT INTO sources VALUES ('1111111111111111111111111111111111111111111111111111111111111111', %zu, "
             "CAST('%s' AS BLOB));"
             "INSERT INTO jobs(id, problem, spec, source_sha256, language, options, mode, cache_key, priority,"
             " status, attempts, runs, verdict, result, created, started, finished, fin_seq) VALUES"
             " ('ev_old00000000000000001', 'small-3x3', '%s', '1111111111111111111111111111111111111111111111111111111111111111',"
             " 'cuda', '%s', 'check', 'k1', 5, 4, 1, 0, 'ok',"
             " '{\"schema\":\"kgrade.result/1\",\"verdict\":\"ok\",\"written_by\":\"schema 1\"}',"
             " 1790000000, 1790000000.5, 1790000001, 1);"
             "INSERT INTO jobs(id, problem, spec, source_sha256, language, options, mode, cache_key, priority,"
             " status, created) VALUES ('ev_old00000000000000002', 'small-3x3', '%s',"
             " '1111111111111111111111111111111111111111111111111111111111111111', 'cuda', '%s', 'check', 'k2', 5, 0,"
             " 1790000002);"
             "UPDATE counters SET fin_seq = 1;",
             strlen(SRC), SRC, SPEC, OPTS, SPEC, OPTS);
    if (rc == SQLITE_OK)
        rc = exec(db, sql);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* The one number query answers on the file at path (-1 on failure). */
static long long query(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static cJSON *get_json(const struct harness *h, const char *target, long *status)
{
    struct hres r;
    cJSON *j = NULL;
    *status = 0;
    if (harness_get(h, target, &r) == 0) {
        *status = r.status;
        j = cJSON_Parse(r.body);
    }
    hres_free(&r);
    return j;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "null" : v ? "?" : "(absent)";
}

/* Poll the evaluation until it is done (20 s); its object, or NULL. */
static cJSON *wait_done(const struct harness *h, const char *id)
{
    char target[128];
    snprintf(target, sizeof target, "/v1/evaluations/%s", id);
    for (int i = 0; i < 200; i++) {
        long st;
        cJSON *j = get_json(h, target, &st);
        if (j && !strcmp(str_at(j, "status", NULL), "done"))
            return j;
        cJSON_Delete(j);
        harness_sleep(0.1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s KGRADED WORKER SOURCE_DIR\n", argv[0]);
        return 2;
    }
    harness_init();
    struct harness h;
    const char *args[] = {"--cpu-lanes", "1", NULL};
    CHECK(harness_start(&h, argv[1], argv[2], args) == 0);
    harness_stop(&h);
    char db[400], side[420];
    snprintf(db, sizeof db, "%s/kgrade.db", h.data);
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", db, (const char *[]){"", "-wal", "-shm"}[i]);
        unlink(side);
    }
    CHECK(write_v1(db) == 0);
    CHECK_INT(query(db, "PRAGMA user_version"), 1);
    CHECK_INT(query(db, "SELECT count(*) FROM pragma_table_info('jobs') WHERE name = 'ingest'"), 0);

    CHECK(harness_restart(&h) == 0);
    long st;
    cJSON *old = get_json(&h, "/v1/evaluations/ev_old00000000000000001", &st);
    CHECK_INT(st, 200);
    CHECK_STR(str_at(old, "status", NULL), "done");
    CHECK_STR(str_at(old, "language", NULL), "cuda");
    CHECK_STR(str_at(old, "baseline_id", NULL), "null");
    CHECK_STR(str_at(old, "result", "written_by"), "schema 1");
    cJSON_Delete(old);

    cJSON *queued = wait_done(&h, "ev_old00000000000000002");
    CHECK(queued != NULL);
    CHECK_STR(str_at(queued, "verdict", NULL), "ok");
    CHECK_STR(str_at(queued, "baseline_id", NULL), "null");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(queued, "result");
    CHECK_STR(str_at(res, "candidate", "language"), "cuda");     /* the worker's own */
    cJSON_Delete(queued);

    struct hres r;
    const char *body = "{\"problem\": \"small-3x3\", \"candidate\": {\"response\": \"```cuda\\n// @kgrade launch k "
                       "grid(1) block(1) args(y)\\n__global__ void k(float *y) { y[0] = 1; }\\n```\"}, "
                       "\"options\": {\"mode\": \"check\"}}";
    CHECK(harness_post_json(&h, "/v1/evaluations?wait=30", body, &r) == 0);
    CHECK_INT(r.status, 200);
    cJSON *fresh = cJSON_Parse(r.body);
    CHECK_STR(str_at(fresh, "verdict", NULL), "ok");
    CHECK_STR(str_at(cJSON_GetObjectItemCaseSensitive(fresh, "result"), "candidate", "form"), "response");
    cJSON_Delete(fresh);
    hres_free(&r);

    harness_stop(&h);
    CHECK_INT(query(db, "PRAGMA user_version"), 2);
    CHECK_INT(query(db, "SELECT count(*) FROM pragma_table_info('jobs') WHERE name IN ('ingest', 'baseline_id')"), 2);
    CHECK_INT(query(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'jobs_open_key'"), 1);
    CHECK_INT(query(db, "SELECT count(*) FROM jobs WHERE ingest IS NOT NULL"), 1);   /* the new one */
    CHECK_INT(query(db, "SELECT count(*) FROM jobs WHERE id LIKE 'ev_old%' AND ingest IS NULL"
                        " AND baseline_id IS NULL"), 2);
    CHECK_INT(query(db, "SELECT count(*) FROM jobs"), 3);

    /* again: nothing to migrate */
    CHECK(harness_restart(&h) == 0);
    harness_stop(&h);
    CHECK_INT(query(db, "PRAGMA user_version"), 2);
    CHECK_INT(query(db, "SELECT count(*) FROM jobs"), 3);

    /* a newer schema than this build knows: refused at start */
    printf("a start on a file of schema 99 follows: its refusal is expected\n");
    sqlite3 *w = NULL;
    CHECK(sqlite3_open(db, &w) == SQLITE_OK && exec(w, "PRAGMA user_version = 99") == SQLITE_OK);
    sqlite3_close(w);
    CHECK(harness_restart(&h) != 0);
    char *log = harness_read_file(h.log, NULL);
    CHECK(log && strstr(log, "schema version 99"));
    free(log);
    int failed = check_failed;
    harness_cleanup(&h, failed != 0);
    return check_summary("test_http_migrate");
}
