/* test_config — kgraded's settings as a table: each row is a command line, an environment and
 * (optionally) a config file, with the expected outcome — a setting's value as config_describe
 * shows it, or an error message fragment that names the setting and its source. Also: defaults,
 * derived paths, --help and --version. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "config.h"

#define MAXARGS 8
/* argv strings are not const in C; config_load does not write them */
#define S(x) ((char *)(uintptr_t)(x))

static const struct {
    const char *args[MAXARGS];   /* after argv[0]; "@FILE" becomes the config file's path */
    const char *env[4];          /* "NAME=value" */
    const char *file;            /* the config file's text, or NULL */
    int rc;
    const char *key, *want;      /* rc 0: config_describe's key, its value printed as JSON */
} cases[] = {
    /* defaults */
    {{0}, {0}, NULL, 0, "listen", "\"127.0.0.1:8080\""},
    {{0}, {0}, NULL, 0, "data", "\"./var\""},
    {{0}, {0}, NULL, 0, "db_path", "\"./var/kgrade.db\""},
    {{0}, {0}, NULL, 0, "cache_dir", "\"./var/cache\""},
    {{0}, {0}, NULL, 0, "gpus", "\"all\""},
    {{0}, {0}, NULL, 0, "max-body", "4194304"},
    {{0}, {0}, NULL, 0, "max-source", "262144"},
    {{0}, {0}, NULL, 0, "max-batch-body", "67108864"},
    {{0}, {0}, NULL, 0, "max-batch", "10000"},
    {{0}, {0}, NULL, 0, "max-queue", "100000"},
    {{0}, {0}, NULL, 0, "max-attempts", "3"},
    {{0}, {0}, NULL, 0, "job-timeout", "600"},
    {{0}, {0}, NULL, 0, "max-wait", "120"},
    {{0}, {0}, NULL, 0, "http", "\"threads\""},
    {{0}, {0}, NULL, 0, "max-connections", "512"},
    {{0}, {0}, NULL, 0, "client-timeout", "30"},
    {{0}, {0}, NULL, 0, "sync", "\"full\""},
    {{0}, {0}, NULL, 0, "events-keep", "100000"},
    {{0}, {0}, NULL, 0, "log-level", "\"info\""},
    {{0}, {0}, NULL, 0, "log-format", "\"logfmt\""},
    {{0}, {0}, NULL, 0, "token", "\"\""},
    {{0}, {0}, NULL, 0, "prestart", "\"on\""},
    {{0}, {0}, NULL, 0, "prestart-idle", "600"},
    {{"--prestart", "off"}, {0}, NULL, 0, "prestart", "\"off\""},
    {{0}, {"KGRADE_PRESTART=off"}, NULL, 0, "prestart", "\"off\""},
    {{"--config", "@FILE"}, {0}, "prestart-idle = 30\n", 0, "prestart-idle", "30"},
    /* flag beats env beats file */
    {{"--config", "@FILE", "--max-body", "3M"}, {"KGRADE_MAX_BODY=2M"}, "max-body = 1M\n", 0, "max-body", "3145728"},
    {{"--config", "@FILE"}, {"KGRADE_MAX_BODY=2M"}, "max-body = 1M\n", 0, "max-body", "2097152"},
    {{"--config", "@FILE"}, {0}, "max-body = 1M\n", 0, "max-body", "1048576"},
    {{0}, {"KGRADE_CONFIG=@FILE"}, "# comment\n\n  max_body = \"5K\"  \n", 0, "max-body", "5120"},
    {{"--max-body=7K"}, {"KGRADE_MAX_BODY=2M"}, NULL, 0, "max-body", "7168"},
    {{0}, {"KGRADE_LOG_LEVEL=debug"}, NULL, 0, "log-level", "\"debug\""},
    {{0}, {"KGRADE_LISTEN=:9000"}, NULL, 0, "listen", "\"0.0.0.0:9000\""},
    {{"--data", "/srv/kg"}, {0}, NULL, 0, "db_path", "\"/srv/kg/kgrade.db\""},
    {{"--config", "@FILE"}, {0}, "data = /d\n", 0, "cache_dir", "\"/d/cache\""},
    {{"--token", "s3cret"}, {0}, NULL, 0, "token", "\"(set)\""},
    {{"--http", "epoll", "--http-pool", "3"}, {0}, NULL, 0, "http-pool", "3"},
    {{"--gpus", "0,1"}, {0}, NULL, 0, "gpus", "\"0,1\""},
    {{"--sync=normal"}, {0}, NULL, 0, "sync", "\"normal\""},
    {{"--log-format", "json"}, {0}, NULL, 0, "log-format", "\"json\""},
    /* sizes */
    {{"--max-source", "1024"}, {0}, NULL, 0, "max-source", "1024"},
    {{"--max-source", "2k"}, {0}, NULL, 0, "max-source", "2048"},
    {{"--max-source", "3KiB"}, {0}, NULL, 0, "max-source", "3072"},
    {{"--max-source", "1G"}, {0}, NULL, 0, "max-source", "1073741824"},
    {{"--max-source", "12X"}, {0}, NULL, -1, NULL, "--max-source: '12X' is not a size"},
    {{"--max-source", "-1"}, {0}, NULL, -1, NULL, "--max-source: '-1' is not a size"},
    {{"--max-source", "0"}, {0}, NULL, -1, NULL, "--max-source: 0 bytes is out of range"},
    {{"--max-source", "99999999999G"}, {0}, NULL, -1, NULL, "is not a size"},
    /* listen forms */
    {{"--listen", "0.0.0.0:80"}, {0}, NULL, 0, "listen", "\"0.0.0.0:80\""},
    {{"--listen", "localhost:0"}, {0}, NULL, 0, "listen", "\"localhost:0\""},
    {{"--listen", "[::1]:8081"}, {0}, NULL, 0, "listen", "\"[::1]:8081\""},
    {{"--listen", ":65535"}, {0}, NULL, 0, "listen", "\"0.0.0.0:65535\""},
    {{"--listen", "1.2.3.4:65536"}, {0}, NULL, -1, NULL, "--listen: '65536' is not a port"},
    {{"--listen", "1.2.3.4"}, {0}, NULL, -1, NULL, "--listen: '1.2.3.4' is not HOST:PORT"},
    {{"--listen", "::1:80"}, {0}, NULL, -1, NULL, "in brackets"},
    {{"--listen", "[]:80"}, {0}, NULL, -1, NULL, "is not [V6]:PORT"},
    {{"--listen", "host:8x"}, {0}, NULL, -1, NULL, "'8x' is not a port"},
    /* bad values name their source */
    {{0}, {"KGRADE_MAX_BODY=12X"}, NULL, -1, NULL, "KGRADE_MAX_BODY: '12X' is not a size"},
    {{0}, {"KGRADE_LOG_LEVEL=loud"}, NULL, -1, NULL, "KGRADE_LOG_LEVEL: 'loud' is not debug, info, warn or error"},
    {{"--config", "@FILE"}, {0}, "# a\nlisten = 127.0.0.1:1\n\n\n\n\nlistn = x\n", -1, NULL, ":7: unknown setting 'listn'"},
    {{"--config", "@FILE"}, {0}, "max-body = 12X\n", -1, NULL, ":1: max-body: '12X' is not a size"},
    {{"--config", "@FILE"}, {0}, "just words\n", -1, NULL, ":1: expected 'name = value'"},
    {{"--config", "/nonexistent/kg.conf"}, {0}, NULL, -1, NULL, "/nonexistent/kg.conf: cannot open"},
    {{"--max-batch", "ten"}, {0}, NULL, -1, NULL, "--max-batch: 'ten' is not an integer"},
    {{"--max-attempts", "0"}, {0}, NULL, -1, NULL, "--max-attempts: 0 is out of range 1..100"},
    {{"--gpus", "0,,1"}, {0}, NULL, -1, NULL, "--gpus: '0,,1' is not all, none"},
    {{"--http", "fork"}, {0}, NULL, -1, NULL, "--http: 'fork' is not threads or epoll"},
    {{"--prestart", "yes"}, {0}, NULL, -1, NULL, "--prestart: 'yes' is not on or off"},
    {{"--prestart-idle", "0"}, {0}, NULL, -1, NULL, "--prestart-idle: 0 is out of range 1..86400"},
    {{"--lisen", "x"}, {0}, NULL, -1, NULL, "unknown option '--lisen'"},
    {{"--listen"}, {0}, NULL, -1, NULL, "--listen: missing value"},
    {{"listen"}, {0}, NULL, -1, NULL, "unexpected argument 'listen'"},
    /* a bad value in a source that a later one overrides is still refused */
    {{"--max-body", "1M"}, {"KGRADE_MAX_BODY=zz"}, NULL, -1, NULL, "KGRADE_MAX_BODY: 'zz' is not a size"},
};

static void clear_env(void)
{
    extern char **environ;
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++)
            if (strncmp(*e, "KGRADE_", 7) == 0) {
                char name[256];
                snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
    }
}

static const char *subst(const char *s, const char *path)
{
    return strcmp(s, "@FILE") == 0 ? path : s;
}

static void run_case(size_t i, const char *path)
{
    int failed_before = check_failed;
    char *argv[MAXARGS + 2] = {S("kgraded")};
    int argc = 1;
    clear_env();
    if (cases[i].file) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (!f)
            return;
        fputs(cases[i].file, f);
        fclose(f);
    }
    for (int k = 0; k < MAXARGS && cases[i].args[k]; k++)
        argv[argc++] = S(subst(cases[i].args[k], path));
    for (int k = 0; k < 4 && cases[i].env[k]; k++) {
        char name[128];
        const char *eq = strchr(cases[i].env[k], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - cases[i].env[k]), cases[i].env[k]);
        setenv(name, subst(eq + 1, path), 1);
    }
    struct config c;
    struct err e = {0};
    int rc = config_load(&c, argc, argv, &e);
    CHECK_INT(rc, cases[i].rc);
    if (rc == 0 && cases[i].key) {
        char *text = config_describe(&c);
        cJSON *o = cJSON_Parse(text);
        char *got = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, cases[i].key));
        CHECK_STR(got, cases[i].want);
        free(got);
        cJSON_Delete(o);
        free(text);
    } else if (rc < 0) {
        if (!strstr(e.msg, cases[i].want))
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, cases[i].want);
        CHECK(strstr(e.msg, cases[i].want) != NULL);
    }
    if (check_failed != failed_before)
        fprintf(stderr, "  ^ case %zu (%s)\n", i, cases[i].args[0] ? cases[i].args[0] : "no flags");
}

/* Run config_load with stdout captured; returns its rc and the text in out. */
static int captured(char **argv, int argc, char *out, size_t cap)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(1);
    dup2(fileno(tmp), 1);
    struct config c;
    struct err e = {0};
    int rc = config_load(&c, argc, argv, &e);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = 0;
    fclose(tmp);
    return rc;
}

int main(void)
{
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(i, path);
    }
    clear_env();

    /* computed defaults: the number of cores, the worker next to this executable */
    struct config c;
    struct err e = {0};
    char *argv0[] = {S("kgraded"), NULL};
    CHECK_INT(config_load(&c, 1, argv0, &e), 0);
    CHECK(c.cpu_lanes >= 1 && c.http_pool == c.cpu_lanes);
    CHECK(strstr(c.worker, "/kgrade-worker") != NULL);
    CHECK_INT(c.port, 8080);
    CHECK_STR(c.listen_host, "127.0.0.1");
    char *argv6[] = {S("kgraded"), S("--listen"), S("[::1]:1"), NULL};
    CHECK_INT(config_load(&c, 3, argv6, &e), 0);
    CHECK_STR(c.listen_host, "::1");
    CHECK_INT(c.port, 1);

    /* --help lists every setting with its environment variable; --version; both return 1 */
    static char out[16384];
    char *help[] = {S("kgraded"), S("--max-body"), S("zz"), S("--help"), NULL};
    CHECK_INT(captured(help, 4, out, sizeof out), 1);
    const char *names[] = {"--listen", "--data", "--worker", "--gpus", "--cpu-lanes", "--token", "--log-level",
                           "--log-format", "--max-body", "--max-source", "--max-batch-body", "--max-batch",
                           "--max-queue", "--max-attempts", "--job-timeout", "--max-wait", "--http ",
                           "--http-pool", "--max-connections", "--client-timeout", "--sync", "--events-keep",
                           "--config", "KGRADE_MAX_BATCH_BODY", "KGRADE_CONFIG", "default 4M", "default 127.0.0.1:8080"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strstr(out, names[i]))
            fprintf(stderr, "--help lacks %s\n", names[i]);
        CHECK(strstr(out, names[i]) != NULL);
    }
    char *version[] = {S("kgraded"), S("--version"), NULL};
    CHECK_INT(captured(version, 2, out, sizeof out), 1);
    CHECK(strncmp(out, "kgraded ", 8) == 0);

    unlink(path);
    return check_summary("test_config");
}
