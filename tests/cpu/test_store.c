/* test_store — the store against real SQLite files in a fresh temporary directory (removed at the
 * end): schema and reopening, the evaluation object, sources stored once, the cache, claiming,
 * compare-and-set finishing, cancelling, recovery, batches, listing, events and their pruning,
 * waiting for changes, concurrent claims; and isotime. A second sqlite3 handle looks at the rows. */
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "isotime.h"
#include "store.h"

static char tmpdir[64];
static char dbpath[128];

static const char SOURCE[] = "extern \"C\" __global__ void conv(const float *x, float *y) {}";
static const char SHA[] = "5a2f0c1e9b8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29";

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A fresh database file (name) opened with the given bounds. */
static struct store *open_db(const char *name, long max_queue, long events_keep, int max_attempts)
{
    snprintf(dbpath, sizeof dbpath, "%s/%s", tmpdir, name);
    struct store_opts o = {.path = dbpath, .sync_full = 0, .max_attempts = max_attempts,
                           .max_queue = max_queue, .events_keep = events_keep};
    struct store *s = NULL;
    struct err e;
    int rc = store_open(&o, &s, &e);
    if (rc)
        fprintf(stderr, "store_open: %s\n", e.msg);
    CHECK_INT(rc, 0);
    return s;
}

/* A job request; key and problem vary, the source is always the same. */
static struct store_newjob job(const char *key, const char *problem, int priority)
{
    struct store_newjob j = {.problem = problem, .spec_json = "{\"n\":8,\"c_in\":64}",
                             .source = SOURCE, .source_len = sizeof SOURCE - 1, .source_sha256 = SHA,
                             .language = "cuda", .options_json = "{\"mode\":\"full\",\"trials\":3}",
                             .mode = "full", .cache_key = key, .priority = priority};
    return j;
}

static void insert(struct store *s, const char *key, int priority, char id[32])
{
    struct store_newjob j = job(key, "kb1-55", priority);
    int cached = -1;
    CHECK_INT(store_job_insert(s, &j, id, &cached, NULL), 0);
    CHECK_INT(cached, 0);
}

/* One number from the current database file through a second connection. */
static long long query(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static int isnull(const cJSON *o, const char *k)
{
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

static cJSON *get(struct store *s, const char *id, int with_result)
{
    cJSON *o = NULL;
    CHECK_INT(store_job_get(s, id, with_result, &o, NULL), 0);
    return o;
}

static enum store_status status_of(struct store *s, const char *id)
{
    enum store_status st = STORE_NSTATUS;
    CHECK_INT(store_job_status(s, id, &st, NULL), 0);
    return st;
}

/* Claim from -> to and check that it is want (NULL: nothing to claim). */
static void claim(struct store *s, enum store_status from, enum store_status to, int gpu,
                  const char *want)
{
    struct store_claim c;
    int rc = store_claim(s, from, to, gpu, &c, NULL);
    CHECK_INT(rc, want != NULL);
    if (want && rc == 1)
        CHECK_STR(c.id, want);
    store_claim_free(&c);
}

/* ---- isotime --------------------------------------------------------------------------------- */

static void test_isotime(void)
{
    char buf[32];
    isotime_format(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    isotime_format(1795255200.123, buf);
    CHECK_STR(buf, "2026-11-21T10:00:00.123Z");
    isotime_format(1709164799.9996, buf);          /* rounds up across midnight into Feb 29 */
    CHECK_STR(buf, "2024-02-29T00:00:00.000Z");
    isotime_format(-1, buf);
    CHECK_STR(buf, "1969-12-31T23:59:59.000Z");

    static const struct { const char *in; double want; } good[] = {
        {"2026-11-21T10:00:00Z", 1795255200},
        {"2026-11-21t10:00:00z", 1795255200},
        {"2026-11-21 10:00:00Z", 1795255200},
        {"2026-11-21T10:00:00.5Z", 1795255200.5},
        {"2026-11-21T10:00:00.123456789Z", 1795255200.123456789},
        {"2026-11-21T12:30:00+02:30", 1795255200},
        {"2026-11-21T07:00:00-03:00", 1795255200},
        {"2026-11-21", 1795219200},
        {"2024-02-29", 1709164800},
        {"2000-01-01T00:00:00Z", 946684800},
        {"2016-12-31T23:59:60Z", 1483228800},   /* a leap second lands on the next second */
        {"1795255200", 1795255200},
        {"1795255200.25", 1795255200.25},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v = -1;
        CHECK_INT(isotime_parse(good[i].in, &v), 0);
        CHECK_NEAR(v, good[i].want, 1e-6);
    }
    static const char *const bad[] = {
        "", "abc", "2026-13-01", "2026-00-10", "2026-11-31", "2023-02-29", "1900-02-29",
        "2026-11-21T24:00:00Z", "2026-11-21T10:60:00Z", "2026-11-21T10:00:61Z",
        "2026-11-21T10:00:00", "2026-11-21T10:00Z", "2026-11-21T10:00:00+0200",
        "2026-11-21T10:00:00+24:00", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00Zjunk",
        "2026-11-21X", "26-11-21", "12abc", "-5", "1e9", " 12", "0x10", "inf", "nan", ".",
        "2026-1-21",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        int rc = isotime_parse(bad[i], &v);
        if (rc != ERR_INVALID)
            fprintf(stderr, "isotime_parse accepted \"%s\"\n", bad[i]);
        CHECK_INT(rc, ERR_INVALID);
        CHECK_NEAR(v, 42, 0);
    }
    CHECK_INT(isotime_parse(NULL, &(double){0}), ERR_INVALID);
    /* round trips at millisecond precision */
    const double ts[] = {0, 0.001, 946684800.999, 1709164800.5, 1795255200.123, 4102444800.777};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        double v = -1;
        isotime_format(ts[i], buf);
        CHECK_INT(isotime_parse(buf, &v), 0);
        CHECK_NEAR(v, ts[i], 1e-6);
    }
}

/* ---- schema, the evaluation object, sources, the cache ---------------------------------------- */

static void test_open_reopen(void)
{
    struct store *s = open_db("reopen.db", 100, 1000, 3);
    CHECK_INT(store_schema_version(s), 2);
    CHECK_INT(query("PRAGMA user_version"), 2);
    CHECK(store_sqlite_version() != NULL);
    char id[32];
    insert(s, "k1", 5, id);
    store_close(s);
    store_close(NULL);

    s = open_db("reopen.db", 100, 1000, 3);
    CHECK_INT(store_schema_version(s), 2);
    CHECK_INT(status_of(s, id), STORE_QUEUED);
    CHECK_INT(query("SELECT count(*) FROM jobs"), 1);
    store_close(s);

    /* a bad option and a file that cannot be created */
    struct store_opts o = {.path = dbpath, .max_attempts = 0, .max_queue = 1, .events_keep = 1};
    struct err e;
    CHECK_INT(store_open(&o, &s, &e), ERR_INVALID);
    CHECK_STR(e.field, "max_attempts");
    o.max_attempts = 1;
    o.path = "/nonexistent-dir/x.db";
    CHECK_INT(store_open(&o, &s, &e), ERR_IO);
    CHECK(s == NULL);

    CHECK_STR(store_status_name(STORE_WAITING_GPU), "waiting_gpu");
    CHECK_INT(store_status_parse("cancelled"), STORE_CANCELLED);
    CHECK_INT(store_status_parse("bogus"), -1);
}

static void test_insert_get(void)
{
    struct store *s = open_db("get.db", 100, 1000, 3);
    char a[32], b[32];
    insert(s, "ka", 5, a);
    insert(s, "kb", 5, b);
    CHECK(strncmp(a, "ev_", 3) == 0 && strlen(a) == 23 && strspn(a + 3, "0123456789abcdef") == 20);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(query("SELECT count(*) FROM sources"), 1);   /* one source for two jobs */
    CHECK_INT(query("SELECT bytes FROM sources"), (long long)(sizeof SOURCE - 1));

    cJSON *o = get(s, a, 1);
    static const char *const keys[] = {
        "id", "status", "verdict", "problem", "spec", "mode", "language", "source_sha256",
        "source_bytes", "options", "priority", "batch", "batch_index", "attempts", "gpu", "cached",
        "cached_from", "created", "started", "finished", "queue_ms", "run_ms", "baseline_id",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!cJSON_HasObjectItem(o, keys[i]))
            fprintf(stderr, "the evaluation object lacks \"%s\"\n", keys[i]);
        CHECK(cJSON_HasObjectItem(o, keys[i]));
    }
    CHECK_INT(cJSON_GetArraySize(o), (int)(sizeof keys / sizeof keys[0]));   /* no result yet */
    CHECK_STR(str(o, "id"), a);
    CHECK_STR(str(o, "status"), "queued");
    CHECK(isnull(o, "verdict") && isnull(o, "batch") && isnull(o, "batch_index") && isnull(o, "gpu"));
    CHECK(isnull(o, "started") && isnull(o, "finished") && isnull(o, "queue_ms") && isnull(o, "run_ms"));
    CHECK(isnull(o, "cached_from") && cJSON_IsFalse(cJSON_GetObjectItem(o, "cached")));
    CHECK_STR(str(o, "problem"), "kb1-55");
    CHECK_NEAR(num(cJSON_GetObjectItem(o, "spec"), "c_in"), 64, 0);
    CHECK_NEAR(num(cJSON_GetObjectItem(o, "options"), "trials"), 3, 0);
    CHECK_STR(str(o, "mode"), "full");
    CHECK_STR(str(o, "language"), "cuda");
    CHECK_STR(str(o, "source_sha256"), SHA);
    CHECK_NEAR(num(o, "source_bytes"), sizeof SOURCE - 1, 0);
    CHECK_NEAR(num(o, "priority"), 5, 0);
    CHECK_NEAR(num(o, "attempts"), 0, 0);
    double created = -1;
    CHECK_INT(isotime_parse(str(o, "created"), &created), 0);
    CHECK(fabs(created - (double)time(NULL)) < 5);
    cJSON_Delete(o);

    struct err e;
    CHECK_INT(store_job_get(s, "ev_00000000000000000000", 0, &o, &e), ERR_NOTFOUND);
    CHECK_STR(e.field, "id");
    CHECK(o == NULL);
    enum store_status st;
    CHECK_INT(store_job_status(s, "nope", &st, NULL), ERR_NOTFOUND);
    struct store_newjob bad = job("kc", "kb1-55", 5);
    bad.spec_json = NULL;
    CHECK_INT(store_job_insert(s, &bad, a, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "spec");
    store_close(s);
}

static void test_cache(void)
{
    struct store *s = open_db("cache.db", 100, 1000, 3);
    char a[32], b[32], c[32], d[32], f[32];
    insert(s, "same", 5, a);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, a);
    CHECK_INT(store_finish(s, a, STORE_COMPILING, "ok", "{\"verdict\":\"ok\",\"x\":1}", NULL), 1);

    struct store_newjob j = job("same", "kb1-55", 5);
    int cached = 0;
    CHECK_INT(store_job_insert(s, &j, b, &cached, NULL), 0);
    CHECK_INT(cached, 1);
    cJSON *o = get(s, b, 1);
    CHECK_STR(str(o, "status"), "done");
    CHECK_STR(str(o, "verdict"), "ok");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "cached")));
    CHECK_STR(str(o, "cached_from"), a);
    CHECK_NEAR(num(o, "run_ms"), 0, 0);
    char *text = cJSON_PrintUnformatted(o);
    cJSON *back = cJSON_Parse(text);   /* the raw result prints as JSON */
    CHECK_NEAR(num(cJSON_GetObjectItem(back, "result"), "x"), 1, 0);
    free(text);
    cJSON_Delete(back);
    cJSON_Delete(o);

    /* a second hit names the original run, not the cached copy */
    CHECK_INT(store_job_insert(s, &j, c, &cached, NULL), 0);
    CHECK_INT(cached, 1);
    o = get(s, c, 0);
    CHECK_STR(str(o, "cached_from"), a);
    CHECK(!cJSON_HasObjectItem(o, "result"));
    cJSON_Delete(o);

    j.force = 1;
    CHECK_INT(store_job_insert(s, &j, d, &cached, NULL), 0);
    CHECK_INT(cached, 0);
    CHECK_INT(status_of(s, d), STORE_QUEUED);

    /* internal_error and no_device never answer */
    insert(s, "flaky", 5, f);
    CHECK_INT(store_cancel(s, d, NULL, NULL), 1);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, f);
    CHECK_INT(store_finish(s, f, STORE_COMPILING, "internal_error", "{}", NULL), 1);
    insert(s, "flaky", 5, f);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, f);
    CHECK_INT(store_finish(s, f, STORE_COMPILING, "no_device", "{}", NULL), 1);
    insert(s, "flaky", 5, f);   /* checks cached == 0 */
    store_close(s);
}

/* ---- claiming, finishing, cancelling, recovery ------------------------------------------------ */

static void test_claim_order(void)
{
    struct store *s = open_db("order.db", 100, 1000, 3);
    char p0[32], p5a[32], p5b[32], p1[32];
    insert(s, "a", 0, p0);
    insert(s, "b", 5, p5a);
    insert(s, "c", 5, p5b);
    insert(s, "d", 1, p1);
    struct store_claim c;
    CHECK_INT(store_claim(s, STORE_QUEUED, STORE_COMPILING, -1, &c, NULL), 1);
    CHECK_STR(c.id, p5a);
    CHECK_STR(c.batch_id, "");
    CHECK_INT(c.attempts, 1);
    CHECK_INT(c.source_len, sizeof SOURCE - 1);
    CHECK_STR(c.source, SOURCE);
    CHECK_STR(c.spec_json, "{\"n\":8,\"c_in\":64}");
    CHECK_STR(c.options_json, "{\"mode\":\"full\",\"trials\":3}");
    CHECK_STR(c.mode, "full");
    CHECK(fabs(c.created - (double)time(NULL)) < 5);
    store_claim_free(&c);
    store_claim_free(&c);   /* twice is harmless */
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, p5b);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, p1);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, p0);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, NULL);
    claim(s, STORE_WAITING_GPU, STORE_RUNNING, 0, NULL);
    CHECK_INT(store_claim(s, STORE_QUEUED, STORE_DONE, -1, &c, NULL), ERR_INVALID);
    store_close(s);
}

static void test_lifecycle(void)
{
    struct store *s = open_db("life.db", 100, 1000, 3);
    char x[32];
    insert(s, "x", 5, x);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, x);
    CHECK_INT(store_advance(s, x, STORE_COMPILING, STORE_WAITING_GPU, NULL), 1);
    CHECK_INT(store_advance(s, x, STORE_COMPILING, STORE_WAITING_GPU, NULL), 0);
    CHECK_INT(store_advance(s, "unknown", STORE_COMPILING, STORE_WAITING_GPU, NULL), 0);
    CHECK_INT(store_advance(s, x, STORE_WAITING_GPU, STORE_DONE, NULL), ERR_INVALID);
    CHECK_INT(status_of(s, x), STORE_WAITING_GPU);
    struct store_claim c;
    CHECK_INT(store_claim(s, STORE_WAITING_GPU, STORE_RUNNING, 2, &c, NULL), 1);
    CHECK_INT(c.attempts, 1);   /* compiling and running are one run */
    store_claim_free(&c);
    cJSON *o = get(s, x, 0);
    CHECK_STR(str(o, "status"), "running");
    CHECK_NEAR(num(o, "gpu"), 2, 0);
    CHECK(str(o, "started") != NULL && num(o, "queue_ms") >= 0 && isnull(o, "run_ms"));
    cJSON_Delete(o);

    CHECK_INT(store_finish(s, x, STORE_COMPILING, "ok", "{}", NULL), 0);   /* wrong from */
    CHECK_INT(store_finish(s, x, STORE_RUNNING, "ok", "{\"verdict\":\"ok\"}", NULL), 1);
    CHECK_INT(store_finish(s, x, STORE_RUNNING, "wrong_answer", "{}", NULL), 0);
    CHECK_INT(store_finish(s, x, STORE_DONE, "ok", "{}", NULL), ERR_INVALID);
    CHECK_INT(store_finish(s, x, STORE_RUNNING, NULL, "{}", NULL), ERR_INVALID);
    o = get(s, x, 1);
    CHECK_STR(str(o, "status"), "done");
    CHECK_STR(str(o, "verdict"), "ok");
    CHECK_NEAR(num(o, "attempts"), 1, 0);
    CHECK(str(o, "finished") != NULL && num(o, "run_ms") >= 0);
    CHECK(cJSON_IsRaw(cJSON_GetObjectItem(o, "result")));
    cJSON_Delete(o);
    CHECK_INT(query("SELECT fin_seq FROM jobs"), 1);
    store_close(s);
}

static void test_cancel(void)
{
    struct store *s = open_db("cancel.db", 100, 1000, 3);
    char q[32], r[32], d[32];
    insert(s, "r", 9, r);
    insert(s, "q", 5, q);
    insert(s, "d", 1, d);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, r);
    CHECK_INT(store_advance(s, r, STORE_COMPILING, STORE_WAITING_GPU, NULL), 1);
    claim(s, STORE_WAITING_GPU, STORE_RUNNING, 0, r);
    enum store_status prev = STORE_NSTATUS;
    CHECK_INT(store_cancel(s, q, &prev, NULL), 1);
    CHECK_INT(prev, STORE_QUEUED);
    CHECK_INT(store_cancel(s, r, &prev, NULL), 1);
    CHECK_INT(prev, STORE_RUNNING);
    CHECK_INT(store_finish(s, r, STORE_RUNNING, "ok", "{}", NULL), 0);   /* the late result is dropped */
    CHECK_INT(status_of(s, r), STORE_CANCELLED);
    cJSON *o = get(s, r, 1);
    CHECK(isnull(o, "verdict") && str(o, "finished") != NULL);
    CHECK(!cJSON_HasObjectItem(o, "result"));
    cJSON_Delete(o);
    CHECK_INT(store_cancel(s, r, &prev, NULL), 0);
    CHECK_INT(prev, STORE_CANCELLED);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, d);
    CHECK_INT(store_finish(s, d, STORE_COMPILING, "compile_error", "{}", NULL), 1);
    CHECK_INT(store_cancel(s, d, &prev, NULL), 0);
    CHECK_INT(prev, STORE_DONE);
    struct err e;
    CHECK_INT(store_cancel(s, "ev_ffffffffffffffffffff", &prev, &e), ERR_NOTFOUND);
    CHECK_STR(e.field, "id");
    CHECK_INT(query("SELECT count(DISTINCT fin_seq) FROM jobs WHERE fin_seq IS NOT NULL"), 3);
    store_close(s);
}

static void test_recover(void)
{
    struct store *s = open_db("recover.db", 100, 1000, 3);
    char a[32], b[32], c[32];
    insert(s, "a", 5, a);
    insert(s, "b", 5, b);
    insert(s, "c", 5, c);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, a);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, b);
    CHECK_INT(store_advance(s, b, STORE_COMPILING, STORE_WAITING_GPU, NULL), 1);
    claim(s, STORE_WAITING_GPU, STORE_RUNNING, 0, b);
    store_close(s);   /* the daemon stops with a compiling and b running */

    s = open_db("recover.db", 100, 1000, 3);
    int requeued = -1, failed = -1;
    CHECK_INT(store_recover(s, &requeued, &failed, NULL), 0);
    CHECK_INT(requeued, 2);
    CHECK_INT(failed, 0);
    CHECK_INT(status_of(s, a), STORE_QUEUED);
    CHECK_INT(status_of(s, b), STORE_WAITING_GPU);
    CHECK_INT(status_of(s, c), STORE_QUEUED);
    struct store_claim cl;
    CHECK_INT(store_claim(s, STORE_WAITING_GPU, STORE_RUNNING, 1, &cl, NULL), 1);
    CHECK_INT(cl.attempts, 2);   /* the run cut short counts */
    store_claim_free(&cl);
    CHECK_INT(store_recover(s, &requeued, &failed, NULL), 0);
    CHECK_INT(requeued, 1);
    claim(s, STORE_WAITING_GPU, STORE_RUNNING, 1, b);   /* attempt 3 */
    CHECK_INT(store_recover(s, &requeued, &failed, NULL), 0);
    CHECK_INT(requeued, 0);
    CHECK_INT(failed, 1);
    cJSON *o = get(s, b, 1);
    CHECK_STR(str(o, "status"), "done");
    CHECK_STR(str(o, "verdict"), "internal_error");
    char *text = cJSON_PrintUnformatted(o);
    cJSON *back = cJSON_Parse(text);
    cJSON *res = cJSON_GetObjectItem(back, "result");
    CHECK_STR(str(res, "schema"), "kgrade.result/1");
    CHECK_STR(str(res, "verdict"), "internal_error");
    CHECK_STR(str(cJSON_GetObjectItem(res, "error"), "stage"), "worker");
    CHECK(strstr(text, "did not finish after 3 attempts") != NULL);
    free(text);
    cJSON_Delete(back);
    cJSON_Delete(o);
    CHECK_INT(store_recover(s, NULL, NULL, NULL), 0);   /* nothing left to recover */
    store_close(s);
}

/* ---- batches ----------------------------------------------------------------------------------- */

static void batch_of(struct store *s, const char *const *keys, size_t n, const char *label,
                     char batch[32], size_t *cached, int want)
{
    struct store_newjob jobs[8];
    for (size_t i = 0; i < n; i++)
        jobs[i] = job(keys[i], "kb1-55", 1);
    struct err e;
    int rc = store_batch_insert(s, jobs, n, label, batch, cached, &e);
    CHECK_INT(rc, want);
    if (want == ERR_LIMIT)
        CHECK_STR(e.field, "queue");
}

/* The id of the job at index k of batch. */
static void job_at(struct store *s, const char *batch, int k, char id[32])
{
    struct store_filter f = {.batch = batch, .limit = 100};
    cJSON *items = NULL;
    int64_t next = -1;
    id[0] = '\0';
    CHECK_INT(store_job_list(s, &f, &items, &next, NULL), 0);
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
        if ((int)num(it, "batch_index") == k)
            snprintf(id, 32, "%s", str(it, "id"));
    cJSON_Delete(items);
    CHECK(id[0] != '\0');
}

static void test_batch_limit(void)
{
    struct store *s = open_db("limit.db", 5, 1000, 3);
    static const char *const k3[] = {"k1", "k2", "k3"};
    char bt[32], bt2[32], id[32];
    size_t cached = 99;
    batch_of(s, k3, 3, "first", bt, &cached, 0);
    CHECK_INT(cached, 0);
    CHECK(strncmp(bt, "bt_", 3) == 0 && strlen(bt) == 23);
    batch_of(s, k3, 3, "too many", bt2, &cached, ERR_LIMIT);   /* 3 + 3 > 5: nothing inserted */
    CHECK_STR(bt2, "");
    CHECK_INT(query("SELECT count(*) FROM jobs"), 3);
    CHECK_INT(query("SELECT count(*) FROM batches"), 1);

    job_at(s, bt, 0, id);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, id);
    CHECK_INT(store_finish(s, id, STORE_COMPILING, "ok", "{}", NULL), 1);   /* k1 done: 2 unfinished */
    static const char *const k4[] = {"k1", "k1", "n1", "n2"};   /* two answered by the cache */
    batch_of(s, k4, 4, NULL, bt2, &cached, 0);
    CHECK_INT(cached, 2);
    CHECK_INT(query("SELECT count(*) FROM jobs WHERE status < 4"), 4);
    insert(s, "n3", 5, id);                                    /* 5 of 5 */
    struct store_newjob j = job("n4", "kb1-55", 5);
    struct err e;
    CHECK_INT(store_job_insert(s, &j, id, NULL, &e), ERR_LIMIT);
    CHECK_STR(e.field, "queue");
    CHECK_STR(id, "");
    j.cache_key = "k1";                                        /* a cache hit is not queued */
    int hit = 0;
    CHECK_INT(store_job_insert(s, &j, id, &hit, NULL), 0);
    CHECK_INT(hit, 1);
    CHECK_INT(store_batch_insert(s, &j, 0, NULL, bt2, NULL, &e), ERR_INVALID);
    store_close(s);

    s = open_db("limit.db", 5, 1000, 3);   /* counted again at open: still full */
    j.cache_key = "n4";
    CHECK_INT(store_job_insert(s, &j, id, NULL, &e), ERR_LIMIT);
    job_at(s, bt, 1, id);
    CHECK_INT(store_cancel(s, id, NULL, NULL), 1);   /* a cancel makes room for one */
    CHECK_INT(store_job_insert(s, &j, id, NULL, &e), 0);
    CHECK_INT(store_job_insert(s, &j, id, NULL, &e), ERR_LIMIT);
    store_close(s);
}

static void test_batch_get_results(void)
{
    struct store *s = open_db("batch.db", 100, 1000, 3);
    char bt[32], id[4][32];
    static const char *const keys[] = {"b0", "b1", "b2", "b3"};
    batch_of(s, keys, 4, "run-7", bt, NULL, 0);
    for (int k = 0; k < 4; k++)
        job_at(s, bt, k, id[k]);

    cJSON *o = NULL;
    CHECK_INT(store_batch_get(s, bt, &o, NULL), 0);
    CHECK_STR(str(o, "id"), bt);
    CHECK_STR(str(o, "label"), "run-7");
    CHECK(str(o, "created") != NULL);
    CHECK_NEAR(num(o, "total"), 4, 0);
    const cJSON *counts = cJSON_GetObjectItem(o, "counts");
    CHECK_INT(cJSON_GetArraySize(counts), 6);
    CHECK_NEAR(num(counts, "queued"), 4, 0);
    CHECK_NEAR(num(counts, "cancelled"), 0, 0);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(o, "verdicts")), 0);
    CHECK_NEAR(num(o, "progress"), 0, 0);
    CHECK(isnull(o, "eta_s") && isnull(o, "finished_at"));
    cJSON_Delete(o);

    /* finish in the order 2, 0, 3 (cancelled), 1 */
    for (int k = 0; k < 4; k++)
        claim(s, STORE_QUEUED, STORE_COMPILING, -1, id[k]);
    CHECK_INT(store_finish(s, id[2], STORE_COMPILING, "ok", "{\"r\":2}", NULL), 1);
    CHECK_INT(store_finish(s, id[0], STORE_COMPILING, "wrong_answer", "{\"r\":0}", NULL), 1);
    CHECK_INT(store_cancel(s, id[3], NULL, NULL), 1);
    CHECK_INT(store_batch_get(s, bt, &o, NULL), 0);
    counts = cJSON_GetObjectItem(o, "counts");
    CHECK_NEAR(num(counts, "done"), 2, 0);
    CHECK_NEAR(num(counts, "cancelled"), 1, 0);
    CHECK_NEAR(num(counts, "compiling"), 1, 0);
    CHECK_NEAR(num(cJSON_GetObjectItem(o, "verdicts"), "ok"), 1, 0);
    CHECK_NEAR(num(cJSON_GetObjectItem(o, "verdicts"), "wrong_answer"), 1, 0);
    CHECK_NEAR(num(o, "finished"), 3, 0);
    CHECK_NEAR(num(o, "progress"), 0.75, 1e-12);
    CHECK_NEAR(num(o, "cached"), 0, 0);
    CHECK(num(o, "eta_s") >= 0 && isnull(o, "finished_at"));
    cJSON_Delete(o);

    cJSON *rows = NULL;
    int64_t last = -1;
    long total = 0, finished = 0;
    CHECK_INT(store_batch_results(s, bt, 0, 2, &rows, &last, &total, &finished, NULL), 0);
    CHECK_INT(total, 4);
    CHECK_INT(finished, 3);
    CHECK_INT(cJSON_GetArraySize(rows), 2);
    CHECK_NEAR(num(cJSON_GetArrayItem(rows, 0), "index"), 2, 0);
    CHECK_NEAR(num(cJSON_GetArrayItem(rows, 1), "index"), 0, 0);
    CHECK_STR(str(cJSON_GetArrayItem(rows, 1), "verdict"), "wrong_answer");
    CHECK(cJSON_IsRaw(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "result")));
    cJSON_Delete(rows);

    CHECK_INT(store_finish(s, id[1], STORE_COMPILING, "ok", "{\"r\":1}", NULL), 1);
    int64_t after = last;
    CHECK_INT(store_batch_results(s, bt, after, 2, &rows, &last, &total, &finished, NULL), 0);
    CHECK_INT(finished, 4);
    CHECK_INT(cJSON_GetArraySize(rows), 2);
    const cJSON *r3 = cJSON_GetArrayItem(rows, 0), *r1 = cJSON_GetArrayItem(rows, 1);
    CHECK_NEAR(num(r3, "index"), 3, 0);
    CHECK_STR(str(r3, "status"), "cancelled");
    CHECK(isnull(r3, "verdict") && isnull(r3, "result"));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r3, "cached")));
    CHECK_NEAR(num(r1, "index"), 1, 0);
    CHECK_STR(str(r1, "id"), id[1]);
    CHECK_INT(cJSON_GetArraySize(r1), 6);
    cJSON_Delete(rows);
    after = last;
    CHECK_INT(store_batch_results(s, bt, after, 2, &rows, &last, &total, &finished, NULL), 0);
    CHECK_INT(cJSON_GetArraySize(rows), 0);
    CHECK_INT(last, after);
    cJSON_Delete(rows);

    CHECK_INT(store_batch_get(s, bt, &o, NULL), 0);
    CHECK_NEAR(num(o, "progress"), 1, 0);
    CHECK(isnull(o, "eta_s") && str(o, "finished_at") != NULL);
    cJSON_Delete(o);

    /* a batch answered wholly from the cache is finished at once */
    static const char *const again[] = {"b2", "b1"};
    char bt2[32];
    size_t cached = 0;
    batch_of(s, again, 2, NULL, bt2, &cached, 0);
    CHECK_INT(cached, 2);
    CHECK_INT(store_batch_get(s, bt2, &o, NULL), 0);
    CHECK(isnull(o, "label"));
    CHECK_NEAR(num(o, "cached"), 2, 0);
    CHECK_NEAR(num(o, "progress"), 1, 0);
    cJSON_Delete(o);

    struct err e;
    CHECK_INT(store_batch_get(s, "bt_nope", &o, &e), ERR_NOTFOUND);
    CHECK_STR(e.field, "id");
    CHECK_INT(store_batch_results(s, "bt_nope", 0, 2, &rows, &last, &total, &finished, &e),
              ERR_NOTFOUND);
    long n = -1;
    CHECK_INT(store_cancel_batch(s, "bt_nope", &n, &e), ERR_NOTFOUND);
    CHECK_INT(store_cancel_batch(s, bt, &n, NULL), 0);   /* all finished: nothing to cancel */
    CHECK_INT(n, 0);

    long all[STORE_NSTATUS];
    CHECK_INT(store_counts(s, all, NULL), 0);
    CHECK_INT(all[STORE_DONE], 5);
    CHECK_INT(all[STORE_CANCELLED], 1);
    CHECK_INT(all[STORE_QUEUED], 0);
    cJSON *v = NULL;
    CHECK_INT(store_verdict_counts(s, &v, NULL), 0);
    CHECK_NEAR(num(v, "ok"), 4, 0);
    CHECK_NEAR(num(v, "wrong_answer"), 1, 0);
    CHECK_INT(cJSON_GetArraySize(v), 2);
    cJSON_Delete(v);
    store_close(s);
}

/* ---- listing ----------------------------------------------------------------------------------- */

/* List with f, checking the ids against want (newest first) and returning the next cursor. */
static int64_t page(struct store *s, struct store_filter *f, char *const *want, int nwant)
{
    cJSON *items = NULL;
    int64_t next = -1;
    CHECK_INT(store_job_list(s, f, &items, &next, NULL), 0);
    CHECK_INT(cJSON_GetArraySize(items), nwant);
    for (int i = 0; i < nwant && i < cJSON_GetArraySize(items); i++) {
        const cJSON *it = cJSON_GetArrayItem(items, i);
        CHECK_STR(str(it, "id"), want[i]);
        CHECK(!cJSON_HasObjectItem(it, "result"));
    }
    cJSON_Delete(items);
    return next;
}

static void test_list(void)
{
    struct store *s = open_db("list.db", 100, 1000, 3);
    char id[7][32];
    for (int i = 0; i < 7; i++) {
        char key[16];
        snprintf(key, sizeof key, "L%d", i);
        struct store_newjob j = job(key, i < 5 ? "conv_a" : "conv_b", 5);
        CHECK_INT(store_job_insert(s, &j, id[i], NULL, NULL), 0);
    }
    /* conv_a, 2 per page: [4 3] [2 1] [0] */
    struct store_filter f = {.problem = "conv_a", .limit = 2};
    char *p1[] = {id[4], id[3]}, *p2[] = {id[2], id[1]}, *p3[] = {id[0]};
    f.cursor = page(s, &f, p1, 2);
    CHECK(f.cursor > 0);
    f.cursor = page(s, &f, p2, 2);
    CHECK(f.cursor > 0);
    CHECK_INT(page(s, &f, p3, 1), 0);

    /* an exact fit ends without a next page */
    struct store_filter fb = {.problem = "conv_b", .limit = 2};
    char *pb[] = {id[6], id[5]};
    CHECK_INT(page(s, &fb, pb, 2), 0);

    claim(s, STORE_QUEUED, STORE_COMPILING, -1, id[0]);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, id[1]);
    CHECK_INT(store_finish(s, id[0], STORE_COMPILING, "ok", "{}", NULL), 1);
    CHECK_INT(store_finish(s, id[1], STORE_COMPILING, "timeout", "{}", NULL), 1);
    struct store_filter fs = {.status = "done", .limit = 10};
    char *pd[] = {id[1], id[0]};
    CHECK_INT(page(s, &fs, pd, 2), 0);
    struct store_filter fv = {.verdict = "timeout", .limit = 10};
    char *pv[] = {id[1]};
    CHECK_INT(page(s, &fv, pv, 1), 0);
    struct store_filter fq = {.status = "queued", .problem = "conv_b", .limit = 10};
    CHECK_INT(page(s, &fq, pb, 2), 0);
    struct store_filter ff = {.since = (double)time(NULL) + 3600, .limit = 10};
    CHECK_INT(page(s, &ff, NULL, 0), 0);
    ff.since = (double)time(NULL) - 3600;
    ff.limit = 7;
    char *all[] = {id[6], id[5], id[4], id[3], id[2], id[1], id[0]};
    CHECK_INT(page(s, &ff, all, 7), 0);
    struct store_filter fn = {.batch = "bt_none", .limit = 10};
    CHECK_INT(page(s, &fn, NULL, 0), 0);

    cJSON *items = NULL;
    int64_t next;
    struct err e;
    struct store_filter bad = {.status = "sleeping", .limit = 10};
    CHECK_INT(store_job_list(s, &bad, &items, &next, &e), ERR_INVALID);
    CHECK_STR(e.field, "status");
    struct store_filter bad2 = {.limit = 0};
    CHECK_INT(store_job_list(s, &bad2, &items, &next, &e), ERR_INVALID);
    CHECK_STR(e.field, "limit");
    CHECK(items == NULL);
    store_close(s);
}

/* ---- events ------------------------------------------------------------------------------------ */

/* The events after `after` (of job or batch) as "type:status" words joined by spaces. */
static void events_str(struct store *s, int64_t after, const char *jobid, const char *batch,
                       char *out, size_t size)
{
    cJSON *ev = NULL;
    out[0] = '\0';
    CHECK_INT(store_events(s, after, jobid, batch, 100, &ev, NULL), 0);
    const cJSON *it;
    size_t k = 0;
    cJSON_ArrayForEach(it, ev) {
        k += (size_t)snprintf(out + k, size - k, "%s%s:%s", k ? " " : "", str(it, "type"),
                              str(it, "status"));
        if (k >= size)
            break;
    }
    cJSON_Delete(ev);
}

static void test_events(void)
{
    struct store *s = open_db("events.db", 100, 1000, 3);
    char j[32], text[512];
    insert(s, "ev", 5, j);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, j);
    CHECK_INT(store_finish(s, j, STORE_COMPILING, "ok", "{}", NULL), 1);
    events_str(s, 0, j, NULL, text, sizeof text);
    CHECK_STR(text, "job:queued job:compiling job:done");

    cJSON *ev = NULL;
    CHECK_INT(store_events(s, 0, j, NULL, 100, &ev, NULL), 0);
    const cJSON *last = cJSON_GetArrayItem(ev, 2);
    CHECK_STR(str(last, "verdict"), "ok");
    CHECK_STR(str(last, "job"), j);
    CHECK(isnull(last, "batch") && str(last, "ts") != NULL);
    CHECK_INT(cJSON_GetArraySize(last), 7);
    CHECK_NEAR(num(last, "id"), (double)store_last_event_id(s), 0);
    int64_t first = (int64_t)num(cJSON_GetArrayItem(ev, 0), "id");
    cJSON_Delete(ev);
    events_str(s, first, NULL, NULL, text, sizeof text);
    CHECK_STR(text, "job:compiling job:done");

    /* a batch: one event for its submission; its last job adds "batch done" */
    char bt[32], b0[32], b1[32];
    static const char *const keys[] = {"e0", "e1"};
    int64_t mark = store_last_event_id(s);
    batch_of(s, keys, 2, NULL, bt, NULL, 0);
    events_str(s, mark, NULL, NULL, text, sizeof text);
    CHECK_STR(text, "batch:queued");
    job_at(s, bt, 0, b0);
    job_at(s, bt, 1, b1);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, b0);
    CHECK_INT(store_finish(s, b0, STORE_COMPILING, "ok", "{}", NULL), 1);
    CHECK_INT(store_cancel(s, b1, NULL, NULL), 1);
    events_str(s, 0, NULL, bt, text, sizeof text);
    CHECK_STR(text, "batch:queued job:compiling job:done job:cancelled batch:done");
    events_str(s, 0, b1, NULL, text, sizeof text);
    CHECK_STR(text, "job:cancelled");

    /* cancelling a batch: the jobs' events, the batch's, then its end */
    static const char *const three[] = {"c0", "c1", "c2"};
    batch_of(s, three, 3, NULL, bt, NULL, 0);
    job_at(s, bt, 0, b0);
    claim(s, STORE_QUEUED, STORE_COMPILING, -1, b0);
    long n = -1;
    mark = store_last_event_id(s);
    CHECK_INT(store_cancel_batch(s, bt, &n, NULL), 0);
    CHECK_INT(n, 3);
    events_str(s, mark, NULL, NULL, text, sizeof text);
    CHECK_STR(text, "job:cancelled job:cancelled job:cancelled batch:cancelled batch:done");
    CHECK_INT(store_cancel_batch(s, bt, &n, NULL), 0);
    CHECK_INT(n, 0);
    CHECK_INT(store_last_event_id(s), mark + 5);

    CHECK_INT(store_events(s, 0, NULL, NULL, 0, &ev, NULL), ERR_INVALID);
    store_close(s);
}

static void test_prune(void)
{
    struct store *s = open_db("prune.db", 1000, 10, 3);
    char id[32];
    for (int i = 0; i < 55; i++) {
        char key[16];
        snprintf(key, sizeof key, "P%d", i);
        insert(s, key, 5, id);
        CHECK(query("SELECT count(*) FROM events") <= 19);   /* pruned every 10 appends */
    }
    CHECK_INT(store_last_event_id(s), 55);
    CHECK(query("SELECT count(*) FROM events") >= 10);
    CHECK_INT(query("SELECT max(id) FROM events"), 55);
    store_close(s);
    s = open_db("prune.db", 1000, 10, 3);   /* opening prunes to events_keep */
    CHECK_INT(query("SELECT count(*) FROM events"), 10);
    CHECK_INT(query("SELECT min(id) FROM events"), 46);
    CHECK_INT(store_last_event_id(s), 55);
    store_close(s);
}

/* ---- waiting, concurrency ---------------------------------------------------------------------- */

struct poke {
    struct store *s;
    int wake;   /* 1: store_wake_all, 0: insert a job */
};

static void *poke_main(void *arg)
{
    struct poke *p = arg;
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    if (p->wake) {
        store_wake_all(p->s);
    } else {
        struct store_newjob j = job("wake", "kb1-55", 5);
        char id[32];
        CHECK_INT(store_job_insert(p->s, &j, id, NULL, NULL), 0);
    }
    return NULL;
}

static void test_wait(void)
{
    struct store *s = open_db("wait.db", 1, 1000, 3);
    uint64_t gen = store_generation(s);
    double t0 = now_mono();
    CHECK(store_wait_change(s, gen, 80) == gen);   /* nothing changes: the timeout */
    double dt = now_mono() - t0;
    CHECK(dt >= 0.075 && dt < 2);
    CHECK(store_wait_change(s, gen, 0) == gen);

    struct poke p = {s, 0};
    pthread_t th;
    pthread_create(&th, NULL, poke_main, &p);
    t0 = now_mono();
    uint64_t g2 = store_wait_change(s, gen, 5000);
    dt = now_mono() - t0;
    pthread_join(th, NULL);
    CHECK(g2 != gen);
    CHECK(dt < 4);
    CHECK(store_generation(s) == g2);

    /* a refused insert commits nothing and wakes nobody */
    struct store_newjob j = job("full", "kb1-55", 5);
    char id[32];
    CHECK_INT(store_job_insert(s, &j, id, NULL, NULL), ERR_LIMIT);
    CHECK(store_generation(s) == g2);
    CHECK_INT(store_advance(s, "nope", STORE_QUEUED, STORE_COMPILING, NULL), 0);
    CHECK(store_generation(s) == g2);

    p.wake = 1;
    pthread_create(&th, NULL, poke_main, &p);
    t0 = now_mono();
    CHECK(store_wait_change(s, g2, 5000) == g2);   /* woken without a change */
    dt = now_mono() - t0;
    pthread_join(th, NULL);
    CHECK(dt < 4);
    store_close(s);
}

#define NCLAIM 400
#define NTHREADS 4

struct claimer {
    struct store *s;
    char (*ids)[32];   /* NCLAIM slots shared by all claimers */
    int *next;
    pthread_mutex_t *mu;
    int claimed, failed;
};

static void *claimer_main(void *arg)
{
    struct claimer *c = arg;
    for (;;) {
        struct store_claim cl;
        int rc = store_claim(c->s, STORE_QUEUED, STORE_COMPILING, -1, &cl, NULL);
        if (rc <= 0) {
            c->failed += rc < 0;
            break;
        }
        pthread_mutex_lock(c->mu);
        if (*c->next < NCLAIM)
            snprintf(c->ids[(*c->next)++], 32, "%s", cl.id);
        pthread_mutex_unlock(c->mu);
        c->claimed++;
        store_claim_free(&cl);
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_concurrent_claims(void)
{
    struct store *s = open_db("race.db", 1000, 100000, 3);
    static struct store_newjob jobs[NCLAIM];
    static char keys[NCLAIM][16];
    for (int i = 0; i < NCLAIM; i++) {
        snprintf(keys[i], sizeof keys[i], "R%d", i);
        jobs[i] = job(keys[i], "kb1-55", i % 7);
    }
    char bt[32];
    CHECK_INT(store_batch_insert(s, jobs, NCLAIM / 2, NULL, bt, NULL, NULL), 0);
    for (int i = NCLAIM / 2; i < NCLAIM; i++) {
        char id[32];
        CHECK_INT(store_job_insert(s, &jobs[i], id, NULL, NULL), 0);
    }
    static char ids[NCLAIM][32];
    int next = 0;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct claimer c[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        c[t] = (struct claimer){.s = s, .ids = ids, .next = &next, .mu = &mu};
        pthread_create(&th[t], NULL, claimer_main, &c[t]);
    }
    int total = 0, failed = 0;
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        total += c[t].claimed;
        failed += c[t].failed;
    }
    CHECK_INT(total, NCLAIM);
    CHECK_INT(failed, 0);
    CHECK_INT(next, NCLAIM);
    qsort(ids, (size_t)next, sizeof ids[0], cmp_id);
    int dup = 0;
    for (int i = 1; i < next; i++)
        dup += strcmp(ids[i - 1], ids[i]) == 0;
    CHECK_INT(dup, 0);
    CHECK_INT(query("SELECT count(*) FROM jobs WHERE status = 1 AND attempts = 1"), NCLAIM);
    CHECK_INT(query("SELECT count(*) FROM events WHERE status = 'compiling'"), NCLAIM);
    store_close(s);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kgrade_store_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_isotime();
    test_open_reopen();
    test_insert_get();
    test_cache();
    test_claim_order();
    test_lifecycle();
    test_cancel();
    test_recover();
    test_batch_limit();
    test_batch_get_results();
    test_list();
    test_events();
    test_prune();
    test_wait();
    test_concurrent_claims();
    nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return check_summary("test_store");
}
