/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctrl_conf.h - the controller's configuration: the "controller ..." lines
 * of a corral config file and the `corral run` options.
 *
 * Contract: ctrl_conf_line() parses one line (argv[0] == "controller")
 * into a struct and touches nothing else; ctrl_conf_check() validates the
 * whole after the last line. Errors name the bad word.
 */
#ifndef CORRAL_CTRL_CONF_H
#define CORRAL_CTRL_CONF_H

#include <stddef.h>
#include <linux/types.h>

enum ctrl_sig {
	CTRL_SIG_CPU = 0,       /* busy share of all CPUs, softirq included */
	CTRL_SIG_PRESSURE = 1,  /* /proc/pressure/cpu some avg10 */
	CTRL_SIG_QUEUE = 2,     /* worst accept-queue fill of protected listeners */
	CTRL_NSIG,
};

#define CTRL_MAX_PORTS 32

#define CTRL_DFLT_INTERVAL_NS   100000000ull   /* 100 ms */
#define CTRL_DFLT_HB_TIMEOUT_NS 2000000000ull  /* 2 s */
#define CTRL_MIN_INTERVAL_NS    10000000ull    /* 10 ms */
#define CTRL_MAX_INTERVAL_NS    10000000000ull /* 10 s */
#define CTRL_DFLT_TARGET_CPU    0.85
#define CTRL_DFLT_TARGET_QUEUE  0.50           /* used when ports are set */

/* which lines were given (duplicates are an error) */
#define CTRL_SET_TARGET(s) (1u << (s))
#define CTRL_SET_PORTS     (1u << 8)
#define CTRL_SET_INTERVAL  (1u << 9)
#define CTRL_SET_HB        (1u << 10)
#define CTRL_SET_SHED      (1u << 11)

struct ctrl_conf {
	int shed_auto;               /* 1: the controller writes the shed word */
	double target[CTRL_NSIG];    /* fraction (0, 1]; 0 = signal not used */
	__u16 ports[CTRL_MAX_PORTS]; /* protected TCP listener ports */
	unsigned nports;
	__u64 interval_ns;
	__u64 hb_timeout_ns;
	unsigned set;                /* CTRL_SET_* */
};

extern const char *const ctrl_sig_names[CTRL_NSIG];

void ctrl_conf_init(struct ctrl_conf *c);
/* one "controller ..." line; -EINVAL with a message in err */
int ctrl_conf_line(struct ctrl_conf *c, int argc, char **argv, char *err, size_t errlen);
/* whole-config checks and implied defaults; -EINVAL with a message */
int ctrl_conf_check(struct ctrl_conf *c, char *err, size_t errlen);

/* "85", "85%", "12.5%" -> 0.85 ...; (0, 100] */
int ctrl_parse_percent(const char *s, double *frac);
/* "80", "80,443" -> ports; 1..65535, no duplicates */
int ctrl_parse_ports(const char *s, __u16 *ports, unsigned max, unsigned *n);

#endif /* CORRAL_CTRL_CONF_H */
