/* metricform.h — the form of a metric name, the one rule the daemon (request validation) and the
 * worker (metricname.h) share: 1..METRICFORM_LEN bytes of a-z, 0-9, _ and ., a letter first, with a
 * "__" between unit and counter (sm__throughput.avg.pct_of_peak_sustained_elapsed). Whether a name
 * of that form exists for a chip is CUPTI's to say (metricname_check). Pure C, no state. */
#ifndef KGRADE_METRICFORM_H
#define KGRADE_METRICFORM_H

#define METRICFORM_LEN 128

/* NULL when name has the form; else what is wrong with it, e.g. "does not start with a letter"
 * (a static string, to follow the name in a message). */
const char *metricform_problem(const char *name);

#endif
