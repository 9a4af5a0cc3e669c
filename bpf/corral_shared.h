/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * corral_shared.h - every type and constant that the BPF programs and the
 * userspace tools both see. This is the only copy: map keys and values,
 * configuration, verdicts, classes and counter reasons.
 *
 * Conventions:
 *  - fixed-width types, explicit padding, no implicit holes;
 *  - addresses are in network byte order; IPv4 lives in addr[0] of the
 *    source key and as ::ffff:a.b.c.d (prefix length + 96) in LPM keys;
 *  - rates are per second, times are nanoseconds of CLOCK_MONOTONIC
 *    (the clock bpf_ktime_get_ns() reads).
 */
#ifndef CORRAL_SHARED_H
#define CORRAL_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- compile-time limits ------------------------------------------- */
#ifndef CORRAL_NCLASS
#define CORRAL_NCLASS 8            /* priority classes 0 (critical) .. 7 (bulk) */
#endif
#define CORRAL_ROW_NONE CORRAL_NCLASS  /* counter row for unclassified packets */
#define CORRAL_NROWS (CORRAL_NCLASS + 1)
#define CORRAL_CLASS_ANY 0xff      /* "no class" in rule tables and source keys */

#ifndef CORRAL_MAX_SOURCES
#define CORRAL_MAX_SOURCES (1u << 20)   /* default per-source bucket table size */
#endif
#ifndef CORRAL_MAX_DESTS
#define CORRAL_MAX_DESTS (1u << 16)     /* default egress per-destination table */
#endif
#ifndef CORRAL_MAX_PREFIX_RULES
#define CORRAL_MAX_PREFIX_RULES 262144  /* allow + deny + class src + limit rules */
#endif
#ifndef CORRAL_MAX_PORT_RULES
#define CORRAL_MAX_PORT_RULES 1024
#endif
#ifndef CORRAL_MAX_VLAN
#define CORRAL_MAX_VLAN 2               /* more tags than this: malformed */
#endif
#ifndef CORRAL_MAX_V6_EXT
#define CORRAL_MAX_V6_EXT 6             /* IPv6 extension headers walked */
#endif

/* port class table: index = proto_idx * 65536 + destination port */
enum corral_proto_idx {
	CORRAL_PI_TCP = 0,
	CORRAL_PI_UDP = 1,
	CORRAL_PI_ICMP = 2,
	CORRAL_PI_ICMPV6 = 3,
	CORRAL_NPROTO = 4,
};
#define CORRAL_PORT_TABLE_SIZE (CORRAL_NPROTO * 65536)

/* ---- verdicts and counter reasons ------------------------------------ */
enum corral_verdict {
	CORRAL_V_PASS = 0,
	CORRAL_V_DROP = 1,
	CORRAL_V_TX = 2,     /* the packet was rewritten into a reply: send it
			      * back out of the device it came in on */
};

/*
 * Each packet is counted once under exactly one of PASS, ALLOW, NONIP,
 * RATE, SHED, DENY, MALFORMED, SYN_DEFER, SYN_CAP, SYN_COOKIE (its verdict
 * reason).
 * In monitor mode a packet whose reason is a drop is also counted under
 * WOULD_DROP (and passes). SYN_SEEN and SYN_ADMIT are extra counts for
 * SYNs that reach the SYN gate.
 */
enum corral_reason {
	CORRAL_R_PASS = 0,
	CORRAL_R_ALLOW,
	CORRAL_R_NONIP,
	CORRAL_R_RATE,
	CORRAL_R_SHED,
	CORRAL_R_DENY,
	CORRAL_R_MALFORMED,
	CORRAL_R_WOULD_DROP,
	CORRAL_R_SYN_SEEN,
	CORRAL_R_SYN_ADMIT,
	CORRAL_R_SYN_DEFER,
	CORRAL_R_SYN_CAP,
	CORRAL_R_SYN_COOKIE,  /* a SYN answered with a cookie SYN-ACK (cfg.syn_cookies) */
	CORRAL_NREASON,
};

/* stats map: per-CPU array; key = row * CORRAL_NREASON + reason ... */
#define CORRAL_STAT_KEY(row, reason) ((row) * CORRAL_NREASON + (reason))
/* ... followed by global counters */
enum corral_gstat {
	CORRAL_G_SRC_NEW = 0,   /* per-source buckets created */
	CORRAL_G_DST_NEW,       /* per-destination (egress) buckets created */
	CORRAL_G_BUCKET_RETRY,  /* CAS retries exhausted (counted as rate drop) */
	CORRAL_G_REPLY_SENT,    /* shaping drops of a reject class answered
				 * (TCP RST, ICMP/ICMPv6 prohibited) */
	CORRAL_G_REPLY_SUPPRESSED, /* answerable, but over the reply budget (or
				    * the packet could not be resized): dropped */
	CORRAL_G_COOKIE_NONE,   /* a SYN for a cookie port that could not be
				 * answered (unanswerable address, helper error): dropped */
	CORRAL_G_COOKIE_OK,     /* ACKs whose cookie checked, handed to the listener */
	CORRAL_G_COOKIE_BAD,    /* ACKs to a listener without a valid cookie of ours */
	CORRAL_G_COOKIE_FAIL,   /* valid cookies the kernel refused as request sockets */
	CORRAL_NGSTAT,
};
#define CORRAL_GSTAT_KEY(g) (CORRAL_NROWS * CORRAL_NREASON + (g))
#define CORRAL_NSTATS (CORRAL_NROWS * CORRAL_NREASON + CORRAL_NGSTAT)

struct corral_counter {
	__u64 packets;
	__u64 bytes;
};

/* ---- modes and knobs --------------------------------------------------- */
enum corral_mode {
	CORRAL_MODE_ENFORCE = 0,
	CORRAL_MODE_MONITOR = 1,
};

enum corral_shed_scope {
	CORRAL_SCOPE_NEW = 0,   /* TCP SYN without ACK, and every non-TCP packet */
	CORRAL_SCOPE_ALL = 1,
};

/* load-time clock switch (const volatile in the BPF object) */
enum corral_clock {
	CORRAL_CLOCK_COARSE = 0,  /* bpf_ktime_get_coarse_ns(): default */
	CORRAL_CLOCK_PRECISE = 1, /* bpf_ktime_get_ns() */
	CORRAL_CLOCK_FAKE = 2,    /* corral_ctl.fake_now_ns: tests only */
};

/* ---- per-source limits -------------------------------------------------- */
/* A zero rate means "no limit" for that dimension. */
struct corral_limit {
	__u64 pkt_rate;    /* packets per second */
	__u64 pkt_burst;   /* packets */
	__u64 byte_rate;   /* bytes per second */
	__u64 byte_burst;  /* bytes */
};

/* GCRA state: theoretical arrival times, updated with compare-and-swap */
struct corral_bucket {
	__u64 tat_pkt;
	__u64 tat_byte;
};

/* per-source (ingress) and per-destination (egress) bucket key */
struct corral_src_key {
	__u32 addr[4];     /* masked to the aggregation prefix */
	__u8 family;       /* 4 or 6 */
	__u8 class;        /* CORRAL_CLASS_ANY unless the key includes the class */
	__u8 pad[2];
};

/* ---- prefix rules ------------------------------------------------------- */
/* LPM key: IPv4 as ::ffff:a.b.c.d with prefixlen = 96 + len */
struct corral_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

enum corral_list {
	CORRAL_LIST_NONE = 0,
	CORRAL_LIST_ALLOW = 1,
	CORRAL_LIST_DENY = 2,
};

#define CORRAL_POL_LIST  0x1   /* list is set */
#define CORRAL_POL_CLASS 0x2   /* class is set */
#define CORRAL_POL_LIMIT 0x4   /* limit is set */

/*
 * Compiled source policy: the value of the one LPM trie the data plane
 * reads. For every rule prefix P, userspace stores the merge of the
 * longest list rule, class rule and limit rule that contain P, so the
 * longest-prefix match on a source answers all three at once.
 */
struct corral_policy {
	__u8 flags;        /* CORRAL_POL_* */
	__u8 list;         /* enum corral_list */
	__u8 class;
	__u8 list_after;   /* the list once list_expires_ns has passed: that of
			    * the next containing list rule (enum corral_list) */
	/* prefix lengths (LPM space, IPv4 as 96 + len) of the rules this
	 * entry applies, so the data plane can count hits per rule */
	__u8 list_len, after_len, limit_len;
	__u8 pad[1];
	struct corral_limit limit;
	__u64 list_expires_ns;  /* 0: the list rule never expires */
};

/* Source of truth for prefix rules, read back by "show" commands. */
enum corral_rule_kind {
	CORRAL_RULE_ALLOW = 1,
	CORRAL_RULE_DENY = 2,
	CORRAL_RULE_CLASS = 3,
	CORRAL_RULE_LIMIT = 4,
};

struct corral_prefix_rule_key {
	__u32 kind;        /* enum corral_rule_kind */
	struct corral_lpm_key pfx;
};

/*
 * Hits of one list or limit rule, per CPU, keyed by the rule's
 * corral_prefix_rule_key. The data plane makes the entry on the rule's
 * first hit; userspace deletes it with the rule (no entry: no hits).
 */
struct corral_hits {
	__u64 packets;
	__u64 bytes;
	__u64 dropped;     /* packets this rule dropped (deny, over the limit) */
	__u64 last_ns;     /* data plane clock of the last hit */
};

struct corral_prefix_rule {
	__u8 class;        /* CORRAL_RULE_CLASS */
	__u8 pad[7];
	struct corral_limit limit;  /* CORRAL_RULE_LIMIT */
	__u64 expires_ns;  /* ALLOW/DENY with a timeout: when it goes, on the
			    * data plane's clock; 0 = never */
};

struct corral_port_rule_key {
	__u8 proto_idx;    /* enum corral_proto_idx */
	__u8 pad;
	__u16 port_lo;     /* host byte order, inclusive */
	__u16 port_hi;
	__u16 pad2;
};

/* ---- configuration ------------------------------------------------------ */
#define CORRAL_TBL_PREFIX 0x1  /* the policy trie has entries */
#define CORRAL_TBL_PORT   0x2  /* the port class table has entries */
#define CORRAL_TBL_DSCP   0x4  /* dscp_class has entries */

/*
 * Slow-changing configuration. Double-buffered: corral_cfg holds two slots
 * and corral_ctl.cfg_gen & 1 names the live one. Writers fill the other
 * slot, then flip cfg_gen with one 64-bit store.
 */
struct corral_cfg {
	__u8 mode;               /* enum corral_mode */
	__u8 malformed_pass;     /* 1: pass malformed packets (still counted) */
	__u8 v4_prefix;          /* source aggregation, 1..32 (default 32) */
	__u8 v6_prefix;          /* 1..128 (default 64) */
	__u8 key_class;          /* 1: the source key includes the class */
	__u8 default_class;      /* 0..7 */
	__u8 tables;             /* CORRAL_TBL_*: non-empty tables */
	__u8 egress_buckets;     /* 1: corral_tc_out polices per destination */
	__u64 salt;              /* shed hash key: where each source sits on the circle */
	__u64 epoch_ns;          /* one turn of the shed window (default 10 s, <= 1 day) */
	__u64 hb_timeout_ns;     /* controller heartbeat timeout (default 2 s) */
	struct corral_limit dflt;    /* default per-source limit */
	struct corral_limit egress;  /* default per-destination limit */
	__u8 dscp_class[64];     /* CORRAL_CLASS_ANY = no rule */
	/* SYN gate, static part (corral syn set); see corral_ctl.syn */
	__u8 syn_on;             /* 1: gate SYNs to ports marked in corral_synports */
	__u8 syn_herd;           /* enum corral_herd_mode */
	__u8 syn_cookies;        /* 1: answer gated SYNs with SYN cookies (enforce mode) */
	__u8 pad1[5];
	__u64 syn_rate;          /* static SYN admissions per second, 0 = no cap */
	__u64 syn_burst;         /* SYN bucket burst */
	__u64 syn_window_ns;     /* herd window, 0 = sized by the controller */
	__u64 list_expiry_ns;    /* earliest expires_ns of a timed allow/deny
				  * rule, 0 = none: when the controller (or the
				  * next command) removes the expired ones */
	/* reject action (corral class set CLASS action reject) */
	__u8 class_action[CORRAL_NCLASS]; /* enum corral_action per class */
	__u64 reply_rate;        /* global reply budget per second, 0 = no replies */
	__u64 reply_burst;       /* reply budget burst (>= 1) */
};

/* what a class does with the packets corral's shaping drops */
enum corral_action {
	CORRAL_ACTION_DROP = 0,
	CORRAL_ACTION_REJECT = 1,  /* answer: TCP RST, ICMP/ICMPv6 prohibited */
};

/* reply budget defaults: replies per second and burst */
#define CORRAL_REPLY_RATE_DEFAULT 1000
#define CORRAL_REPLY_BURST_DEFAULT 100

enum corral_herd_mode {
	CORRAL_HERD_OFF = 0,
	CORRAL_HERD_ON = 1,      /* jittered admission now, window from cfg */
	CORRAL_HERD_AUTO = 2,    /* the controller detects herds */
};

/*
 * Shed word: one 64-bit value, written with one store, never read torn.
 *  bits 0-7 level L (classes > L dropped), 8-23 fraction of class-L
 *  sources dropped in 1/10000, 24-31 scope, 32-39 flags.
 */
#define CORRAL_SHED_ON 0x1      /* shedding active */
#define CORRAL_SHED_HB 0x2      /* set by the controller: needs a fresh heartbeat */
#define CORRAL_FRAC_ONE 10000
/* longest shed epoch: (now mod epoch) * CORRAL_FRAC_ONE fits 64 bits */
#define CORRAL_EPOCH_MAX_NS (86400ULL * 1000000000ULL)
#define CORRAL_SHED_PACK(level, frac, scope, flags) \
	((__u64)((level) & 0xff) | ((__u64)((frac) & 0xffff) << 8) | \
	 ((__u64)((scope) & 0xff) << 24) | ((__u64)((flags) & 0xff) << 32))
#define CORRAL_SHED_LEVEL(w) ((__u32)((w) & 0xff))
#define CORRAL_SHED_FRAC(w)  ((__u32)(((w) >> 8) & 0xffff))
#define CORRAL_SHED_SCOPE(w) ((__u32)(((w) >> 24) & 0xff))
#define CORRAL_SHED_FLAGS(w) ((__u32)(((w) >> 32) & 0xff))

/*
 * Fast-changing control words. One element, mmapable; every field is one
 * aligned 64-bit word written with a single store.
 */
struct corral_ctl {
	__u64 shed;          /* CORRAL_SHED_PACK */
	__u64 heartbeat_ns;  /* controller tick stamp (CLOCK_MONOTONIC) */
	__u64 cfg_gen;       /* live corral_cfg slot = cfg_gen & 1 */
	__u64 syn;           /* CORRAL_SYN_PACK: dynamic SYN gate */
	__u64 fake_now_ns;   /* clock when loaded with CORRAL_CLOCK_FAKE */
	__u64 herd_start_ns; /* herd mode: admission offsets count from here */
	__u64 herd_salt;     /* herd mode: key of the offset hash */
	__u64 syn_burst;     /* burst of the active SYN word (0: cfg.syn_burst);
			      * written before the word, like herd_start_ns */
};

/*
 * SYN word: the dynamic SYN gate, set by the controller (with
 * CORRAL_SYN_HB: ignored when the heartbeat is stale) or by
 * "corral syn set ... herd on" (without). Writers store herd_start_ns and
 * herd_salt first, then this word. When the word is not active (or
 * stale), the gate runs on cfg.syn_rate/syn_burst without herd mode; while
 * it is, a non-zero ctl.syn_burst replaces cfg.syn_burst.
 *  bits 0-31 SYN rate per second (0 = no cap), 32-55 herd window in ms,
 *  56-63 flags.
 */
#define CORRAL_SYN_ACTIVE 0x1
#define CORRAL_SYN_HB     0x2
#define CORRAL_SYN_HERD   0x4
#define CORRAL_SYN_PACK(rate, window_ms, flags) \
	((__u64)((rate) & 0xffffffffULL) | ((__u64)((window_ms) & 0xffffff) << 32) | \
	 ((__u64)((flags) & 0xff) << 56))
#define CORRAL_SYN_RATE(w)      ((__u32)((w) & 0xffffffffULL))
#define CORRAL_SYN_WINDOW_MS(w) ((__u32)(((w) >> 32) & 0xffffff))
#define CORRAL_SYN_FLAGS(w)     ((__u32)(((w) >> 56) & 0xff))

/* pinned objects, under CORRAL_PIN_DIR */
#define CORRAL_PIN_DIR "/sys/fs/bpf/corral"

#endif /* CORRAL_SHARED_H */
