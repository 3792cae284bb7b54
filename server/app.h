/* app.h — what every HTTP handler can reach: the settings, the store, the scheduler, the isolation,
 * the metric-name check. Built by kgraded's main() and read-only afterwards. */
#ifndef KGRADE_APP_H
#define KGRADE_APP_H

#include <stdatomic.h>

#include "config.h"
#include "isolation.h"
#include "metricset.h"
#include "sched.h"
#include "store.h"

struct app {
    const struct config *cfg;
    struct store *store;
    struct sched *sched;
    const struct isolation *iso; /* what the sandbox offers; iso->refusal: no candidate code runs */
    struct metricset *metricset; /* options.metrics checked against the GPUs' chips (NULL: not checked) */
    double started;             /* unix seconds */
    atomic_int stopping;        /* set at shutdown: streams end, waits return */
};

#endif
