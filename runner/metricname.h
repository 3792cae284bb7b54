/* metricname.h — the names of per-kernel metrics (Nsight Compute's names): which ones kgrade
 * collects by default, which are launch metrics, what a well-formed name is, which CUPTI chip an
 * architecture is, and whether a list of names is known for a chip (and how many replay passes its
 * counters need together). docs/metrics.md is the user's side of this.
 *
 * Two kinds of names: launch metrics (launch__*, and theoretical occupancy) come from the launch's
 * parameters and the CUDA occupancy calculator, need no counters and no replay pass, and are known
 * to us alone; every other name is a counter metric that CUPTI's profiler host API must know for
 * the chip. The host API needs no GPU and no driver (only libcupti and libnvperf_host), so a list
 * is checked anywhere the worker runs. The collector computes the values; this module only names
 * them. */
#ifndef KGRADE_METRICNAME_H
#define KGRADE_METRICNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "metricform.h"

#define METRICNAME_MAX 64        /* names in one list */
#define METRICNAME_LEN METRICFORM_LEN   /* bytes of one name, without its NUL */

/* The default list, in output order: the five metrics of the prompts' [NCU PROFILING METRICS]
 * first, then duration, launch statistics and occupancy. */
extern const char *const metricname_default[];
extern const size_t metricname_default_count;

/* The launch metrics: computed from the launch's parameters and the occupancy calculator, no
 * counter, no replay pass. metricname_is_launch: whether name is one of them. */
extern const char *const metricname_launch[];
extern const size_t metricname_launch_count;
bool metricname_is_launch(const char *name);

/* 0 when name is well formed: 1..METRICNAME_LEN bytes of [a-z0-9_.], starting with a letter, with
 * at least one "__" (unit__counter). ERR_INVALID otherwise, e saying why (the name quoted). */
int metricname_syntax(const char *name, struct err *e);

/* The CUPTI chip name of architecture sm_<arch> (90 -> "GH100"; a static string). ERR_NOTFOUND
 * naming sm_<arch> when kgrade knows no chip for it. */
int metricname_chip(int arch, const char **chip, struct err *e);

/* The CUPTI chip name of CUDA device ordinal device (cuInit through the run-time loaded driver,
 * then CUPTI's cuptiDeviceGetChipName) into chip. ERR_UNSUPPORTED when there is no driver, no
 * such device or no CUPTI. */
int metricname_device_chip(int device, char *chip, size_t cap, struct err *e);

/* What metricname_check found. */
struct metricname_check {
    int index;          /* the name at fault (0-based), -1 when none is or the list as a whole is */
    size_t counters;    /* names that are counter metrics (the others are launch metrics) */
    size_t passes;      /* replay passes the counter metrics need together; 0 without counters */
};

/* Check names[0..n) for chip (a CUPTI chip name: metricname_chip). In this order: the count
 * (at most METRICNAME_MAX: ERR_LIMIT, r->index -1), every name's syntax (ERR_INVALID) and that none
 * appears twice (ERR_INVALID, at the second one), then name by name: a launch metric, or a counter
 * CUPTI knows for the chip (ERR_NOTFOUND: "'x' is not a metric of GH100"). r->index names the
 * first name at fault, e the reason (the name quoted). Then the counters' replay passes, from the
 * configuration image of all of them together. availability is the device's counter-availability
 * image (cuptiProfilerGetCounterAvailability) or NULL (the chip's full set; pass counts can differ
 * slightly from a real device's). Counters need libcupti: ERR_UNSUPPORTED (r->index -1) when it
 * cannot be loaded, ERR_NOTFOUND (r->index -1) for a chip CUPTI does not know, ERR_CUDA for
 * another CUPTI failure. A list of launch metrics only needs no CUPTI. Does not need or touch a
 * GPU; does not call cuptiProfilerInitialize (which fails without a driver and is not needed by
 * the host API). Keeps no state: every call has host objects of its own. */
int metricname_check(const char *chip, const uint8_t *availability, const char *const *names, size_t n,
                     struct metricname_check *r, struct err *e);

/* The value of the worker's --metrics flag, parsed. The names point into text (owned by the
 * struct, which may live on the stack: about 8 KiB) or, for the default list, at
 * metricname_default. */
struct metricname_list {
    size_t n;
    const char *names[METRICNAME_MAX];
    char text[METRICNAME_MAX * (METRICNAME_LEN + 1)];
};

/* arg: NULL (the default list), "none" (no metrics: n = 0), or names separated by commas, each
 * with optional spaces around it. Refused (ERR_INVALID, e saying which item): an empty string or
 * item ("a,,b", "a,"), a name that fails metricname_syntax, a name given twice; ERR_LIMIT: more than
 * METRICNAME_MAX names or a longer text than fits. Needs no CUPTI: whether CUPTI knows the names
 * is metricname_check's. */
int metricname_parse_list(const char *arg, struct metricname_list *l, struct err *e);

#endif
