/* log.h — kgraded's log: one line per event on stderr, logfmt (default) or JSON lines, with the
 * time, level, the job id when there is one, and a message. Thread-safe; a line is written with one
 * write(2) so lines from different threads never interleave. */
#ifndef KGRADE_LOG_H
#define KGRADE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_setup(enum log_level min, int json);
/* level name -> value, or -1 */
int log_level_parse(const char *name);

/* job may be NULL. The message is printf-formatted; key=value pairs inside it stay as they are. */
void log_msg(enum log_level lv, const char *job, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(job, ...) log_msg(LOG_DEBUG, job, __VA_ARGS__)
#define log_info(job, ...) log_msg(LOG_INFO, job, __VA_ARGS__)
#define log_warn(job, ...) log_msg(LOG_WARN, job, __VA_ARGS__)
#define log_error(job, ...) log_msg(LOG_ERROR, job, __VA_ARGS__)

#endif
