/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* qload.c - accept-queue load as a rate ratio; see qload.h. */
#include <math.h>
#include "qload.h"

void qload_params_default(struct qload_params *p)
{
	p->w = 0.2;
	p->gain = 0.2;
	p->min_r = 0.5;
	p->alpha = 0.3;
	p->retry_s = 1.0;
}

/*
 * The newest history sample at or before time t (seconds): its ring index,
 * with *newest set when it is the last one pushed. Before the history, the
 * oldest sample. -1 when the history is empty.
 */
static int hist_at(const struct qload_state *s, double t, int *newest)
{
	for (unsigned k = 0; k < s->hist_n; k++) {
		unsigned i = (s->hist_head + QLOAD_HIST - 1 - k) % QLOAD_HIST;

		if (s->hist_t[i] <= t) {
			*newest = !k;
			return (int)i;
		}
	}
	*newest = s->hist_n == 1;
	return s->hist_n ? (int)((s->hist_head + QLOAD_HIST - s->hist_n) % QLOAD_HIST) : -1;
}

/* ListenDrops at time t, interpolated between the samples around it */
static double drops_at(const struct qload_state *s, double t)
{
	int newest, i = hist_at(s, t, &newest);
	unsigned j;

	if (i < 0)
		return 0;
	j = ((unsigned)i + 1) % QLOAD_HIST;
	if (newest || s->hist_t[i] > t)
		return (double)s->hist_d[i];
	if (!(s->hist_t[j] > s->hist_t[i]))
		return (double)s->hist_d[j];
	return s->hist_d[i] + (double)(s->hist_d[j] - s->hist_d[i]) * (t - s->hist_t[i]) /
			      (s->hist_t[j] - s->hist_t[i]);
}

/* the pass share in force at time t */
static double pass_at(const struct qload_state *s, double t)
{
	int newest, i = hist_at(s, t, &newest);

	return i < 0 ? 1 : s->hist_p[i];
}

static double pass_of(const struct qload_input *in)
{
	return in->pass > 0 && in->pass <= 1 ? in->pass : 1;
}

static void hist_push(struct qload_state *s, double t, __u64 d, double pass)
{
	s->hist_t[s->hist_head] = t;
	s->hist_d[s->hist_head] = d;
	s->hist_p[s->hist_head] = pass;
	s->hist_head = (s->hist_head + 1) % QLOAD_HIST;
	if (s->hist_n < QLOAD_HIST)
		s->hist_n++;
}

void qload_init(struct qload_state *s)
{
	*s = (struct qload_state){ 0 };
}

double qload_step(const struct qload_params *p, struct qload_state *s,
		  const struct qload_input *in)
{
	double a, sv, r, fill;
	int busy;

	if (!s->primed || !(in->dt_s > 0) || in->opens < s->opens || in->drops < s->drops) {
		/* first sample, or the counters went back (a new namespace) */
		s->opens = in->opens;
		s->drops = in->drops;
		s->depth = in->depth;
		s->primed = 1;
		s->hist_n = 0;
		s->now = 0;
		hist_push(s, s->now, in->drops, pass_of(in));
		return s->cap > 0 ? s->arrivals / (s->wanted > 0 ? s->wanted : s->cap) : -1;
	}
	s->echo = 0;
	if (p->retry_s > 0) {
		double then = pass_at(s, s->now - p->retry_s), now = pass_of(in);

		s->echo = drops_at(s, s->now + in->dt_s - p->retry_s) -
			  drops_at(s, s->now - p->retry_s);
		if (now < then)
			s->echo *= now / then;
	}
	s->now += in->dt_s;
	hist_push(s, s->now, in->drops, pass_of(in));
	a = ((double)(in->opens - s->opens + in->drops - s->drops) - s->echo) / in->dt_s;
	if (a < 0)
		a = 0;
	sv = ((double)(in->opens - s->opens) - ((double)in->depth - s->depth)) / in->dt_s;
	if (sv < 0)
		sv = 0;
	busy = s->depth > 0 && in->depth > 0;
	s->opens = in->opens;
	s->drops = in->drops;
	s->depth = in->depth;
	s->arrivals = s->cap > 0 ? p->alpha * a + (1 - p->alpha) * s->arrivals : a;
	if (busy && !(s->cap > 0))
		s->cap = sv;
	else if (s->cap > 0 && (busy || sv > s->cap))
		s->cap += p->w * (sv - s->cap);
	if (!(s->cap > 0))
		return -1;
	/* the fill as sampled: smoothing it delays the pull and makes the loop
	 * circle (a 10% limit cycle at 1.4x in test_qload) */
	fill = in->limit ? (double)in->depth / in->limit : 1;
	r = s->cap * (1 + p->gain * (in->target - fill));
	if (r < p->min_r * s->cap)
		r = p->min_r * s->cap;
	s->wanted = r;
	return s->arrivals / r;
}
