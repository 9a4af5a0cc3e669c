/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * state.h - configuration commands as data: parse -> struct corral_op ->
 * apply to an in-memory struct corral_state -> store into the maps.
 *
 * Parsing and applying touch no kernel object, so a batch is checked whole
 * (every line parsed, then every op applied to a copy of the loaded state)
 * before corral_state_store() writes anything. Store writes new entries
 * first, flips the configuration, then deletes stale entries.
 */
#ifndef CORRAL_STATE_H
#define CORRAL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include "corral_shared.h"
#include "compile.h"
#include "handle.h"
#include "words.h"

enum corral_op_kind {
	CORRAL_OP_MODE_SET = 1,
	CORRAL_OP_AGGREGATE_SET,
	CORRAL_OP_LIMIT_ADD,
	CORRAL_OP_LIMIT_DEL,
	CORRAL_OP_CLASS_ADD,
	CORRAL_OP_CLASS_DEL,
	CORRAL_OP_CLASS_DEFAULT,
	CORRAL_OP_ALLOW_ADD,
	CORRAL_OP_ALLOW_DEL,
	CORRAL_OP_DENY_ADD,
	CORRAL_OP_DENY_DEL,
	CORRAL_OP_SHED_SET,
	CORRAL_OP_SHED_OFF,
	CORRAL_OP_SHED_TUNE,
	CORRAL_OP_CLASS_ACTION,    /* class set CLASS action drop|reject */
	CORRAL_OP_CLASS_REPLY,     /* class reply rate RATE [burst N] */
};

enum corral_limit_target {
	CORRAL_LT_DEFAULT = 0,
	CORRAL_LT_EGRESS,
	CORRAL_LT_PREFIX,
};

enum corral_class_sel {
	CORRAL_CS_PROTO = 0,
	CORRAL_CS_SRC,
	CORRAL_CS_DSCP,
};

struct corral_op {
	enum corral_op_kind kind;
	union {
		struct {
			int mode;            /* -1: unchanged */
			int malformed_pass;  /* -1: unchanged */
		} mode;
		struct {
			int v4, v6, key_class;  /* -1: unchanged */
		} agg;
		struct {
			enum corral_limit_target target;
			struct corral_prefix pfx;
			struct corral_limit lim;
		} limit;
		struct {
			enum corral_class_sel sel;
			__u8 cls;
			__u8 proto_idx;
			__u8 dscp;
			__u16 lo, hi;
			struct corral_prefix pfx;
			__u8 action;         /* CORRAL_OP_CLASS_ACTION: enum corral_action */
		} cls;
		struct {
			__u64 rate, burst;   /* replies per second (> 0), burst (> 0) */
		} reply;
		struct {
			struct corral_prefix pfx;
			__u64 timeout_ns;    /* add: 0 = no timeout */
		} list;
		struct {
			__u64 word;
		} shed;
		struct {
			__u64 epoch_ns, timeout_ns;  /* 0: unchanged */
		} tune;
	};
};

struct corral_state {
	struct corral_cfg cfg;
	__u64 now_ns;          /* the data plane's clock at load: timeouts start here */
	__u64 shed;
	bool shed_dirty;
	struct corral_prule *pr;
	size_t npr, pr_cap;
	/* hash index of pr by key (index + 1, 0 = empty; linear probing), built
	 * on the first lookup: 100K rules in one batch stay linear, not square */
	__u32 *pidx;
	size_t pidx_cap;
	bool pidx_ok;
	struct corral_ptrule *pt;
	size_t npt, pt_cap;
};

#define CORRAL_LIST_TIMEOUT_MAX_NS (366ull * 86400ull * 1000000000ull)

/* return values of corral_op_parse() */
#define CORRAL_PARSE_OK 0
#define CORRAL_PARSE_NOT_CONFIG 1  /* a show/help/other command, not an op */

/*
 * Parse argv (argv[0] = object word) into op. 0, CORRAL_PARSE_NOT_CONFIG,
 * or -EINVAL with "object: what \"word\"" in err.
 */
int corral_op_parse(int argc, char **argv, struct corral_op *op, char *err, size_t errlen);

void corral_cfg_defaults(struct corral_cfg *c);  /* salt left 0 */
int  corral_state_init(struct corral_state *s);  /* empty rules, default cfg */
void corral_state_free(struct corral_state *s);
int  corral_state_apply(struct corral_state *s, const struct corral_op *op,
			char *err, size_t errlen);
/* CORRAL_TBL_* flags the state's tables call for */
__u8 corral_state_tables(const struct corral_state *s);

/* load, leaving out timed allow/deny rules that have expired (a store then
 * removes them from the maps) */
int corral_state_load(const struct corral_handle *h, struct corral_state *s);
int corral_state_store(struct corral_handle *h, struct corral_state *s,
		       char *err, size_t errlen);

/*
 * What corral_ops_commit would say, changing nothing: ops applied in memory
 * to the loaded state, or (when nothing is loaded and loaded is true: the
 * same file attaches a device first) to a fresh default state.
 */
int corral_ops_check(const struct corral_op *ops, size_t n, const char *const *where,
		     bool loaded, char *err, size_t errlen);
/* lock, load, apply ops in order, store: the whole of a config command */
int corral_ops_commit(const struct corral_op *ops, size_t n, const char *const *where,
		      char *err, size_t errlen);

#endif /* CORRAL_STATE_H */
