// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c - the corral binary; the program is corral_main() (cli.c). */
#include "cli.h"

int main(int argc, char **argv)
{
	return corral_main(argc, argv);
}
