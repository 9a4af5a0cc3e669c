// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* herd_ctl.c - herd detection and the SYN admission rate law (see herd_ctl.h) */
#include <math.h>
#include <string.h>
#include "herd_ctl.h"
#include "corral_shared.h"

void herd_params_default(struct herd_params *p)
{
	p->detect_factor = 8.0;
	p->min_herd_rate = 200.0;
	p->end_factor = 2.0;
	p->end_s = 2.0;
	p->baseline_alpha = 0.05;
	p->first_wave_s = 0.9;
	p->min_window_s = 1.0;
	p->max_window_s = 60.0;
	p->q_low = 0.5;
	p->q_high = 0.9;
	p->cut_hold_s = 1.0;
	p->ai_frac = 0.02;
	p->md = 0.7;
	p->min_rate = 10.0;
	p->max_rate = 1e6;
	p->d_high = 0.5;
	p->trough_s = 1.0;
	p->accept_alpha = 0.5;
	p->burst_s = 1.0;
	p->burst_fill = 0.9;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void herd_state_init(struct herd_state *s, const struct herd_params *p, double initial_rate)
{
	memset(s, 0, sizeof(*s));
	s->rate0 = clamp(initial_rate > 0 ? initial_rate : p->min_herd_rate, p->min_rate, p->max_rate);
	s->rate = s->rate0;
	s->reported_rate = s->rate;
	s->prev_depth = -1;
	s->trough = -1;
	s->standing = -1;
}

/* accept rate and standing queue from this tick's depth */
static void queue_step(const struct herd_params *p, struct herd_state *s,
		       const struct herd_input *in, double dt)
{
	if (in->depth < 0) {
		s->prev_depth = -1;
		return;
	}
	if (in->depth > 0 && s->prev_depth > 0) {
		/* busy all tick: what entered minus what stayed was accepted */
		double sample = (in->admitted - (in->depth - s->prev_depth)) / dt;
		double a = 1.0 - pow(1.0 - p->accept_alpha, dt);

		if (sample < 0)
			sample = 0;
		s->accept_rate = s->accept_rate > 0 ? s->accept_rate + a * (sample - s->accept_rate)
						    : sample;
	}
	s->prev_depth = in->depth;
	if (s->trough < 0 || in->depth < s->trough)
		s->trough = in->depth;
	s->trough_t += dt;
	if (s->trough_t >= p->trough_s) {
		s->standing = s->trough;
		s->trough = -1;
		s->trough_t = 0;
	}
}

/* a standing queue longer than d_high seconds of accepts */
static int queue_slow(const struct herd_params *p, const struct herd_state *s)
{
	return s->standing > 0 && s->accept_rate > 0 && s->standing / s->accept_rate > p->d_high;
}

/* the queue emptied lately (or its depth is unknown) */
static int queue_drained(const struct herd_state *s, const struct herd_input *in)
{
	return in->depth < 0 || s->standing == 0 || s->trough == 0 ||
	       (s->standing < 0 && s->trough < 0);
}

static void rate_step(const struct herd_params *p, struct herd_state *s, const struct herd_input *in,
		      double dt)
{
	queue_step(p, s, in, dt);
	if (in->overflows > 0 || in->queue_fill > p->q_high || queue_slow(p, s)) {
		if (!s->last_cut_ns || in->now_ns - s->last_cut_ns >= (uint64_t)(p->cut_hold_s * 1e9)) {
			s->rate *= p->md;
			s->last_cut_ns = in->now_ns;
		}
	} else if (in->capped > 0 && in->queue_fill >= 0 && in->queue_fill < p->q_low &&
		   queue_drained(s, in))
		s->rate += p->ai_frac * s->rate0;
	s->rate = clamp(s->rate, p->min_rate, p->max_rate);
}

static uint32_t window_for(const struct herd_params *p, const struct herd_state *s)
{
	double w = s->est_size / s->rate;

	w = clamp(w, p->min_window_s, p->max_window_s);
	return (uint32_t)lround(w * 1000.0);
}

int herd_step(const struct herd_params *p, struct herd_state *s, const struct herd_input *in,
	      uint64_t salt)
{
	double dt = in->dt_s > 0 ? in->dt_s : 0.1;
	double syn_rate = in->syns / dt;
	double a = 1.0 - pow(1.0 - p->baseline_alpha, dt);
	int ev = HERD_EV_NONE;

	rate_step(p, s, in, dt);

	if (!s->active) {
		int surge = s->warm && syn_rate > p->detect_factor * s->baseline &&
			    syn_rate > p->min_herd_rate;
		int overflowing = in->overflows > 0 && syn_rate > p->min_herd_rate &&
				  syn_rate > 2.0 * s->baseline;

		if (surge || overflowing) {
			s->active = 1;
			s->start_ns = in->now_ns;
			s->first_wave = in->syns;
			s->est_size = in->syns;
			s->calm_s = 0;
			s->salt = salt;
			s->window_ms = window_for(p, s);
			s->reported_window = s->window_ms;
			ev |= HERD_EV_START;
		} else {
			/* the baseline learns only outside herds */
			s->baseline = s->warm ? s->baseline + a * (syn_rate - s->baseline) : syn_rate;
			s->warm = 1;
		}
	} else {
		double elapsed = (double)(in->now_ns - s->start_ns) / 1e9;
		uint32_t w;

		if (elapsed <= p->first_wave_s) {
			s->first_wave += in->syns;
			if (s->first_wave > s->est_size)
				s->est_size = s->first_wave;
		}
		w = window_for(p, s);
		s->window_ms = w;
		if (fabs((double)w - s->reported_window) > 0.1 * s->reported_window) {
			s->reported_window = w;
			ev |= HERD_EV_WINDOW;
		}
		if (syn_rate < p->end_factor * s->baseline || syn_rate < p->min_herd_rate / p->detect_factor)
			s->calm_s += dt;
		else
			s->calm_s = 0;
		if (s->calm_s >= p->end_s && elapsed * 1000.0 >= s->window_ms) {
			s->active = 0;
			ev |= HERD_EV_END;
		}
	}

	if (fabs(s->rate - s->reported_rate) > 0.1 * s->reported_rate) {
		s->reported_rate = s->rate;
		ev |= HERD_EV_RATE;
	}
	return ev;
}

uint64_t herd_syn_word(const struct herd_state *s)
{
	uint32_t flags = CORRAL_SYN_ACTIVE | CORRAL_SYN_HB;
	uint64_t rate = (uint64_t)llround(s->rate);

	if (s->active)
		flags |= CORRAL_SYN_HERD;
	if (rate > 0xffffffffULL)
		rate = 0xffffffffULL;
	return CORRAL_SYN_PACK(rate, s->active ? s->window_ms : 0, flags);
}

uint64_t herd_burst(const struct herd_params *p, const struct herd_state *s, unsigned backlog)
{
	double b = s->rate * p->burst_s;

	if (backlog && b > p->burst_fill * backlog)
		b = p->burst_fill * backlog;
	return b < 1 ? 1 : (uint64_t)llround(b);
}
