/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status.h - helpers shared by "status" and "top".
 */
#ifndef CORRAL_STATUS_H
#define CORRAL_STATUS_H

#include <stddef.h>

struct json_object;

/* "0".."7", "none" */
const char *corral_row_name(unsigned int row, char *buf, size_t len);
/* CORRAL_RUN_DIR/controller.json (with "running": false if its pid is gone), or NULL */
struct json_object *corral_controller_state(void);
/* the controller state through the print path ("controller": null when absent) */
void corral_print_controller(void);

#endif /* CORRAL_STATUS_H */
