/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * syn_cmd.h - the "syn" object: the SYN gate of protected TCP ports.
 *
 *   corral syn set ports PORTS [rate RATE] [burst N] [herd auto|on|off]
 *                  [window auto|DURATION]
 *   corral syn off
 *   corral syn show
 *
 * "syn set" describes the whole gate; an omitted word takes its default,
 * not its previous value: rate none (no static cap), burst RATE/10 (at
 * least 2: with a burst of 1 the GCRA bucket is full at every admission
 * and loses the part of a clock tick by which each SYN came late, so a
 * coarse clock would admit less than the rate), herd auto, window auto. The burst also applies to a rate the
 * controller sets. Store order: protected ports on, configuration flip
 * (cfg.syn_*), dynamic word (ctl->syn), stale ports off:
 *  - herd on: herd_start_ns = now, herd_salt = random, then ctl->syn =
 *    CORRAL_SYN_PACK(rate, window_ms, ACTIVE | HERD), without the HB flag
 *    (a manual herd does not depend on the controller). Needs a window.
 *  - herd off: ctl->syn = 0; the static rate and burst apply.
 *  - herd auto: ctl->syn is the controller's; a word without the HB flag
 *    (a manual herd) is cleared.
 * "syn off" clears syn_on, the herd mode, the dynamic word and the ports.
 */
#ifndef CORRAL_SYN_CMD_H
#define CORRAL_SYN_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"
#include "handle.h"
#include "words.h"

#define CORRAL_SYN_RATE_MAX 1000000000ull   /* 1gpps: one SYN costs >= 1 ns */
#define CORRAL_SYN_BURST_MAX 1000000000ull
#define CORRAL_SYN_WINDOW_MS_MAX 0xffffffu  /* 24 bits of the SYN word (4.6 h) */

struct corral_syn_op {
	bool off;                     /* "syn off" */
	struct corral_portset ports;  /* "syn set": the protected ports */
	__u64 rate;                   /* static SYN admissions/s, 0 = no cap */
	__u64 burst;                  /* >= 1 */
	__u8 herd;                    /* enum corral_herd_mode */
	__u64 window_ns;              /* whole milliseconds; 0 = auto */
	bool cookies;                 /* answer admitted SYNs with SYN cookies */
};

/*
 * argv[0] = "syn". 0, CORRAL_PARSE_NOT_CONFIG (show, help, an unknown
 * command) or -EINVAL with "syn: what \"word\"" in err.
 */
int corral_syn_parse(int argc, char **argv, struct corral_syn_op *op, char *err, size_t errlen);

/* the cfg.syn_* fields op sets (what corral_syn_store commits) */
void corral_syn_cfg_apply(struct corral_cfg *c, const struct corral_syn_op *op);

/*
 * Write op into a handle whose ctl, cfg and synports are mapped; the
 * caller holds the writer lock. now_ns and salt start a manual herd.
 * -ENOENT when the data plane has no corral_synports.
 */
int corral_syn_store(struct corral_handle *h, const struct corral_syn_op *op, __u64 now_ns,
		     __u64 salt, char *err, size_t errlen);

/* open, lock, store with now = CLOCK_MONOTONIC and a random salt, close */
int corral_syn_commit(const struct corral_syn_op *op, const char *where, char *err,
		      size_t errlen);

/* what the data plane's gate does now (mirrors bpf/syn.h) */
struct corral_syn_eval {
	bool on;            /* cfg.syn_on */
	bool word_active;   /* ctl->syn has CORRAL_SYN_ACTIVE */
	bool word_ctrl;     /* ... and CORRAL_SYN_HB: set by the controller */
	bool word_applied;  /* active and (manual or heartbeat fresh) */
	__u64 rate;         /* SYN/s the gate applies, 0 = no cap */
	bool herd;          /* jittered admission applied */
	__u32 window_ms;    /* herd window of the applied word */
};

void corral_syn_eval(const struct corral_cfg *c, __u64 word, __u64 hb_ns, __u64 now_ns,
		     struct corral_syn_eval *e);

const char *corral_herd_mode_name(__u8 mode);

/*
 * The gate through the print path, as an object "syn": configuration,
 * dynamic word, herd state and the SYN counters summed over classes
 * (stats: CORRAL_NSTATS counters, or NULL to leave them out).
 */
void corral_print_syn(const struct corral_handle *h, const struct corral_counter *stats);

#endif /* CORRAL_SYN_CMD_H */
