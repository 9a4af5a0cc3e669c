/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * law.h - the control law of `corral run`, a pure function of its inputs.
 *
 * Each tick the controller hands in d, the worst normalized load signal
 * (signal / target, 1.0 = exactly on target). The law
 *  1. smooths it: e = alpha * d + (1 - alpha) * e;
 *  2. moves the admitted share s of offered traffic:
 *       e > 1 + band:  over target.
 *         d > 1 + big and no cut in the last `hold` ticks:
 *                      s_hi = s; s *= max(1 - md * (d - 1) / d, md_floor)
 *                      (Breakwater's decrease, sized by the newest sample:
 *                      with md = 1 one cut brings a proportional signal
 *                      back to target; then `hold` ticks for the load, and
 *                      the retries of what was refused, to answer; only
 *                      `hold_floored` ticks when md_floor bounded the cut,
 *                      which is then known to fall short)
 *         otherwise:   s *= max(1 - g * (e - 1) / e, md_floor), g = trim,
 *                      and once the hold of the last cut has passed
 *                      g = trim * (1 + accel * (n - 1)), n = ticks over in
 *                      a row: small steps that average the signal's noise
 *                      out near the target, and still walk a saturated
 *                      signal (CPU reads at most 1 / target) down
 *       e < 1 - big:   far under. While s is more than `gap` under s_hi
 *                      (the share of the last cut), close the fraction
 *                      `ret` of the distance, stopping `gap` short of s_hi;
 *                      above that, s += ai * (1 + accel * n), n = ticks in a
 *                      row there (DAGOR's additive increase, faster the
 *                      longer the host stays idle)
 *       e < 1 - band:  s += trim * (1 - e) * s                 (small step up)
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
	double md;         /* share of a cut's full correction      default 1.0  */
	double md_floor;   /* smallest factor of one cut            default 0.5  */
	unsigned hold;     /* ticks from one cut to the next        default 10   */
	unsigned hold_floored; /* the same after a cut md_floor bounded  3       */
	double ret;        /* share of the way back to s_hi a tick  default 0.25 */
	double gap;        /* the return stops this far under s_hi  default 0.02 */
	double ai;         /* additive increase per tick            default 0.01 */
	double accel;      /* ai (trim) grows by this per tick under (over) 0.25 */
	double min_share;  /* lower bound of the admitted share     default 0.02 */
	double band;       /* hold while |e - 1| <= band            default 0.05 */
	double big;        /* d > 1 + big cuts; e < 1 - big returns default 0.3  */
	double trim;       /* gain of the small steps near target   default 0.05 */
};

struct law_state {
	double ewma;       /* smoothed normalized signal */
	double share;      /* admitted share of offered traffic, [min_share, 1] */
	double share_hi;   /* the share at the last cut (known to overload) */
	unsigned since_cut;/* ticks since the last cut */
	unsigned hold_now; /* hold or hold_floored, as the last cut was */
	unsigned under;    /* ticks in a row under target, above s_hi - gap */
	unsigned over;     /* ticks in a row over target */
	int primed;        /* ewma holds a sample */
};

/*
 * Weights of the classes for mapping. The shed stage drops the new flows of
 * shed sources, so the packets a shed class still sends (retried SYNs, the
 * admitted flows) understate what it offers, and each cut would make the
 * classes kept look bigger. A class the current level sheds keeps the
 * largest rate seen for it since its shedding began; a class not shed
 * follows its measured rate.
 */
struct law_weights {
	double w[CORRAL_NCLASS];
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
/* weights after a tick: rate measured, cur the level in force while it was */
void law_weights_update(struct law_weights *lw, const double rate[CORRAL_NCLASS],
			const struct law_level *cur);
/* 1 when lv drops some of class c's new flows */
int law_level_sheds(const struct law_level *lv, unsigned c);
/* the inverse: share of offered traffic a level admits (adopting a level) */
double law_share_of(const struct law_level *lv, const double rate[CORRAL_NCLASS]);
/* the shed word the controller publishes (0 when nothing is shed) */
__u64 law_shed_word(const struct law_level *lv);
/* decode a shed word into a level (flags ignored) */
void law_level_of_word(__u64 word, struct law_level *out);

#endif /* CORRAL_LAW_H */
