/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * model.h - reference model of the corral ingress policy, written from the
 * specification (DESIGN.md section 2, the shared header and the contract
 * comments of the data plane headers). It shares the types and constants
 * of corral_shared.h and nothing else with the data plane.
 *
 * A policy is described as the operator writes it: prefix rules (allow,
 * deny, class, limit), protocol/port class rules, DSCP classes, knobs in a
 * struct corral_cfg, and the protected SYN ports. model_eval() runs one
 * frame through the pipeline (parse, lists, classify, shed, SYN gate,
 * buckets, counters) and returns the verdict and every counter delta the
 * data plane must produce.
 *
 * Two decisions are keyed hashes whose function the contract leaves open:
 * which class-L sources are shed at a fraction F, and a source's herd
 * admission offset. The model does not guess them; it learns them in a
 * struct model_oracle from the first observation (a hint) and from then on
 * holds the data plane to the contract: a source has one place u in
 * [0, CORRAL_FRAC_ONE) per shed salt and is shed at time t exactly when
 * (u - off) mod ONE < F, off = (t mod epoch) * ONE / epoch (the oracle keeps
 * the places still possible, one bit each); and a source keeps one place u
 * in [0, 1) per herd salt, its offset being floor(window_ms * u) ms for
 * every window size. The oracle also
 * sums the expected and observed shed counts for a statistical check.
 */
#ifndef CORRAL_MODEL_H
#define CORRAL_MODEL_H

#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"

#define MODEL_MAX_RULES      64
#define MODEL_MAX_PORT_RULES 16
#define MODEL_MAX_SYNPORTS   16

#define MODEL_TCP_SYN 0x02
#define MODEL_TCP_ACK 0x10

/* ICMP/ICMPv6: type, code, checksum must be present */
#define MODEL_ICMP_HLEN 4

enum model_parse {
	MODEL_P_IP = 0,
	MODEL_P_NONIP = 1,
	MODEL_P_MALFORMED = 2,
};

struct model_prefix {
	__u8 family;          /* 4 or 6 */
	__u8 plen;            /* bits of that family */
	__u8 addr[16];        /* network order; IPv4 in addr[0..3] */
};

struct model_rule {
	__u8 kind;            /* enum corral_rule_kind */
	__u8 cls;             /* CORRAL_RULE_CLASS */
	struct model_prefix pfx;
	struct corral_limit lim;  /* CORRAL_RULE_LIMIT */
};

struct model_port_rule {
	__u8 proto_idx;       /* enum corral_proto_idx */
	__u8 cls;
	__u16 lo, hi;         /* inclusive; the narrowest matching range wins,
				 the later rule among equally narrow ones */
};

struct model_policy {
	/*
	 * Knobs: mode, malformed_pass, v4_prefix, v6_prefix, key_class,
	 * default_class, salt, epoch_ns, hb_timeout_ns, dflt, dscp_class,
	 * syn_on, syn_rate, syn_burst. cfg.tables is ignored by the model
	 * (it is derived from the rules when the policy is compiled).
	 */
	struct corral_cfg cfg;
	struct model_rule rules[MODEL_MAX_RULES];
	int nrules;
	struct model_port_rule ports[MODEL_MAX_PORT_RULES];
	int nports;
	__u16 synports[MODEL_MAX_SYNPORTS];
	int nsynports;
};

/* what the parser found */
struct model_pkt {
	int result;           /* enum model_parse */
	__u8 family, l4proto, dscp, frag, has_ports, tcp_flags;
	__u16 sport, dport;
	__u8 src[16];         /* IPv4 in src[0..3] */
	int nvlan, next;      /* VLAN tags and IPv6 extension headers seen */
	const char *why;      /* reason of a malformed verdict */
};

/* learned hash decisions, shared by every model checking one data plane */
struct model_kv;
struct model_oracle {
	struct model_kv *shed;   /* (key, salt) -> index of its places in shed_u */
	void *shed_u;            /* struct ubits[]: the places each source may have */
	size_t shed_nu, shed_cu;
	struct model_kv *herd;   /* (key, herd salt) -> interval of the place u */
	/* statistics of fractional shed decisions the places left open */
	__u64 frac_decisions, frac_shed;
	double frac_expect, frac_var;
	__u64 herd_learned, herd_defer;
	__u64 conflicts;         /* a learned decision contradicted */
};

struct model {
	struct model_oracle *oracle;
	struct model_kv *buckets;   /* source key -> GCRA TATs */
	__u64 syn_tat;              /* global SYN bucket */
};

/* a frame's expected effect */
struct model_out {
	int verdict;                /* enum corral_verdict */
	int row, reason;            /* the verdict reason (counted once) */
	__u32 cls;                  /* class, or CORRAL_ROW_NONE */
	struct model_pkt pkt;
	struct corral_counter stats[CORRAL_NSTATS];  /* counter deltas */
	const char *note;           /* a learned decision that was contradicted */
};

/* hints for undetermined hash decisions: the counters the data plane produced */
struct model_hint {
	const struct corral_counter *stats;   /* CORRAL_NSTATS deltas, or NULL */
};

int model_oracle_init(struct model_oracle *o);
void model_oracle_reset(struct model_oracle *o);   /* keeps statistics */
void model_oracle_free(struct model_oracle *o);

int model_init(struct model *m, struct model_oracle *o);
/* forget per-source state (buckets, SYN bucket): a freshly loaded policy */
void model_reset(struct model *m);
void model_free(struct model *m);

/* parse a frame the way the contract says */
void model_parse(const __u8 *pkt, __u32 len, struct model_pkt *p);

/*
 * One frame. ctl holds the control words the data plane reads (shed word,
 * heartbeat, SYN word, herd start/salt) and the clock in fake_now_ns.
 * Returns 0, or -ENOMEM.
 */
int model_eval(struct model *m, const struct model_policy *pol, const struct corral_ctl *ctl,
	       const __u8 *pkt, __u32 len, const struct model_hint *hint,
	       struct model_out *out);

/* rule helpers */
int model_prefix_contains(const struct model_prefix *outer, const struct model_prefix *inner);
/* the longest rule of this kind containing the address, or NULL */
const struct model_rule *model_longest(const struct model_policy *pol, int kind, int family,
				       const __u8 *addr);
/* class of a port under the port rules, or CORRAL_CLASS_ANY */
__u8 model_port_class(const struct model_policy *pol, int proto_idx, __u16 port);

const char *model_reason_name(int reason);
/* print the policy, one rule per line, each prefixed with pfx */
void model_policy_print(const struct model_policy *pol, const char *pfx);

#endif /* CORRAL_MODEL_H */
