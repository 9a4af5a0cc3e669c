/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shed.h - stage 4: priority shedding by the shed word L.F.
 *
 * Contract: shed_decide() returns 1 to drop. Classes above L are dropped;
 * in class L the fraction F of *sources* is dropped. A keyed hash places
 * each source at u in [0, CORRAL_FRAC_ONE); a window of width F slides
 * around that circle once per cfg->epoch_ns, and the sources inside it are
 * dropped: (u - off) mod ONE < F with off = (now mod epoch) * ONE / epoch.
 * Every source is dropped for F of each epoch, in one stretch, and the
 * sources going in and out are spread evenly over time: no moment swaps the
 * whole set (a swap would release the pending SYN retries of every source
 * shed until then in one burst). Class 0 is never shed. With scope
 * "new" only TCP SYN without ACK and non-TCP packets are shed. A shed word
 * set by the controller (CORRAL_SHED_HB) is ignored once the heartbeat is
 * older than cfg->hb_timeout_ns: a dead controller never leaves a host
 * shedding.
 */
#ifndef CORRAL_SHED_H
#define CORRAL_SHED_H

#include "parse.h"

/* 64-bit finalizer: every input bit affects every output bit */
static __always_inline __u64 hash_mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static __always_inline __u64 hash_src_key(const struct corral_src_key *k, __u64 salt)
{
	__u64 h;

	h = hash_mix64(salt ^ ((__u64)k->addr[0] | ((__u64)k->addr[1] << 32)));
	h = hash_mix64(h ^ ((__u64)k->addr[2] | ((__u64)k->addr[3] << 32)));
	return hash_mix64(h ^ ((__u64)k->family | ((__u64)k->class << 8)));
}

/* where the shed window starts at now, in 1/CORRAL_FRAC_ONE of the circle */
static __always_inline __u64 shed_offset(const struct corral_cfg *cfg, __u64 now)
{
	__u64 e = cfg->epoch_ns;

	return e ? (now % e) * CORRAL_FRAC_ONE / e : 0;
}

/* controller-owned words go stale when the heartbeat stops */
static __always_inline int ctl_word_fresh(const struct corral_cfg *cfg, __u64 hb, __u64 now)
{
	return !cfg->hb_timeout_ns || now <= hb || now - hb <= cfg->hb_timeout_ns;
}

static __always_inline int shed_decide(const struct corral_cfg *cfg, __u64 word,
				       __u64 hb, __u64 now, __u8 class,
				       const struct corral_src_key *key,
				       const struct corral_pkt *p)
{
	__u32 flags = CORRAL_SHED_FLAGS(word), level, frac;

	if (!(flags & CORRAL_SHED_ON) || class == 0)
		return 0;
	if ((flags & CORRAL_SHED_HB) && !ctl_word_fresh(cfg, hb, now))
		return 0;
	if (CORRAL_SHED_SCOPE(word) == CORRAL_SCOPE_NEW &&
	    p->l4proto == CORRAL_IPPROTO_TCP &&
	    (p->frag || (p->tcp_flags & (CORRAL_TCP_SYN | CORRAL_TCP_ACK)) != CORRAL_TCP_SYN))
		return 0;
	level = CORRAL_SHED_LEVEL(word);
	if (class < level)
		return 0;
	if (class > level)
		return 1;
	frac = CORRAL_SHED_FRAC(word);
	if (!frac)
		return 0;
	if (frac >= CORRAL_FRAC_ONE)
		return 1;
	return (hash_src_key(key, cfg->salt) % CORRAL_FRAC_ONE + CORRAL_FRAC_ONE -
		shed_offset(cfg, now)) % CORRAL_FRAC_ONE < frac;
}

#endif /* CORRAL_SHED_H */
