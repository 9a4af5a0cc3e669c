/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * harness.h - load the corral data plane for BPF_PROG_TEST_RUN tests and
 * benchmarks, without pinning anything.
 *
 * h_open() opens build/corral.skel.h's corral_bpf, sets the clock mode
 * (default CORRAL_CLOCK_FAKE) and the bucket table size, loads it, mmaps
 * corral_ctl, corral_cfg and corral_port_cls, and initializes the maps the
 * way the CLI does on first load: cfg slot 0 = h_cfg_defaults() (enforce,
 * v4 /32, v6 /64, default class 4, epoch 10 s, heartbeat timeout 2 s, a
 * fixed salt, no DSCP rules, no limits), cfg_gen 0, every port class
 * CORRAL_CLASS_ANY.
 *
 * Configuration changes go through the double buffer: h_cfg_get() copies
 * the live slot, h_cfg_set() writes the other slot and then bumps cfg_gen
 * with one 64-bit store. Policy entries are written straight into the
 * compiled corral_policy trie (IPv4 as ::ffff:a.b.c.d/96+len).
 *
 * Functions return 0 or a negative errno; h_run() returns H_PASS, H_DROP, H_TX
 * or a negative errno (also for a return code that is neither).
 */
#ifndef CORRAL_TEST_HARNESS_H
#define CORRAL_TEST_HARNESS_H

#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"

struct corral_bpf;

enum h_prog {
	H_XDP = 0,     /* corral_xdp */
	H_TC_IN = 1,   /* corral_tc_in */
	H_TC_OUT = 2,  /* corral_tc_out */
	H_NPROG,
};

enum h_verdict {
	H_PASS = 0,
	H_DROP = 1,
	H_TX = 2,      /* XDP_TX, or a tc redirect out of the same device */
};

struct h_opts {
	int clock_mode;          /* enum corral_clock; -1 = CORRAL_CLOCK_FAKE */
	__u32 buckets_max;       /* corral_buckets size; 0 = as compiled (1M) */
};

struct harness {
	struct corral_bpf *skel;
	struct corral_ctl *ctl;          /* mmapped, one element */
	struct corral_cfg *cfg;          /* mmapped, two slots */
	__u8 *port_cls;                  /* mmapped, stride port_cls_stride */
	size_t ctl_sz, cfg_sz, port_sz, cfg_stride, port_cls_stride;
	int prog_fd[H_NPROG];
	int stats_fd, policy_fd, buckets_fd, hits_fd;
	int ncpu;                        /* libbpf_num_possible_cpus() */
	__u32 buckets_max;               /* corral_buckets size as loaded */
};

/* counters summed over CPUs */
struct h_stats {
	struct corral_counter c[CORRAL_NSTATS];
};

const char *h_prog_name(enum h_prog p);

int h_open(struct harness *h, const struct h_opts *o);
void h_close(struct harness *h);

/*
 * back to the state h_open() leaves: default config, empty policy trie and
 * hit counters,
 * port table and bucket table, control words zero (counters are kept:
 * tests compare snapshots)
 */
int h_reset(struct harness *h);

/* the defaults h_open() writes into cfg slot 0 */
void h_cfg_defaults(struct corral_cfg *c);
/* copy of the live configuration */
void h_cfg_get(const struct harness *h, struct corral_cfg *c);
/* publish c: write the idle slot, then flip cfg_gen */
void h_cfg_set(struct harness *h, const struct corral_cfg *c);
/* convenience: change one field set of the default limit */
void h_set_default_limit(struct harness *h, __u64 pkt_rate, __u64 pkt_burst,
			 __u64 byte_rate, __u64 byte_burst);

/* control words (single 64-bit stores) */
void h_set_now(struct harness *h, __u64 ns);
__u64 h_now(const struct harness *h);
void h_set_shed(struct harness *h, __u64 word);
void h_set_heartbeat(struct harness *h, __u64 ns);

/*
 * Prefix policy: family 4 (addr = 4 bytes, network order) or 6 (16 bytes),
 * plen in bits of that family. Sets CORRAL_TBL_PREFIX in the live config.
 */
int h_policy_set(struct harness *h, int family, const void *addr, int plen,
		 const struct corral_policy *pol);
int h_policy_del(struct harness *h, int family, const void *addr, int plen);
/* empty the trie and clear CORRAL_TBL_PREFIX */
int h_policy_clear(struct harness *h);
int h_policy_allow(struct harness *h, int family, const void *addr, int plen);
int h_policy_deny(struct harness *h, int family, const void *addr, int plen);
int h_policy_class(struct harness *h, int family, const void *addr, int plen, __u8 cls);
int h_policy_limit(struct harness *h, int family, const void *addr, int plen,
		   const struct corral_limit *lim);

/*
 * Hit counters per rule (corral_hits), keyed like the CLI keys them: kind
 * (enum corral_rule_kind) and the rule's prefix. h_hits_get() sums the
 * CPUs (-ENOENT without an entry: the rule was not hit). lpm_len() is a
 * prefix length in the trie's space (IPv4: 96 + plen), as list_len /
 * limit_len want it.
 */
__u8 lpm_len(int family, int plen);
int h_hits_get(struct harness *h, __u32 kind, int family, const void *addr, int plen,
	       struct corral_hits *out);
long h_hits_count(struct harness *h);
int h_hits_clear(struct harness *h);

/* port class table: ports lo..hi (inclusive) of proto_idx -> cls; sets CORRAL_TBL_PORT */
void h_port_set(struct harness *h, int proto_idx, __u16 lo, __u16 hi, __u8 cls);
__u8 h_port_get(const struct harness *h, int proto_idx, __u16 port);
/* all ports back to CORRAL_CLASS_ANY, CORRAL_TBL_PORT cleared */
void h_port_clear(struct harness *h);

/* DSCP class (sets CORRAL_TBL_DSCP) */
void h_dscp_set(struct harness *h, __u8 dscp, __u8 cls);

/* empty the per-source bucket table */
int h_buckets_clear(struct harness *h);
/* number of entries in the per-source bucket table (walks it) */
long h_buckets_count(struct harness *h);

/* one packet through a program: H_PASS / H_DROP or -errno */
int h_run(struct harness *h, enum h_prog p, const void *pkt, __u32 len);
/*
 * one packet through a program, and the packet as the program left it:
 * *out_len is the size of out on entry and the output length on return
 * (-ENOSPC when out is too small). Returns H_PASS / H_DROP / H_TX or -errno.
 */
int h_run_out(struct harness *h, enum h_prog p, const void *pkt, __u32 len, void *out,
	      __u32 *out_len);
/* the same packet repeat times in one call; *retval = last return code */
int h_run_repeat(struct harness *h, enum h_prog p, const void *pkt, __u32 len,
		 __u32 repeat, __u32 *retval, __u32 *duration_ns);

/* counters */
int h_stats_read(struct harness *h, struct h_stats *s);
/* after - before for one counter */
__u64 h_stat_delta(const struct h_stats *after, const struct h_stats *before, __u32 key);
/* packets of row x reason between two snapshots */
__u64 h_pkts(const struct h_stats *after, const struct h_stats *before, __u32 row,
	     __u32 reason);
__u64 h_bytes(const struct h_stats *after, const struct h_stats *before, __u32 row,
	      __u32 reason);
__u64 h_gstat(const struct h_stats *after, const struct h_stats *before, __u32 g);
/* sum of packets over every row and reason except would-drop/SYN extras */
__u64 h_pkts_total(const struct h_stats *after, const struct h_stats *before);

const char *h_reason_name(__u32 reason);

#endif /* CORRAL_TEST_HARNESS_H */
