/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * handle.h - access to a loaded corral: the pinned maps, the mmapped
 * control and configuration words, the writer lock.
 *
 * Contract:
 *  - corral_handle_open() opens every pin under the pin directory
 *    (corral_pin_dir()); -ENOENT when corral is not loaded.
 *  - Writers take corral_lock() before a read-modify-write of the
 *    configuration or the rule maps; the lock is released on close.
 *  - The configuration is double-buffered. Never write the live slot:
 *    corral_cfg_begin() copies it, corral_cfg_commit() writes the other
 *    slot and flips ctl->cfg_gen with one 64-bit store.
 *  - ctl words (shed, heartbeat, syn) are written with single atomic stores.
 *  - corral_synports is optional (an older data plane has none): synports
 *    is NULL and synports_fd -1 when it is not pinned. So is corral_hits.
 */
#ifndef CORRAL_HANDLE_H
#define CORRAL_HANDLE_H

#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"

/* value of the userspace device registry (pinned as corral_devs) */
struct corral_dev {
	char ifname[16];
	__u32 mode;       /* enum corral_attach_mode */
	__u32 egress;     /* 1: corral_tc_out attached on tc egress */
};

enum corral_attach_mode {
	CORRAL_ATTACH_XDP = 0,
	CORRAL_ATTACH_XDP_GENERIC = 1,
	CORRAL_ATTACH_TC = 2,
};

#define CORRAL_DEVS_MAX 256
#define CORRAL_RUN_DIR "/run/corral"

struct corral_handle {
	int stats_fd, ctl_fd, cfg_fd, policy_fd, prules_fd, pt_rules_fd, port_cls_fd,
	    buckets_fd, dbuckets_fd, devs_fd;
	struct corral_ctl *ctl;     /* mmap of corral_ctl (BPF_F_MMAPABLE) */
	struct corral_cfg *cfg;     /* mmap of corral_cfg, 2 slots */
	__u8 *port_cls;             /* mmap of corral_port_cls; see CORRAL_PORT_CLS() */
	int lock_fd;
	int synports_fd, synbkt_fd; /* -1 when not pinned */
	int hits_fd;                /* corral_hits; -1 when not pinned */
	__u8 *synports;             /* mmap of corral_synports, NULL when not pinned;
				       see CORRAL_SYNPORT() */
	/* private: mapping sizes and element strides */
	size_t ctl_len, cfg_len, port_cls_len, synports_len;
	size_t cfg_stride;          /* bytes between the two cfg slots */
	size_t port_cls_stride;     /* bytes between port_cls elements (8: array
				       values are 8-byte aligned) */
	size_t synports_stride;     /* the same for corral_synports */
};

/*
 * Element idx (proto_idx * 65536 + port) of the mmapped port class table.
 * Array map elements are rounded up to 8 bytes, so the stride is not 1.
 */
#define CORRAL_PORT_CLS(h, idx) ((h)->port_cls[(size_t)(idx) * (h)->port_cls_stride])
/* element port (0..65535) of the mmapped corral_synports: 1 = SYNs gated */
#define CORRAL_SYNPORT(h, port) ((h)->synports[(size_t)(port) * (h)->synports_stride])

/* pin directory: $CORRAL_PIN_DIR if set (tests), else CORRAL_PIN_DIR */
const char *corral_pin_dir(void);
/* "<pin dir>/<name>" into buf; -ENAMETOOLONG if it does not fit */
int corral_pin_path(char *buf, size_t len, const char *name);

int  corral_handle_open(struct corral_handle *h);  /* open pins; -ENOENT when not loaded */
/* the same without corral_devs (the loader, before the registry exists) */
int  corral_handle_open_maps(struct corral_handle *h);
void corral_handle_close(struct corral_handle *h);
int  corral_lock(struct corral_handle *h);          /* flock, serializes writers */
/* the same lock without a handle (loader): fd >= 0, close() releases */
int  corral_lock_acquire(void);
/* CORRAL_RUN_DIR "/lock" + pin directory with '/' as '_' */
int  corral_lock_path(char *buf, size_t len);
/* unlink the lock file; call it holding the lock (lockers then re-create it) */
int  corral_lock_remove(void);
/* run directory (controller status): $CORRAL_RUN_DIR if set, else CORRAL_RUN_DIR */
const char *corral_run_dir(void);
const struct corral_cfg *corral_cfg_live(const struct corral_handle *h);
void corral_cfg_begin(const struct corral_handle *h, struct corral_cfg *scratch); /* copy of live */
int  corral_cfg_commit(struct corral_handle *h, const struct corral_cfg *c); /* other slot, flip cfg_gen */
int  corral_stats_read(const struct corral_handle *h, struct corral_counter out[CORRAL_NSTATS]); /* summed over CPUs */
/* hit counters of one list or limit rule, summed over CPUs (last_ns: the
 * latest); -ENOENT (out zeroed) when it was not hit or corral_hits is not
 * pinned (hits_fd < 0) */
int  corral_hits_read(const struct corral_handle *h, const struct corral_prefix_rule_key *k,
		      struct corral_hits *out);
int  corral_sources_count(const struct corral_handle *h, __u64 *n); /* keys in corral_buckets */
void corral_shed_write(struct corral_handle *h, __u64 word);   /* one 64-bit store */
__u64 corral_shed_read(const struct corral_handle *h);
void corral_syn_write(struct corral_handle *h, __u64 word);    /* ctl->syn, one 64-bit store */
__u64 corral_syn_read(const struct corral_handle *h);
void corral_heartbeat(struct corral_handle *h);                /* ctl->heartbeat_ns = now */
__u64 corral_now_ns(void);                                     /* CLOCK_MONOTONIC */
/* the data plane's clock: its fake clock when loaded with one, else corral_now_ns() */
__u64 corral_dp_now(const struct corral_handle *h);

/* mmap an mmapable array map fd whole; length in *len. NULL + errno on failure */
void *corral_map_mmap(int fd, size_t *len, __u32 *value_size, __u32 *max_entries);

#endif /* CORRAL_HANDLE_H */
