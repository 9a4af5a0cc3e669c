/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the Prometheus exporter of `corral run` (/metrics over HTTP,
 * libmicrohttpd, text format 0.0.4).
 *
 * Contract: the control loop fills a struct metrics_snap each tick and
 * hands it to metrics_publish(); the HTTP thread renders the latest copy.
 * metrics_render() is the whole text format, usable without a server.
 */
#ifndef CORRAL_METRICS_H
#define CORRAL_METRICS_H

#include <stdio.h>
#include <linux/types.h>
#include "corral_shared.h"
#include "ctrl_conf.h"

#define METRICS_MAX_SIGNALS 8

struct metrics_signal {
	const char *name;    /* static string */
	double value;
	double target;       /* 0: no target */
	int valid;
};

struct metrics_snap {
	struct corral_counter stats[CORRAL_NSTATS];
	int have_stats;
	__u64 sources;
	int have_sources;
	int shedding;
	unsigned level, frac;
	double share;
	struct metrics_signal sig[METRICS_MAX_SIGNALS];
	unsigned nsig;
	double class_rate[CORRAL_NCLASS];   /* offered packets per second */
	__u16 ports[CTRL_MAX_PORTS];
	__u32 q_depth[CTRL_MAX_PORTS], q_limit[CTRL_MAX_PORTS], q_listeners[CTRL_MAX_PORTS];
	unsigned nports;
	__u64 listen_overflows, listen_drops;
	int have_netstat;
	double tick_seconds, tick_cpu_seconds;
	__u64 ticks;
	__u64 reloads_ok, reloads_failed;
	__u64 hb_timeout_ns;
	__u64 hb_ns;         /* heartbeat stamp of the last tick (age at scrape) */
	int herd_pacing;     /* the SYN gate is in herd auto */
	int herd_active;
	double syn_rate;     /* admission capacity the controller publishes */
	double herd_window_s;
};

/* write the text exposition of s; heartbeat age is now_ns - s->hb_ns */
int metrics_render(const struct metrics_snap *s, __u64 now_ns, FILE *f);

/*
 * the corral_rule_* series from the corral_hits map: rules with hits, at
 * most METRICS_MAX_RULE_SERIES of them (the rest counted as omitted)
 */
#define METRICS_MAX_RULE_SERIES 4096
int metrics_render_rules(int hits_fd, FILE *f);

struct metrics_server;
/*
 * Listen on "[ADDR:]PORT" ("9100", "127.0.0.1:9100", "[::1]:9100").
 * -errno with a message in err.
 */
int metrics_start(struct metrics_server **out, const char *spec, char *err, size_t errlen);
void metrics_publish(struct metrics_server *m, const struct metrics_snap *s);
void metrics_stop(struct metrics_server *m);

#endif /* CORRAL_METRICS_H */
