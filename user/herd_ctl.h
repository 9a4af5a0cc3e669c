/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * herd_ctl.h - herd detection and the SYN admission rate law.
 *
 * Pure functions of a per-tick input, so they are unit-tested on traces.
 *
 * SYN rate law (the admission capacity C, SYNs per second): it follows the
 * accept queues of the protected listeners. While SYNs are refused by the
 * cap (there is demand), the fullest queue is below q_low and no listen
 * overflow happened, C grows by ai_frac of its initial value per tick
 * (additive increase); an idle host leaves C alone. When the fullest queue is
 * above q_high or the kernel counted an overflow, C is multiplied by md
 * (multiplicative decrease), at most once per cut_hold_s: an admitted wave
 * fills the queue and it takes the service that long to drain it, so
 * cutting again on every tick of the drain would collapse C. C stays
 * within [min_rate, max_rate].
 *
 * The queue is also read in time, which a share of the backlog cannot
 * tell (a backlog of 4096 half full holds two seconds of a 1000/s
 * service, longer than clients wait). The accept rate of the listener is
 * measured while its queue is busy (admitted SYNs minus the growth of the
 * queue), and the standing queue is the shallowest depth over the last
 * trough_s. C grows only when the queue emptied in that time (the service
 * had idle moments); a standing queue of more than d_high seconds of
 * accepts cuts it like an overflow. Retries arrive in waves about a
 * second apart, so the gate admits a wave in one burst of burst_s x C,
 * bounded by the backlog (herd_burst()).
 *
 * Herd detection: a slow EWMA tracks the baseline SYN rate on protected
 * ports. A herd starts when the SYN rate exceeds detect_factor x baseline
 * and min_herd_rate, or when listen overflows appear while SYNs run above
 * baseline. The first wave (SYNs seen during the first first_wave_s after
 * the start, before clients' first retry) estimates the herd size N; the
 * admission window is N / C (at least min_window_s), so jittered admission
 * lets about C sources in per second of the window, and each retry wave
 * carries what the service can serve before the next one. The herd ends
 * when the SYN rate stays below end_factor x baseline for end_s.
 */
#ifndef CORRAL_HERD_CTL_H
#define CORRAL_HERD_CTL_H

#include <stdint.h>

/* starting SYN rate when the operator gave none (syn set without rate) */
#define HERD_DEFAULT_RATE 1000.0

struct herd_params {
	double detect_factor;   /* SYN rate over baseline that starts a herd (8) */
	double min_herd_rate;   /* ... and at least this many SYN/s (200) */
	double end_factor;      /* herd over below this x baseline (2) ... */
	double end_s;           /* ... for this long (2 s) */
	double baseline_alpha;  /* EWMA weight of the baseline per second (0.05) */
	double first_wave_s;    /* SYNs in this long after the start size the herd (0.9 s) */
	double min_window_s;    /* smallest admission window (1 s) */
	double max_window_s;    /* largest admission window (60 s) */
	double q_low;           /* accept-queue fill under which C grows (0.5) */
	double q_high;          /* fill over which C is cut (0.9) */
	double cut_hold_s;      /* no second cut within this long (1 s: a retry interval) */
	double ai_frac;         /* additive increase, share of the initial C per tick (0.02) */
	double md;              /* multiplicative decrease (0.7) */
	double min_rate;        /* C bounds, SYN/s (10, 1e6) */
	double max_rate;
	double d_high;          /* standing queue delay that cuts C (0.5 s) */
	double trough_s;        /* the standing queue: the shallowest over this long (1 s) */
	double accept_alpha;    /* EWMA weight of the accept rate per second (0.5) */
	double burst_s;         /* admission burst, seconds of C (1 s: a retry interval) */
	double burst_fill;      /* ... and at most this share of the backlog (0.9) */
};

struct herd_input {
	double dt_s;            /* tick length */
	double syns;            /* SYNs seen on protected ports this tick */
	double capped;          /* SYNs the SYN bucket refused this tick */
	double overflows;       /* ListenOverflows + ListenDrops delta this tick */
	double queue_fill;      /* fullest protected accept queue, 0..1 (-1: unknown) */
	double admitted;        /* SYNs the gate admitted this tick */
	double depth;           /* deepest protected accept queue, connections (-1: unknown) */
	uint64_t now_ns;        /* CLOCK_MONOTONIC */
};

struct herd_state {
	double rate;            /* admission capacity C, SYN/s */
	double rate0;           /* initial C (the operator's syn rate) */
	double baseline;        /* SYN/s outside herds */
	int active;             /* in herd mode */
	uint64_t start_ns;
	double first_wave;      /* SYNs counted in the first wave */
	double est_size;        /* estimated herd size N */
	uint32_t window_ms;
	double calm_s;          /* time spent under end_factor x baseline */
	uint64_t salt;          /* offset hash key of the current herd */
	int warm;               /* baseline has a first sample */
	double reported_rate;   /* C at the last HERD_EV_RATE */
	uint64_t last_cut_ns;   /* time of the last multiplicative decrease */
	uint32_t reported_window; /* window at the last HERD_EV_START/WINDOW */
	double accept_rate;     /* measured accept rate of the listener, conn/s (0: unknown) */
	double prev_depth;      /* depth at the previous tick (-1: unknown) */
	double trough;          /* shallowest depth in the current trough_s span (-1: none) */
	double trough_t;        /* time into that span */
	double standing;        /* shallowest depth of the last whole span (-1: unknown) */
};

enum herd_event {
	HERD_EV_NONE = 0,
	HERD_EV_START = 1,
	HERD_EV_END = 2,
	HERD_EV_WINDOW = 4,     /* window moved by more than 10% since last reported */
	HERD_EV_RATE = 8,       /* C moved by more than 10% since last reported */
};

void herd_params_default(struct herd_params *p);
/* initial_rate: the configured SYN rate (service capacity estimate), > 0 */
void herd_state_init(struct herd_state *s, const struct herd_params *p, double initial_rate);
/* one tick; salt is used only when a herd starts. Returns HERD_EV_* bits. */
int herd_step(const struct herd_params *p, struct herd_state *s, const struct herd_input *in,
	      uint64_t salt);
/* the SYN word (CORRAL_SYN_PACK) the controller publishes for this state */
uint64_t herd_syn_word(const struct herd_state *s);
/*
 * admission burst for C when the operator gave none: burst_s of C, at
 * most burst_fill of the listen backlog (backlog 0: unknown), at least 1
 */
uint64_t herd_burst(const struct herd_params *p, const struct herd_state *s, unsigned backlog);

#endif /* CORRAL_HERD_CTL_H */
