/* metricname.c — metric names: the default list, the launch metrics, syntax, chips, and the check
 * of a list against CUPTI's profiler host API (see metricname.h).
 *
 * DESIGN
 *   A list is checked cheapest first, so that a malformed list never loads CUPTI: the count, then
 *   every name's syntax and duplicates, then name by name whether it is a launch metric (a table
 *   of ours) or a counter CUPTI knows for the chip.
 *
 *   Counters are added to one host object all at once: CUPTI schedules a configuration as a whole,
 *   and adding them one call at a time gives a worse schedule (GH100, the prompts' four counters:
 *   12 passes added one by one, 8 together). When the set is refused, CUPTI does not say which name
 *   it did not know, and the host object is unusable after a refusal (later calls answer
 *   CUPTI_ERROR_UNKNOWN), so each counter is then tried alone on a fresh object, in list order: the
 *   first refused one is the unknown name. A host object costs well under a millisecond.
 *
 *   CUPTI answers an unknown name with CUPTI_ERROR_INVALID_PARAMETER (its header announces
 *   CUPTI_ERROR_INVALID_METRIC_NAME: both mean "unknown" here), an unknown chip with
 *   CUPTI_ERROR_INVALID_CHIP_NAME. cuptiProfilerInitialize is not called: the host API works
 *   without it, and without a driver it fails (CUPTI_ERROR_UNKNOWN).
 *
 * INVARIANTS
 *   - No state: every check has its own host objects, created and destroyed here.
 *   - Everything is bounded: METRICNAME_MAX names of METRICNAME_LEN bytes.
 *
 * Does not: compute any metric's value (the collector does), or touch a GPU (only
 * metricname_device_chip asks the driver which chip a device is). */
#include "metricname.h"
#include "metricform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cudrv.h"
#include "cupti.h"

const char *const metricname_default[] = {
    /* the prompts' [NCU PROFILING METRICS] */
    "sm__throughput.avg.pct_of_peak_sustained_elapsed",
    "launch__grid_size",
    "sm__warps_active.avg.pct_of_peak_sustained_active",   /* achieved occupancy */
    "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "lts__t_sector_hit_rate.pct",
    /* duration, launch statistics, occupancy */
    "gpu__time_duration.sum",
    "launch__block_size",
    "launch__registers_per_thread",
    "launch__shared_mem_per_block_static",
    "launch__shared_mem_per_block_dynamic",
    "launch__occupancy_limit_blocks",
    "launch__occupancy_limit_registers",
    "launch__occupancy_limit_warps",
    "launch__waves_per_multiprocessor",
    "sm__maximum_warps_per_active_cycle_pct",             /* theoretical occupancy */
};
const size_t metricname_default_count = sizeof metricname_default / sizeof metricname_default[0];

/* Nsight Compute: "launch__* metrics are collected per kernel launch, and do not require an
 * additional replay pass"; the two sm__maximum_warps_* come from the occupancy calculator. CUPTI
 * knows none of them. */
const char *const metricname_launch[] = {
    "launch__grid_size",
    "launch__block_size",
    "launch__thread_count",
    "launch__registers_per_thread",
    "launch__shared_mem_per_block_static",
    "launch__shared_mem_per_block_dynamic",
    "launch__shared_mem_per_block_driver",
    "launch__occupancy_limit_blocks",
    "launch__occupancy_limit_registers",
    "launch__occupancy_limit_shared_mem",
    "launch__occupancy_limit_warps",
    "launch__waves_per_multiprocessor",
    "launch__sm_count",
    "sm__maximum_warps_per_active_cycle_pct",
    "sm__maximum_warps_avg_per_active_cycle",
};
const size_t metricname_launch_count = sizeof metricname_launch / sizeof metricname_launch[0];

/* sm architecture -> the chip name CUPTI's host API takes (cuptiProfilerHostGetSupportedChips
 * lists each). One chip stands for its architecture's family (sm_86: GA102 also for GA104). */
static const struct {
    int arch;
    const char *chip;
} chips[] = {
    {80, "GA100"}, {86, "GA102"}, {87, "GA10B"}, {89, "AD102"},
    {90, "GH100"}, {100, "GB100"}, {120, "GB202"},
};

bool metricname_is_launch(const char *name)
{
    for (size_t i = 0; name && i < metricname_launch_count; i++)
        if (!strcmp(name, metricname_launch[i]))
            return true;
    return false;
}

int metricname_syntax(const char *name, struct err *e)
{
    const char *why = metricform_problem(name);
    if (why && (!name || !*name))
        return err_set(e, ERR_INVALID, "metrics", "an empty metric name");
    return why ? err_set(e, ERR_INVALID, "metrics", "'%.40s' %s", name, why) : 0;
}

int metricname_chip(int arch, const char **chip, struct err *e)
{
    for (size_t i = 0; i < sizeof chips / sizeof chips[0]; i++)
        if (chips[i].arch == arch) {
            *chip = chips[i].chip;
            return 0;
        }
    return err_set(e, ERR_NOTFOUND, "arch", "sm_%d: no CUPTI chip known for this architecture (known: sm_80, "
                   "sm_86, sm_87, sm_89, sm_90, sm_100, sm_120)", arch);
}

int metricname_device_chip(int device, char *chip, size_t cap, struct err *e)
{
    int rc = cudrv_load(e), count = 0;
    if (rc)
        return rc;
    if (cu.cuInit(0) != CUDA_SUCCESS || cu.cuDeviceGetCount(&count) != CUDA_SUCCESS || device < 0 ||
        device >= count)
        return err_set(e, ERR_UNSUPPORTED, "device", "no CUDA device %d here", device);
    if ((rc = cupti_load(e)))
        return rc;
    CUpti_Device_GetChipName_Params p = {.structSize = CUpti_Device_GetChipName_Params_STRUCT_SIZE};
    p.deviceIndex = (size_t)device;
    CUPTI_CHECK(cupti.cuptiDeviceGetChipName(&p));
    snprintf(chip, cap, "%s", p.pChipName ? p.pChipName : "");
out:
    return rc;
}

/* ---- CUPTI's host API ------------------------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* libcupti loads libnvperf_host with RTLD_DEEPBIND, which AddressSanitizer's runtime refuses by
 * ending the process: in such a build the host API is reported missing instead (and the message
 * avoids the word the tests look for in sanitizer reports). */
static int host_api_usable(struct err *e)
{
#ifdef UNDER_ASAN
    return err_set(e, ERR_UNSUPPORTED, "", "CUPTI's host API cannot run in an ASan build (libnvperf_host is "
                   "loaded with RTLD_DEEPBIND)");
#else
    (void)e;
    return 0;
#endif
}

static int unknown_name(CUptiResult r)
{
    return r == CUPTI_ERROR_INVALID_PARAMETER || r == CUPTI_ERROR_INVALID_METRIC_NAME;
}

static void host_close(CUpti_Profiler_Host_Object *h)
{
    if (!h)
        return;
    CUpti_Profiler_Host_Deinitialize_Params p = {
        .structSize = CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE};
    p.pHostObject = h;
    cupti.cuptiProfilerHostDeinitialize(&p);
}

/* A host object of the range profiler for chip; ERR_NOTFOUND for a chip CUPTI does not know. */
static int host_open(const char *chip, const uint8_t *avail, CUpti_Profiler_Host_Object **h, struct err *e)
{
    CUpti_Profiler_Host_Initialize_Params p = {
        .structSize = CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE};
    p.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    p.pChipName = chip;
    p.pCounterAvailabilityImage = avail;
    CUptiResult r = cupti.cuptiProfilerHostInitialize(&p);
    *h = p.pHostObject;
    if (r == CUPTI_ERROR_INVALID_CHIP_NAME)
        return err_set(e, ERR_NOTFOUND, "chip", "CUPTI knows no chip '%s'", chip);
    if (r != CUPTI_SUCCESS)
        return cupti_fail(e, r, "cuptiProfilerHostInitialize", __FILE__, __LINE__);
    return 0;
}

static CUptiResult add_metrics(CUpti_Profiler_Host_Object *h, const char **names, size_t n)
{
    CUpti_Profiler_Host_ConfigAddMetrics_Params p = {
        .structSize = CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE};
    p.pHostObject = h;
    p.ppMetricNames = names;
    p.numMetrics = n;
    return cupti.cuptiProfilerHostConfigAddMetrics(&p);
}

/* The replay passes of h's configuration. */
static int passes_of(CUpti_Profiler_Host_Object *h, size_t *passes, struct err *e)
{
    int rc = 0;
    uint8_t *image = NULL;
    CUpti_Profiler_Host_GetConfigImageSize_Params sp = {
        .structSize = CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE};
    sp.pHostObject = h;
    CUPTI_CHECK(cupti.cuptiProfilerHostGetConfigImageSize(&sp));
    if (!sp.configImageSize || !(image = malloc(sp.configImageSize))) {
        rc = err_set(e, sp.configImageSize ? ERR_NOMEM : ERR_CUDA, "", "no configuration image (%zu bytes)",
                     sp.configImageSize);
        goto out;
    }
    CUpti_Profiler_Host_GetConfigImage_Params ip = {
        .structSize = CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE};
    ip.pHostObject = h;
    ip.configImageSize = sp.configImageSize;
    ip.pConfigImage = image;
    CUPTI_CHECK(cupti.cuptiProfilerHostGetConfigImage(&ip));
    CUpti_Profiler_Host_GetNumOfPasses_Params np = {
        .structSize = CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE};
    np.configImageSize = sp.configImageSize;
    np.pConfigImage = image;
    CUPTI_CHECK(cupti.cuptiProfilerHostGetNumOfPasses(&np));
    *passes = np.numOfPasses;
out:
    free(image);
    return rc;
}

/* counters[0..n) (their list indexes in at[]) against chip: the passes, or the first unknown. */
static int check_counters(const char *chip, const uint8_t *avail, const char **counters, const int *at,
                          size_t n, struct metricname_check *r, struct err *e)
{
    CUpti_Profiler_Host_Object *h = NULL;
    int rc = host_open(chip, avail, &h, e);
    if (rc)
        goto out;
    CUptiResult all = add_metrics(h, counters, n);
    if (all == CUPTI_SUCCESS) {
        rc = passes_of(h, &r->passes, e);
        goto out;
    }
    if (!unknown_name(all)) {
        rc = cupti_fail(e, all, "cuptiProfilerHostConfigAddMetrics", __FILE__, __LINE__);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {   /* which one: each alone, on a fresh object */
        host_close(h);
        h = NULL;
        if ((rc = host_open(chip, avail, &h, e)))
            goto out;
        CUptiResult one = add_metrics(h, &counters[i], 1);
        if (unknown_name(one)) {
            r->index = at[i];
            rc = err_set(e, ERR_NOTFOUND, "metrics", "'%s' is not a metric of %s", counters[i], chip);
            goto out;
        }
        if (one != CUPTI_SUCCESS) {
            rc = cupti_fail(e, one, "cuptiProfilerHostConfigAddMetrics", __FILE__, __LINE__);
            goto out;
        }
    }
    rc = cupti_fail(e, all, "cuptiProfilerHostConfigAddMetrics (each counter alone is known)", __FILE__,
                    __LINE__);
out:
    host_close(h);
    return rc;
}

int metricname_check(const char *chip, const uint8_t *availability, const char *const *names, size_t n,
                     struct metricname_check *r, struct err *e)
{
    const char *counters[METRICNAME_MAX];
    int at[METRICNAME_MAX];
    r->index = -1;
    r->counters = r->passes = 0;
    if (n > METRICNAME_MAX)
        return err_set(e, ERR_LIMIT, "metrics", "more than %d metric names", METRICNAME_MAX);
    for (size_t i = 0; i < n; i++) {
        int rc = metricname_syntax(names[i], e);
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(names[i], names[j]))
                rc = err_set(e, ERR_INVALID, "metrics", "'%s' is given twice", names[i]);
        if (rc) {
            r->index = (int)i;
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!metricname_is_launch(names[i])) {
            at[r->counters] = (int)i;
            counters[r->counters++] = names[i];
        }
    if (!r->counters)
        return 0;
    int rc = host_api_usable(e);
    if (!rc)
        rc = cupti_load(e);
    return rc ? rc : check_counters(chip, availability, counters, at, r->counters, r, e);
}

/* ---- the worker's --metrics ------------------------------------------------------------------- */

/* The items of text (a copy of the flag's value) into l. */
static int split(struct metricname_list *l, struct err *e)
{
    char *p = l->text;
    p += strspn(p, " \t");
    if (!strncmp(p, "none", 4) && p[4 + strspn(p + 4, " \t")] == '\0')
        return 0;
    for (size_t item = 1;; item++) {
        char *end = p + strcspn(p, ","), *next = *end ? end + 1 : NULL;
        *end = '\0';
        p += strspn(p, " \t");
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (!*p)
            return err_set(e, ERR_INVALID, "metrics",
                           "item %zu is empty (names separated by commas, or none)", item);
        if (l->n == METRICNAME_MAX)
            return err_set(e, ERR_LIMIT, "metrics", "more than %d metric names", METRICNAME_MAX);
        int rc = metricname_syntax(p, e);
        for (size_t j = 0; !rc && j < l->n; j++)
            if (!strcmp(p, l->names[j]))
                rc = err_set(e, ERR_INVALID, "metrics", "'%s' is given twice", p);
        if (rc)
            return rc;
        l->names[l->n++] = p;
        if (!next)
            return 0;
        p = next;
    }
}

int metricname_parse_list(const char *arg, struct metricname_list *l, struct err *e)
{
    l->n = 0;
    if (!arg) {
        for (; l->n < metricname_default_count; l->n++)
            l->names[l->n] = metricname_default[l->n];
        return 0;
    }
    size_t len = strlen(arg);
    if (len >= sizeof l->text)
        return err_set(e, ERR_LIMIT, "metrics", "longer than %zu bytes", sizeof l->text - 1);
    memcpy(l->text, arg, len + 1);
    int rc = split(l, e);
    if (rc)
        l->n = 0;
    return rc;
}
