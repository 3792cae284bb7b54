/* test_http_cases.c — the HTTP API against its contract: tests/http/cases.txt run against a real
 * kgraded on loopback, then docs/openapi.yaml checked against the daemon's route table and the
 * statuses the cases saw.
 *
 * usage: test_http_cases KGRADED WORKER SOURCE_DIR [CASES_FILE]
 *
 * The case file (its grammar is written at its top; casefile.c reads it, expect.c judges the
 * answers) is a list of blocks, each a request and the
 * status, error code, fields and headers expected of the answer; `%daemon FLAGS` lines (re)start
 * the daemon with other flags (a token, small limits). Blocks run in order and may save values
 * (`save:EV=.id`) that later blocks use as $EV, so one block submits and the next reads, cancels
 * or lists what it submitted. Every (method, route pattern, status) answered is recorded.
 *
 * The OpenAPI check reads the fixed-indentation subset docs/openapi.yaml is written in
 * (`paths:` / `  /v1/x:` / `    get:` / `      responses:` / `        '200':`; openapi.c), no
 * YAML library:
 *   (a) the operations of the spec are exactly the routes of http_routes[] (server/http.h);
 *   (b) every status the spec lists for an operation was answered by that operation in the cases
 *       (`default`, the undocumentable 500, is not a status);
 *   (c) every status an operation answered in the cases is listed for it in the spec.
 * Answers libmicrohttpd gives by itself (431, 414: marked `raw` in the cases) are not recorded. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "casefile.h"
#include "check.h"
#include "expect.h"
#include "harness.h"
#include "http.h"
#include "openapi.h"

static const char *kgraded_path, *worker_path, *src_dir, *cases_path;
static struct harness daemon_h;
static int daemon_up;
static int daemon_failed_before;   /* check_failed when the current daemon started */

/* ---- routes seen ----------------------------------------------------------------------------- */

struct seen {
    char method[16];
    const char *pattern;
    int status;
};
static struct seen seen[512];
static int nseen;

static int pattern_match(const char *pat, const char *path)
{
    while (*pat && *path) {
        if (strncmp(pat, "{id}", 4) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0)
                return 0;
            pat += 4;
            path += n;
            continue;
        }
        if (*pat != *path)
            return 0;
        pat++;
        path++;
    }
    return *pat == '\0' && *path == '\0';
}

/* The pattern of the route that answers path (with any method), or NULL. */
static const char *route_pattern(const char *target)
{
    char path[4096];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(target, "?"), target);
    for (const struct http_route *r = http_routes; r->method; r++)
        if (pattern_match(r->pattern, path))
            return r->pattern;
    return NULL;
}

static void seen_add(const char *method, const char *target, int status)
{
    const char *pat = route_pattern(target);
    if (!pat || status <= 0)
        return;
    for (int i = 0; i < nseen; i++)
        if (seen[i].status == status && seen[i].pattern == pat && strcmp(seen[i].method, method) == 0)
            return;
    if (nseen < (int)(sizeof seen / sizeof seen[0])) {
        snprintf(seen[nseen].method, sizeof seen[nseen].method, "%s", method);
        seen[nseen].pattern = pat;
        seen[nseen++].status = status;
    }
}

static int was_seen(const char *method, const char *pattern, int status)
{
    for (int i = 0; i < nseen; i++)
        if (seen[i].status == status && strcmp(seen[i].pattern, pattern) == 0 &&
            strcasecmp(seen[i].method, method) == 0)
            return 1;
    return 0;
}

/* ---- one case -------------------------------------------------------------------------------- */

static void run_case(struct casefile_block *k)
{
    int raw = expect_token(k, "raw") != NULL;
    const char *pv = expect_token(k, "poll="), *tv = expect_token(k, "timeout=");
    double poll = pv ? strtod(pv, NULL) : 0, timeout = tv ? strtod(tv, NULL) : 30;
    const char *hdrs[42];
    for (int i = 0; i < k->nh; i++)
        hdrs[i] = k->hdr[i];
    hdrs[k->nh] = NULL;
    struct hreq rq = {.method = k->method, .target = k->target, .headers = hdrs,
                      .body = k->has_body ? (k->body.p ? k->body.p : "") : NULL,
                      .body_len = k->body.len, .chunked = k->chunked, .timeout_s = timeout};
    struct buf why;
    buf_init(&why, 1 << 20);
    struct hres r;
    int fails;
    double deadline = harness_now() + poll;
    /* `cut`: the daemon answers and closes while the body is still going; the client's unsent data
     * then meets a reset, which can destroy the answer before curl reads it. A send failure with no
     * answer is tried again (three tries): the answer must still arrive once. */
    int resend = expect_token(k, "cut") ? 2 : 0;
    for (;;) {
        buf_reset(&why);
        if (harness_http(daemon_h.base, &rq, &r) != 0) {
            expect_why(&why, "no answer: %s", r.error);
            fails = 1;
            if (resend > 0 && r.curl_code == CURLE_SEND_ERROR) {
                resend--;
                hres_free(&r);
                continue;
            }
        } else {
            fails = expect_check(k, &r, raw, &why);
            /* a transfer cut short counts only where the case expects it: a stream read until
             * timeout=, or `cut` (the daemon answered and closed while the body was still going) */
            if (r.curl_code != 0 && !tv && !expect_token(k, "cut")) {
                expect_why(&why, "the transfer failed after the answer: %s", r.error);
                fails++;
            }
        }
        if (fails == 0 || harness_now() >= deadline)
            break;
        hres_free(&r);
        harness_sleep(0.2);
    }
    if (r.status && !raw)
        seen_add(k->method, k->target, (int)r.status);
    if (fails == 0) {
        check_passed++;
        printf("ok    %s:%d %s -> %ld\n", cases_path, k->line, k->title, r.status);
    } else {
        check_failed++;
        printf("FAIL  %s:%d %s\n", cases_path, k->line, k->title);
        fprintf(stderr, "%s:%d: FAILED: %s\n  %s %.200s -> %ld (%.2f s)\n%s  body: %.600s%s\n", cases_path,
                k->line, k->title, k->method, k->target, r.status, r.seconds, why.p ? why.p : "",
                r.body ? r.body : "", r.body && r.body_len > 600 ? "..." : "");
    }
    hres_free(&r);
    buf_free(&why);
}

/* ---- the case file --------------------------------------------------------------------------- */

static char *daemon_args_store[64];

static void daemon_restart(const char *flags)
{
    if (daemon_up || daemon_h.pid > 0)
        CHECK(harness_cleanup(&daemon_h, check_failed != daemon_failed_before) == 0);
    for (int i = 0; daemon_args_store[i]; i++) {
        free(daemon_args_store[i]);
        daemon_args_store[i] = NULL;
    }
    int n = 0;
    char *copy = strdup(flags), *save = NULL;
    for (char *t = strtok_r(copy, " \t", &save); t && n < 63; t = strtok_r(NULL, " \t", &save))
        daemon_args_store[n++] = strdup(t);
    free(copy);
    daemon_failed_before = check_failed;
    daemon_up = harness_start(&daemon_h, kgraded_path, worker_path, (const char *const *)daemon_args_store) == 0;
    printf("----  kgraded %s (port %d, data %s): %s\n", flags, daemon_h.port, daemon_h.data,
           daemon_up ? "up" : "FAILED TO START");
    CHECK(daemon_up);
}

static void run_file(const char *path)
{
    size_t len;
    char *text = harness_read_file(path, &len);
    CHECK(text != NULL);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        return;
    }
    int cap = 1024, n = 0;
    char **lines = malloc(sizeof *lines * (size_t)cap);
    for (char *p = text; p && *p;) {
        char *e = strchr(p, '\n');
        if (e)
            *e = '\0';
        if (n == cap)
            lines = realloc(lines, sizeof *lines * (size_t)(cap *= 2));
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[l - 1] = '\0';
        lines[n++] = p;
        p = e ? e + 1 : NULL;
    }
    int cases = 0;
    for (int i = 0; i < n;) {
        const char *l = lines[i];
        if (casefile_blank(l) || l[0] == '#') {
            i++;
        } else if (strncmp(l, "%daemon", 7) == 0) {
            daemon_restart(l + 7);
            i++;
        } else if (strncmp(l, "%set ", 5) == 0) {   /* %set NAME text-or-@directive */
            char name[32], why[512] = "";
            const char *rest = l + 5;
            size_t nl = strcspn(rest, " ");
            snprintf(name, sizeof name, "%.*s", (int)nl, rest);
            rest += nl + (rest[nl] == ' ');
            struct buf v;
            buf_init(&v, (size_t)1 << 24);
            char *val = casefile_subst(rest, why, sizeof why);
            int bad = !val || (val[0] == '@' ? casefile_directive(val, &v, why, sizeof why) : buf_append(&v, val, strlen(val))) != 0;
            free(val);
            if (bad) {
                check_failed++;
                fprintf(stderr, "%s:%d: bad %%set: %s\n", path, i + 1, why);
            } else {
                buf_append(&v, "", 0);
                casefile_var_set(name, v.p);
            }
            buf_free(&v);
            i++;
        } else if (strncmp(l, "%sleep ", 7) == 0) {
            harness_sleep(strtod(l + 7, NULL));
            i++;
        } else if (strncmp(l, "== ", 3) == 0) {
            struct casefile_block k;
            char why[512] = "";
            int line = i + 1;
            cases++;
            if (casefile_parse(lines, n, &i, &k, why, sizeof why) != 0) {
                check_failed++;
                fprintf(stderr, "%s:%d: bad case: %s\n", path, line, why);
            } else if (!daemon_up) {
                check_failed++;
                fprintf(stderr, "%s:%d: not run: kgraded is not running\n", path, line);
            } else {
                run_case(&k);
                if (!harness_alive(&daemon_h)) {
                    check_failed++;
                    fprintf(stderr, "%s:%d: kgraded DIED after this case\n", path, line);
                    harness_log_tail(&daemon_h, 40);
                    daemon_up = harness_restart(&daemon_h) == 0;
                }
            }
            casefile_block_free(&k);
        } else {
            check_failed++;
            fprintf(stderr, "%s:%d: stray line: %s\n", path, i + 1, l);
            i++;
        }
    }
    printf("%d cases\n", cases);
    free(lines);
    free(text);
}

/* ---- the OpenAPI description ----------------------------------------------------------------- */

static struct openapi_op ops[64];
static int nops;

static void check_openapi(const char *path)
{
    nops = openapi_read(path, ops, (int)(sizeof ops / sizeof ops[0]));
    CHECK(nops >= 0);
    CHECK(nops > 0);
    printf("openapi: %d operations in %s\n", nops, path);
    /* (a) the same operations as the route table */
    for (int i = 0; i < nops; i++) {
        int found = 0;
        for (const struct http_route *r = http_routes; r->method; r++)
            if (strcmp(r->method, ops[i].method) == 0 && strcmp(r->pattern, ops[i].path) == 0)
                found = 1;
        if (found) {
            check_passed++;
        } else {
            check_failed++;
            fprintf(stderr, "%s:%d: %s %s is in the spec but not in http_routes[]\n", path, ops[i].line,
                    ops[i].method, ops[i].path);
        }
        if (ops[i].nst == 0) {
            check_failed++;
            fprintf(stderr, "%s:%d: %s %s lists no responses\n", path, ops[i].line, ops[i].method, ops[i].path);
        }
    }
    for (const struct http_route *r = http_routes; r->method; r++) {
        int found = 0;
        for (int i = 0; i < nops; i++)
            if (strcmp(r->method, ops[i].method) == 0 && strcmp(r->pattern, ops[i].path) == 0)
                found = 1;
        if (found) {
            check_passed++;
        } else {
            check_failed++;
            fprintf(stderr, "%s: the daemon answers %s %s, which the spec does not describe\n", path,
                    r->method, r->pattern);
        }
    }
    /* (b) every status listed was answered in the cases */
    for (int i = 0; i < nops; i++)
        for (int s = 0; s < ops[i].nst; s++) {
            if (!isdigit((unsigned char)ops[i].st[s][0]))
                continue;
            if (was_seen(ops[i].method, ops[i].path, atoi(ops[i].st[s]))) {
                check_passed++;
            } else {
                check_failed++;
                fprintf(stderr, "%s:%d: %s %s lists %s, which no case saw it answer\n", path, ops[i].line,
                        ops[i].method, ops[i].path, ops[i].st[s]);
            }
        }
    /* (c) every status answered is listed */
    for (int j = 0; j < nseen; j++)
        for (int i = 0; i < nops; i++) {
            if (strcasecmp(ops[i].method, seen[j].method) != 0 || strcmp(ops[i].path, seen[j].pattern) != 0)
                continue;
            char st[12];
            snprintf(st, sizeof st, "%d", seen[j].status);
            int listed = 0;
            for (int s = 0; s < ops[i].nst; s++)
                if (strcmp(ops[i].st[s], st) == 0)
                    listed = 1;
            if (listed) {
                check_passed++;
            } else {
                check_failed++;
                fprintf(stderr, "%s:%d: %s %s answered %d in the cases, which the spec does not list\n", path,
                        ops[i].line, ops[i].method, ops[i].path, seen[j].status);
            }
        }
}

static void print_seen(void)
{
    printf("statuses answered, by route:\n");
    for (const struct http_route *r = http_routes; r->method; r++) {
        printf("  %-7s %-28s", r->method, r->pattern);
        for (int j = 0; j < nseen; j++)
            if (strcmp(seen[j].method, r->method) == 0 && seen[j].pattern == r->pattern)
                printf(" %d", seen[j].status);
        printf("\n");
    }
    for (int j = 0; j < nseen; j++) {
        int known = 0;
        for (const struct http_route *r = http_routes; r->method; r++)
            if (strcmp(seen[j].method, r->method) == 0 && seen[j].pattern == r->pattern)
                known = 1;
        if (!known)
            printf("  %-7s %-28s %d (no such operation)\n", seen[j].method, seen[j].pattern, seen[j].status);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s KGRADED WORKER SOURCE_DIR [CASES_FILE]\n", argv[0]);
        return 2;
    }
    kgraded_path = argv[1];
    worker_path = argv[2];
    src_dir = argv[3];
    char cases[1024], spec[1024];
    snprintf(cases, sizeof cases, "%s/tests/http/cases.txt", src_dir);
    snprintf(spec, sizeof spec, "%s/docs/openapi.yaml", src_dir);
    cases_path = argc > 4 ? argv[4] : cases;
    harness_init();
    casefile_init(src_dir);

    run_file(cases_path);
    CHECK(harness_cleanup(&daemon_h, check_failed != daemon_failed_before) == 0);
    for (int i = 0; daemon_args_store[i]; i++)
        free(daemon_args_store[i]);
    print_seen();
    if (argc <= 4)
        check_openapi(spec);
    casefile_done();
    return check_summary("test_http_cases");
}
