/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * syn.h - stage 5: SYN admission for protected ports (herd pacing).
 *
 * Contract: syn_gate() is called for TCP SYN-without-ACK packets to a port
 * marked in corral_synports and returns CORRAL_R_SYN_ADMIT, _DEFER or _CAP.
 *  - herd mode: each source key has an admission offset inside the herd
 *    window, window_ms * (hash(key, herd_salt) >> 32) / 2^32 ms: the
 *    source keeps its relative place when the controller resizes the
 *    window. A SYN before
 *    herd_start + offset is deferred (dropped: the client retries by
 *    itself); from then on the source is admitted. The offset is a pure
 *    function of the source and the herd's salt, so the gate keeps no
 *    per-source state and a spoofed SYN flood has nothing to evict.
 *  - a global GCRA bucket caps admissions at the SYN rate, with the
 *    burst of the dynamic word (ctl.syn_burst) while it is active.
 * With cookies (cfg.syn_cookies) a conforming SYN only peeks at the bucket
 * and the token goes when its ACK's cookie checks (syn_debit).
 * The dynamic word corral_ctl.syn wins while it is active and fresh;
 * otherwise the static cfg.syn_rate/syn_burst apply, without herd mode.
 */
#ifndef CORRAL_SYN_H
#define CORRAL_SYN_H

#include "shed.h"
#include "bucket.h"

static __always_inline int syn_protected(const struct corral_cfg *cfg, const struct corral_pkt *p)
{
	__u32 port;
	__u8 *on;

	if (!cfg->syn_on || p->l4proto != CORRAL_IPPROTO_TCP || !p->has_ports ||
	    (p->tcp_flags & (CORRAL_TCP_SYN | CORRAL_TCP_ACK)) != CORRAL_TCP_SYN)
		return 0;
	port = p->dport;
	on = bpf_map_lookup_elem(&corral_synports, &port);
	return on && *on;
}

/* admission offset of a source whose hash (top 32 bits) is h32 */
static __always_inline __u64 syn_offset_ns(__u64 h32, __u64 window_ms)
{
	return ((h32 * window_ms) >> 32) * 1000000ULL;
}

/* the gate's rate and burst now, 0 rate = no cap; 1 if the herd defers key */
static __always_inline int syn_params(const struct corral_cfg *cfg, struct corral_ctl *ctl,
				      const struct corral_src_key *key, __u64 now,
				      __u64 *rate, __u64 *burst)
{
	__u64 word = READ_ONCE(ctl->syn);
	__u32 flags = CORRAL_SYN_FLAGS(word);
	int defer = 0;

	*rate = cfg->syn_rate;
	*burst = cfg->syn_burst;
	if ((flags & CORRAL_SYN_ACTIVE) &&
	    (!(flags & CORRAL_SYN_HB) || ctl_word_fresh(cfg, READ_ONCE(ctl->heartbeat_ns), now))) {
		__u64 dburst = READ_ONCE(ctl->syn_burst);

		*rate = CORRAL_SYN_RATE(word);
		if (dburst)
			*burst = dburst;
		if (key && (flags & CORRAL_SYN_HERD)) {
			__u64 window_ms = CORRAL_SYN_WINDOW_MS(word);
			__u64 start = READ_ONCE(ctl->herd_start_ns);
			__u64 h = hash_src_key(key, READ_ONCE(ctl->herd_salt)) >> 32;

			defer = now < start + syn_offset_ns(h, window_ms);
		}
	}
	if (*rate && !*burst)   /* herd auto without the controller's burst */
		*burst = *rate / 10 > 2 ? *rate / 10 : 2;
	return defer;
}

/*
 * mode SYN_TAKE: a SYN that conforms takes its token (the SYN goes to the
 * listener). SYN_PEEK: it only has to conform (it is answered with a
 * cookie; its token is taken by syn_debit() when its ACK checks), so
 * spoofed SYNs never spend the admissions of real clients.
 */
enum syn_mode { SYN_TAKE = 0, SYN_PEEK = 1 };

static __always_inline __u32 syn_gate(const struct corral_cfg *cfg, struct corral_ctl *ctl,
				      const struct corral_src_key *key, __u64 now, int mode)
{
	__u64 rate, burst, cost, tat;
	struct corral_bucket *b;
	__u32 zero = 0;

	if (syn_params(cfg, ctl, key, now, &rate, &burst))
		return CORRAL_R_SYN_DEFER;
	if (!rate)
		return CORRAL_R_SYN_ADMIT;
	b = bpf_map_lookup_elem(&corral_synbkt, &zero);
	if (!b)
		return CORRAL_R_SYN_ADMIT;
	cost = CORRAL_NSEC / rate;
	if (mode == SYN_PEEK) {
		tat = READ_ONCE(b->tat_pkt);
		if ((tat > now ? tat : now) + cost - now > burst * cost)
			return CORRAL_R_SYN_CAP;
		return CORRAL_R_SYN_ADMIT;
	}
	if (gcra_take(&b->tat_pkt, now, cost, burst * cost) != GCRA_PASS)
		return CORRAL_R_SYN_CAP;
	return CORRAL_R_SYN_ADMIT;
}

/* an admission made by a checked cookie: its token, taken whatever the level */
static __always_inline void syn_debit(const struct corral_cfg *cfg, struct corral_ctl *ctl,
				      __u64 now)
{
	__u64 rate, burst;
	struct corral_bucket *b;
	__u32 zero = 0;

	syn_params(cfg, ctl, NULL, now, &rate, &burst);
	if (!rate)
		return;
	b = bpf_map_lookup_elem(&corral_synbkt, &zero);
	if (b)
		gcra_take(&b->tat_pkt, now, CORRAL_NSEC / rate, ~0ULL >> 1);
}

#endif /* CORRAL_SYN_H */
