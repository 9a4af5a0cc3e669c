/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status.h - helpers shared by "status" and "top".
 */
#ifndef CORRAL_STATUS_H
#define CORRAL_STATUS_H

#include <stddef.h>
#include <linux/types.h>

struct json_object;

/* "corral status ..." (argv[0] = "status") */
int cmd_status(int argc, char **argv);

/* "0".."7", "none" */
const char *corral_row_name(unsigned int row, char *buf, size_t len);
/*
 * ${CORRAL_RUN_DIR:-/run/corral}/controller.json, or NULL. A file that says
 * running but was left by a dead controller (pid gone or a zombie, file not
 * rewritten within the heartbeat timeout) gets "running": false and
 * "stale": true.
 */
struct json_object *corral_controller_state(void);
/*
 * The controller state through the print path ("controller": null when
 * absent); hb_ns is the data plane's heartbeat (ctl->heartbeat_ns), and a
 * running controller that has not stamped it within the timeout is stale
 * too. Text: "controller: not running (stale status file)".
 */
void corral_print_controller(__u64 hb_ns);

#endif /* CORRAL_STATUS_H */
