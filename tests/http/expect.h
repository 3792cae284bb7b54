/* expect.h — judging an answer against a block's expectation (`-> 202 .id~ev_ H:Location?
 * save:EV=.id`; the operators are listed at the top of tests/http/cases.txt). */
#ifndef KGRADE_TEST_EXPECT_H
#define KGRADE_TEST_EXPECT_H

#include "buf.h"
#include "casefile.h"
#include "harness.h"

/* Check r against b's expectation (raw: the answer need not be a JSON error). Each failed check is
 * one line in why; the count of failed checks is returned. The block's save: tokens are done
 * here, even after a failure (a missing value saves as "MISSING-NAME"). */
int expect_check(const struct casefile_block *b, const struct hres *r, int raw, struct buf *why);
/* The value after key ("poll=" -> "30") of the first token starting with key; NULL when none. */
const char *expect_token(const struct casefile_block *b, const char *key);
/* One line "    ..." appended to why. */
void expect_why(struct buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
