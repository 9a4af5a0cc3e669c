/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * top.h - "corral top": the live view.
 */
#ifndef CORRAL_TOP_H
#define CORRAL_TOP_H

/* argv[0] = "top" */
int cmd_top(int argc, char **argv);

#endif /* CORRAL_TOP_H */
