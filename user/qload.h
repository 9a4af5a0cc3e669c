/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * qload.h - the load on the protected accept queues as a rate ratio.
 *
 * The accept queue of a saturated listener is an integrator: it stays
 * empty while connections arrive slower than the service accepts them and
 * fills within a tick once they arrive faster. Its fill swings between 0
 * and 100% and says little about how far over capacity the host is, so a
 * law driven by the fill cuts too deep and oscillates. This estimator turns
 * the same readings into a signal proportional to the overload.
 *
 * Each tick (dt seconds) it gets the namespace's TCP counters PassiveOpens
 * (connections that completed the handshake and entered an accept queue)
 * and ListenDrops (SYNs and handshakes a full queue refused), and the summed
 * depth and backlog of the protected listeners:
 *   arrivals  a = (dOpens + dDrops - echo) / dt           new connections offered
 *             echo: the refusals of retry_s ago, which come back now as
 *             retries (a client's first SYN retransmission follows after
 *             the initial RTO of 1 s, RFC 6298); they are load the queue
 *             already refused once, not new demand, and counting them
 *             again would make every overflow cut the share a second time
 *             one RTO later. A retry crosses the shed stage again, so when
 *             the admitted share fell from p_then to p_now in between, only
 *             about p_now / p_then of them reach the queue: the echo is
 *             scaled by min(1, p_now / p_then)
 *   served    s = (dOpens - (depth - depth_prev)) / dt    taken by accept()
 *   capacity  C: a tick that starts and ends with connections waiting kept
 *             the service busy throughout, so s samples C:
 *                 C += w * (s - C)   (the first such tick sets C = s);
 *             any other tick that served more than C also moves C toward s.
 *   wanted    R = C * (1 + gain * (target - depth / backlog)), at least
 *             min_r * C: serve at capacity and pull the queue toward its
 *             target fill. A full queue reads over target (1 / (1 - gain *
 *             (1 - target)), 1.11 at a 50% target) whatever the service's
 *             scale, and the queue keeps room for the SYNs a critical class
 *             retries.
 *   load      a / R  (1.0: on target)
 * Until the first busy tick C is unknown and qload_step() returns -1; the
 * caller then uses the fill over its target.
 */
#ifndef CORRAL_QLOAD_H
#define CORRAL_QLOAD_H

#include <linux/types.h>

struct qload_params {
	double w;          /* EWMA weight of a capacity sample       default 0.2  */
	double gain;       /* pull of the queue fill on R            default 0.2  */
	double min_r;      /* R >= min_r * C                          default 0.5  */
	double alpha;      /* EWMA weight of the newest arrival rate  default 0.3  */
	double retry_s;    /* a refused SYN comes back this much later default 1.0 */
};

#define QLOAD_HIST 256     /* ticks of ListenDrops history, >= retry_s / interval + 2 */

struct qload_state {
	__u64 opens, drops;   /* counters at the last tick */
	__u32 depth;          /* summed depth at the last tick */
	int primed;           /* the fields above hold a sample */
	double cap;           /* C, connections per second; 0 = unknown */
	double arrivals;      /* a of the last tick */
	double wanted;        /* R of the last tick */
	double echo;          /* retries of earlier refusals in the last tick */
	/* ListenDrops over time, for the retries of refused SYNs */
	double hist_t[QLOAD_HIST];
	__u64 hist_d[QLOAD_HIST];
	double hist_p[QLOAD_HIST];
	unsigned hist_n, hist_head;
	double now;           /* seconds since the first sample */
};

struct qload_input {
	double dt_s;
	__u64 opens;          /* PassiveOpens */
	__u64 drops;          /* ListenDrops */
	__u32 depth;          /* summed accept-queue depth of the protected listeners */
	__u32 limit;          /* summed backlog */
	double target;        /* target fill, 0..1 */
	double pass;          /* share of the offered load the shed stage admits now,
				 (0, 1]; 0 = not known (taken as 1) */
};

void qload_params_default(struct qload_params *p);
void qload_init(struct qload_state *s);
/* one tick; returns load = a / R, or -1 while C is unknown */
double qload_step(const struct qload_params *p, struct qload_state *s,
		  const struct qload_input *in);

#endif /* CORRAL_QLOAD_H */
