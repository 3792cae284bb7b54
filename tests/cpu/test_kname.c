/* test_kname.c — readable kernel names (runner/kname.c): data/kernelnames.tsv, symbol -> name,
 * and the output buffer's bound. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "kname.h"

static const char *cell(const char *s)
{
    return strcmp(s, "(empty)") ? s : "";
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "tests/data";
    struct check_table t;
    char *cols[3], out[128];
    int rows = 0;
    if (check_table_open(&t, data, "kernelnames.tsv")) {
        int n;
        while ((n = check_table_next(&t, cols, 3)) >= 0) {
            CHECK_INT(n, 2);
            if (n != 2)
                continue;
            kname_readable(cell(cols[0]), out, sizeof out);
            CHECK_STR(out, cell(cols[1]));
            rows++;
        }
        check_table_close(&t);
    }
    CHECK(rows >= 15);
    /* the bound: cut to fit, always terminated */
    char small[5];
    kname_readable("_Z16relayout_weightsPKfPfxii", small, sizeof small);
    CHECK_STR(small, "rela");
    kname_readable("conv2d_fwd_kernel", small, sizeof small);
    CHECK_STR(small, "conv");
    kname_readable(NULL, out, sizeof out);
    CHECK_STR(out, "?");
    memset(small, 'x', sizeof small);
    kname_readable("abc", small, 0);   /* nothing written */
    CHECK(small[0] == 'x');
    return check_summary("test_kname");
}
