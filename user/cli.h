/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.h - the corral command line: global flags, the command table, the
 * show commands. corral_main() is the whole program (main() calls it), so
 * tests can run commands in-process.
 *
 * Exit codes: 0 success; 1 failure (not loaded, kernel error, rule
 * conflict, no such rule); 2 usage error (unknown or invalid word).
 */
#ifndef CORRAL_CLI_H
#define CORRAL_CLI_H

#define CORRAL_EXIT_OK    0
#define CORRAL_EXIT_FAIL  1
#define CORRAL_EXIT_USAGE 2

int corral_main(int argc, char **argv);

/* status and top (status.c, top.c); argv[0] is the object word */
int cmd_status(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* printers shared by the show commands and status (cli.c) */
#include <stdbool.h>
#include "corral_shared.h"
void corral_print_mode(const struct corral_cfg *c);
void corral_print_aggregate(const struct corral_cfg *c);
void corral_print_shed(__u64 w, __u64 hb_ns, __u64 timeout_ns);
void corral_print_devices(int devs_fd, const char *only);

/* "corral: " + message on stderr */
void corral_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct corral_handle;
/* open the pinned maps; on failure say why (not loaded, or the error) and
 * return CORRAL_EXIT_FAIL */
int corral_open_loaded(struct corral_handle *h);

#endif /* CORRAL_CLI_H */
