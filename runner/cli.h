/* cli.h — kgrade-worker's command line: exit codes, the usage text, JSON output, and the
 * subcommands that report without evaluating a candidate. Each cli_<command> takes the arguments
 * after the command's name (the global options already taken out) and returns the process's exit
 * status; its answer is on stdout, its complaints on stderr.
 *
 * Exit status: 0 success (for eval and compile: a record with a job verdict was written, whatever
 * the candidate did), 1 a check failed or the input was invalid, 2 usage error, 3 system failure
 * (eval and compile still write a record, verdict internal_error), 77 no usable GPU (eval writes a
 * record with verdict no_device; for tests: "skipped"). */
#ifndef KGRADE_CLI_H
#define KGRADE_CLI_H

#include <cjson/cJSON.h>

#define CLI_EXIT_CHECK 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_SYSTEM 3
#define CLI_EXIT_NOGPU 77

extern const char cli_usage[];

/* j on stdout: indented (cli_print_json) or on one line (cli_print_line). */
void cli_print_json(cJSON *j);
void cli_print_line(cJSON *j);

/* The exit status for a failed ERR_* code: 77 when there is no usable GPU, 3 for a system failure,
 * else 1. */
int cli_exit_for(int rc);

/* problems [ID]: the registry, or one problem with its derived values. */
int cli_problems(int argc, char **argv);
/* compile --reference [--arch N] [ID]: the GPU reference through NVRTC, no GPU needed. */
int cli_compile_reference(int argc, char **argv, const char *cache);
/* selfcheck [--shapes FILE] [--skip-large] [--seed N]: the GPU reference against the CPU oracle. */
int cli_selfcheck(int argc, char **argv, const char *cache, int device);
/* bench [ID...] [--budget-ms MS]: the reference against cuDNN. */
int cli_bench(int argc, char **argv, const char *cache, int device);
/* info: versions, the device, and every device the driver reports. */
int cli_info(int device);
/* metrics-check [--chip NAME | --arch N] NAME...: metric names against a chip, one JSON line. */
int cli_metrics_check(int argc, char **argv, int device);
/* canary: a known-answer kernel on the device, one JSON line; 0 healthy, 77 no GPU, 3 unhealthy. */
int cli_canary(int device);

#endif
