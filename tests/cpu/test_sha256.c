/* test_sha256 — FIPS 180-4 example vectors, incremental updates across block boundaries. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sha256.h"

static const struct {
    const char *msg;
    int repeat;
    const char *hex;
} cases[] = {
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sha256 c;
        char hex[65];
        sha256_init(&c);
        for (int r = 0; r < cases[i].repeat; r++)
            sha256_update(&c, cases[i].msg, strlen(cases[i].msg));
        sha256_final_hex(&c, hex);
        CHECK_STR(hex, cases[i].hex);
    }
    /* one call equals byte-by-byte updates */
    const char *m = cases[2].msg;
    char one[65], bytes[65];
    sha256_hex(m, strlen(m), one);
    struct sha256 c;
    sha256_init(&c);
    for (size_t i = 0; m[i]; i++)
        sha256_update(&c, m + i, 1);
    sha256_final_hex(&c, bytes);
    CHECK_STR(one, bytes);
    return check_summary("test_sha256");
}
