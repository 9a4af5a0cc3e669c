/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.h - the corral command line: global flags and the command table.
 * corral_main() is the whole program (main() calls it), so tests can run
 * commands in-process. Exit codes: cmdutil.h.
 */
#ifndef CORRAL_CLI_H
#define CORRAL_CLI_H

#include "cmdutil.h"

int corral_main(int argc, char **argv);

#endif /* CORRAL_CLI_H */
