/* test_lintrules.c — the rule ids the build extracted from the static checker (runner/lintrules.c)
 * are exactly the ones the checker itself lists (`python3 runner/kglint.py --rules`), in its order,
 * and lintrules_known answers for each and refuses others. Skipped (77) without python3. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "lintrules.h"

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "tests/data";
    char cmd[1200], *out = NULL;
    size_t cap = 0, len = 0, n;
    char buf[4096];
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        printf("python3 is missing: skipped\n");
        return 77;
    }
    snprintf(cmd, sizeof cmd, "python3 '%s/../../runner/kglint.py' --rules", data);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) {
        if (len + n + 1 > cap && !(out = realloc(out, cap = 2 * (len + n + 1))))
            abort();
        memcpy(out + len, buf, n);
        len += n;
        out[len] = 0;
    }
    CHECK_INT(p ? pclose(p) : -1, 0);
    cJSON *rules = cJSON_Parse(out ? out : "");
    CHECK(cJSON_IsArray(rules));
    CHECK_INT((int)lintrules_count(), cJSON_GetArraySize(rules));
    int i = 0;
    for (const cJSON *r = rules ? rules->child : NULL; r; r = r->next, i++) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "id"));
        CHECK_STR(lintrules_id((size_t)i), id);
        CHECK(id && lintrules_known(id));
    }
    CHECK(lintrules_id(lintrules_count()) == NULL);
    static const char *const unknown[] = {"", "no-such-rule", "patch ", "Patch", "reference-o", "reference-op-x"};
    for (size_t k = 0; k < sizeof unknown / sizeof *unknown; k++)
        CHECK(!lintrules_known(unknown[k]));
    cJSON_Delete(rules);
    free(out);
    return check_summary("test_lintrules");
}
