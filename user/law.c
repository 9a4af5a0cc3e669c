/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* law.c - the control law; see law.h for the contract. */
#include <errno.h>
#include <math.h>
#include "law.h"

void law_params_default(struct law_params *p)
{
	p->alpha = 0.5;
	p->md = 1.0;
	p->md_floor = 0.5;
	p->hold = 10;
	p->hold_floored = 3;
	p->ret = 0.25;
	p->gap = 0.02;
	p->ai = 0.01;
	p->accel = 0.25;
	p->min_share = 0.02;
	p->band = 0.05;
	p->big = 0.3;
	p->trim = 0.05;
}

int law_params_check(const struct law_params *p)
{
	if (!(p->alpha > 0 && p->alpha <= 1) || !(p->md > 0 && p->md <= 10) ||
	    !(p->md_floor > 0 && p->md_floor < 1) || p->hold < 1 || p->hold > 100 ||
	    p->hold_floored < 1 || p->hold_floored > p->hold ||
	    !(p->ret >= 0 && p->ret <= 1) || !(p->gap >= 0 && p->gap < 1) ||
	    !(p->ai > 0 && p->ai <= 1) || !(p->accel >= 0 && p->accel <= 10) ||
	    !(p->min_share > 0 && p->min_share <= 1) || !(p->band >= 0 && p->band < 1) ||
	    !(p->big >= p->band && p->big < 1) || !(p->trim >= 0 && p->trim <= 1))
		return -EINVAL;
	return 0;
}

void law_init(struct law_state *s)
{
	s->ewma = 0;
	s->share = 1.0;
	s->share_hi = 1.0;
	s->since_cut = ~0u;
	s->hold_now = 0;
	s->under = 0;
	s->over = 0;
	s->primed = 0;
}

double law_step(const struct law_params *p, struct law_state *s, double d)
{
	if (!isfinite(d) || d < 0)
		d = 0;
	if (!s->primed) {
		s->ewma = d;
		s->primed = 1;
	} else {
		s->ewma = p->alpha * d + (1 - p->alpha) * s->ewma;
	}
	if (s->since_cut != ~0u)
		s->since_cut++;
	if (!(s->share_hi >= s->share))   /* adopted or clamped share above it */
		s->share_hi = s->share;

	if (s->ewma > 1 + p->band) {
		s->under = 0;
		s->over++;
		if (d > 1 + p->big && s->since_cut >= s->hold_now) {
			/* far over: one Breakwater cut per reaction time, sized
			 * by the newest sample, so a signal that jumps is cut at
			 * once instead of after the smoothing catches up */
			double f = 1 - p->md * (d - 1) / d;

			s->share_hi = s->share;
			s->share *= f > p->md_floor ? f : p->md_floor;
			s->since_cut = 0;
			/* a cut the floor cut short is known to fall short: the
			 * next may come as soon as the signal shows the rest */
			s->hold_now = f < p->md_floor ? p->hold_floored : p->hold;
			s->over = 0;
		} else {
			/* near the target: a small step each tick, so noise in
			 * the signal averages out instead of moving the share;
			 * larger the longer the signal stays over (a saturated
			 * signal such as CPU never reads far over), but not
			 * while a cut is still taking effect */
			double g = p->trim;

			if (s->since_cut >= s->hold_now)
				g *= 1 + p->accel * (s->over - 1);
			double f = 1 - g * (s->ewma - 1) / s->ewma;

			s->share *= f > p->md_floor ? f : p->md_floor;
		}
	} else if (s->ewma < 1 - p->big) {
		s->over = 0;
		double room = s->share_hi - p->gap - s->share;

		if (room > 0) {
			/* back toward the last cut, fast when far under it */
			double up = p->ret * (s->share_hi - s->share);

			s->share += up < room ? up : room;
			s->under = 0;
		} else {
			s->under++;
			s->share += p->ai * (1 + p->accel * (s->under - 1));
		}
	} else if (s->ewma < 1 - p->band) {
		s->under = 0;
		s->over = 0;
		s->share += p->trim * (1 - s->ewma) * s->share;
	} else {
		s->under = 0;
		s->over = 0;
	}
	if (s->share > 1)
		s->share = 1;
	if (s->share < p->min_share)
		s->share = p->min_share;
	return s->share;
}

int law_level_sheds(const struct law_level *lv, unsigned c)
{
	if (!lv->shed || c == 0 || c < lv->level)
		return 0;
	return c > lv->level || lv->frac > 0;
}

void law_weights_update(struct law_weights *lw, const double rate[CORRAL_NCLASS],
			const struct law_level *cur)
{
	for (unsigned c = 0; c < CORRAL_NCLASS; c++) {
		double r = rate[c] > 0 && isfinite(rate[c]) ? rate[c] : 0;

		if (law_level_sheds(cur, c) && lw->w[c] > r)
			continue;   /* held: the class sends less because it is shed */
		lw->w[c] = r;
	}
}

/* rates used for mapping: the offered rates, or equal weights for 1..7 */
static double weights(const double rate[CORRAL_NCLASS], double w[CORRAL_NCLASS])
{
	double total = 0;

	for (int c = 0; c < CORRAL_NCLASS; c++) {
		w[c] = rate[c] > 0 && isfinite(rate[c]) ? rate[c] : 0;
		total += w[c];
	}
	if (total > 0)
		return total;
	for (int c = 0; c < CORRAL_NCLASS; c++)
		w[c] = c ? 1 : 0;
	return CORRAL_NCLASS - 1;
}

void law_map(double share, const double rate[CORRAL_NCLASS], struct law_level *out)
{
	double w[CORRAL_NCLASS], total = weights(rate, w), budget, used;

	out->shed = 0;
	out->level = CORRAL_NCLASS - 1;
	out->frac = 0;
	if (!(share < 1))
		return;
	budget = share * total;
	used = w[0];
	if (used >= budget) {  /* class 0 alone fills it: drop all others */
		out->shed = 1;
		out->level = 0;
		return;
	}
	for (int c = 1; c < CORRAL_NCLASS; c++) {
		if (used + w[c] <= budget) {
			used += w[c];
			continue;
		}
		/* budget runs out inside class c */
		double keep = (budget - used) / w[c];
		long drop = lround((1 - keep) * CORRAL_FRAC_ONE);

		if (drop <= 0) {          /* rounds to "all of c": stop after c */
			if (c == CORRAL_NCLASS - 1)
				return;
			out->shed = 1;
			out->level = c;
			out->frac = 0;
			return;
		}
		if (drop >= CORRAL_FRAC_ONE) {  /* rounds to "none of c" */
			out->shed = 1;
			out->level = c - 1;
			out->frac = 0;
			return;
		}
		out->shed = 1;
		out->level = c;
		out->frac = (unsigned)drop;
		return;
	}
	/* everything fits: nothing to shed */
}

double law_share_of(const struct law_level *lv, const double rate[CORRAL_NCLASS])
{
	double w[CORRAL_NCLASS], total = weights(rate, w), adm = 0;

	if (!lv->shed)
		return 1.0;
	for (unsigned c = 0; c < CORRAL_NCLASS; c++) {
		if (c < lv->level || c == 0)
			adm += w[c];
		else if (c == lv->level)
			adm += w[c] * (1.0 - (double)lv->frac / CORRAL_FRAC_ONE);
	}
	return adm / total;
}

__u64 law_shed_word(const struct law_level *lv)
{
	if (!lv->shed)
		return 0;
	return CORRAL_SHED_PACK(lv->level, lv->frac, CORRAL_SCOPE_NEW,
				CORRAL_SHED_ON | CORRAL_SHED_HB);
}

void law_level_of_word(__u64 word, struct law_level *out)
{
	out->shed = !!(CORRAL_SHED_FLAGS(word) & CORRAL_SHED_ON);
	out->level = CORRAL_SHED_LEVEL(word);
	out->frac = CORRAL_SHED_FRAC(word);
	if (out->level >= CORRAL_NCLASS)
		out->level = CORRAL_NCLASS - 1;
	if (out->frac > CORRAL_FRAC_ONE)
		out->frac = CORRAL_FRAC_ONE;
	if (out->level == 0)
		out->frac = 0;  /* class 0 is never shed */
}
