/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * law.h - the control law of `corral run`, a pure function of its inputs.
 *
 * Each tick the controller hands in d, the worst normalized load signal
 * (signal / target, 1.0 = exactly on target). The law
 *  1. smooths it: e = alpha * d + (1 - alpha) * e;
 *  2. moves the admitted share s of offered traffic:
 *       e > 1 + band:  s *= max(1 - md * (e - 1), md_floor)   (Breakwater)
 *       e < 1 - band:  s += ai                                 (DAGOR)
 *       otherwise:     s holds                                 (hysteresis)
 *     and clamps s to [min_share, 1];
 *  3. maps s to a shed level L.F with the per-class offered rates: classes
 *     are admitted from 0 upward until s * total is used; L is the class
 *     where the budget runs out, F the fraction of its sources dropped.
 *     Class 0 is never shed: a budget smaller than class 0 gives L = 0,
 *     F = 0 (every other class dropped, class 0 untouched).
 */
#ifndef CORRAL_LAW_H
#define CORRAL_LAW_H

#include <linux/types.h>
#include "corral_shared.h"

struct law_params {
	double alpha;      /* EWMA weight of the newest sample      default 0.5  */
	double md;         /* decrease per unit of overshoot        default 0.8  */
	double md_floor;   /* smallest factor of one cut            default 0.5  */
	double ai;         /* additive increase per tick            default 0.02 */
	double min_share;  /* lower bound of the admitted share     default 0.02 */
	double band;       /* hold while |e - 1| <= band            default 0.05 */
};

struct law_state {
	double ewma;       /* smoothed normalized signal */
	double share;      /* admitted share of offered traffic, [min_share, 1] */
	int primed;        /* ewma holds a sample */
};

/* a shed decision: shed == 0 means nothing is shed */
struct law_level {
	int shed;
	unsigned level;    /* 0..7: classes above are dropped */
	unsigned frac;     /* 1/10000 of class-level sources dropped */
};

void law_params_default(struct law_params *p);
/* -EINVAL when a parameter is out of its range */
int law_params_check(const struct law_params *p);
void law_init(struct law_state *s);
/* one tick with normalized signal d (>= 0); returns the new share */
double law_step(const struct law_params *p, struct law_state *s, double d);

/*
 * Map an admitted share to a level with per-class offered rates (any
 * unit, >= 0). With no traffic at all, classes 1..7 weigh equally.
 */
void law_map(double share, const double rate[CORRAL_NCLASS], struct law_level *out);
/* the inverse: share of offered traffic a level admits (adopting a level) */
double law_share_of(const struct law_level *lv, const double rate[CORRAL_NCLASS]);
/* the shed word the controller publishes (0 when nothing is shed) */
__u64 law_shed_word(const struct law_level *lv);
/* decode a shed word into a level (flags ignored) */
void law_level_of_word(__u64 word, struct law_level *out);

#endif /* CORRAL_LAW_H */
