/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * controller.h - `corral run`: the control loop that reads host load,
 * drives the shed level through corral_ctl, stamps the heartbeat and
 * exports metrics.
 */
#ifndef CORRAL_CONTROLLER_H
#define CORRAL_CONTROLLER_H

/* corral run [-c FILE] [--metrics [ADDR:]PORT] [--interval DURATION] */
int cmd_run(int argc, char **argv);

#endif /* CORRAL_CONTROLLER_H */
