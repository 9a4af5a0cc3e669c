/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmdutil.h - what every command uses, below the commands themselves (cli.c,
 * status.c, top.c depend on this module and never on each other): exit
 * codes, error messages, opening the loaded corral, and the printers that
 * "show" commands and "status" share. Printers go through out.h, one path
 * for text and JSON.
 *
 * Exit codes: 0 success; 1 failure (not loaded, kernel error, rule
 * conflict, no such rule); 2 usage error (unknown or invalid word).
 */
#ifndef CORRAL_CMDUTIL_H
#define CORRAL_CMDUTIL_H

#include <stdbool.h>
#include "corral_shared.h"

#define CORRAL_EXIT_OK    0
#define CORRAL_EXIT_FAIL  1
#define CORRAL_EXIT_USAGE 2

/* "corral: " + message on stderr */
void corral_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct corral_handle;
/* open the pinned maps; on failure say why (not loaded, or the error) and
 * return CORRAL_EXIT_FAIL */
int corral_open_loaded(struct corral_handle *h);

void corral_print_mode(const struct corral_cfg *c);
void corral_print_aggregate(const struct corral_cfg *c);
void corral_print_shed(__u64 w, __u64 hb_ns, __u64 timeout_ns);
/* the device registry; only: one device name, or NULL for all */
void corral_print_devices(int devs_fd, const char *only);

#endif /* CORRAL_CMDUTIL_H */
