/* cli_common.h -- option parsing and messages shared by the actiplm subcommands. */
#ifndef ACTIPLM_CLI_COMMON_H
#define ACTIPLM_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2

/* "actiplm: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "actiplm <cmd>: <msg>\nTry 'actiplm <cmd> --help'." on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing; on failure print a usage error and return 0. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);

/* The command line as one string (for the HDF5 root attribute). */
void cli_set_command_line(int argc, char **argv);
const char *cli_command_line(void);

/* Current UTC time, ISO 8601. */
void cli_now_utc(char *buf, size_t n);

#include "plm/batch.h"

/* Options that change processing, shared by run and slurm: --block-frames, --rules,
 * --short-imi-starts-series, --sleep, --no-lm-mask. cli_process_option returns 1 when
 * c was one of them (applied to cfg), 0 on a usage error (printed), -1 for other options;
 * cli_process_options_done checks the combination (0: usage error printed). */
#define CLI_PROCESS_LONGOPTS                                                                                    \
    {"block-frames", required_argument, 0, 'b'}, {"rules", required_argument, 0, 'r'},                       \
        {"short-imi-starts-series", no_argument, 0, 's'}, {"sleep", required_argument, 0, 'S'},               \
        {"no-lm-mask", no_argument, 0, 'M'}
int cli_process_option(const char *cmd, int c, const char *arg, plm_process_cfg *cfg, int *starts);
int cli_process_options_done(const char *cmd, plm_process_cfg *cfg, int starts);

/* Study statistics: the Hornyak-style table, a CSV with the /stats field names. */
void cli_print_study(FILE *f, const plm_study_result *r, const plm_study_cfg *cfg);
int cli_write_stats_csv(const char *path, const plm_study_result *r);

/* Subcommands. */
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* "K/N" with 1 <= K <= N <= 100000; 0 (and a usage error) otherwise. */
int cli_parse_shard(const char *cmd, const char *s, long *k, long *n);

/* DIR -> DIR/manifest.csv; any other argument is the manifest itself. */
void cli_manifest_path(const char *arg, char *buf, size_t n);

/* The path of the running actiplm executable (for scripts that call it back). */
int cli_self_path(char *buf, size_t n);

#endif
