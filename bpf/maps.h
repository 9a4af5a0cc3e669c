/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - every map of the corral data plane, and the load-time switches.
 *
 * Contract: userspace pins each map as CORRAL_PIN_DIR/<map name>. Runtime
 * values live here, load-time switches are const volatile (set through
 * skel->rodata before load), compile-time limits are in corral_shared.h.
 */
#ifndef CORRAL_MAPS_H
#define CORRAL_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "corral_shared.h"

/* load-time switches */
const volatile __u32 clock_mode = CORRAL_CLOCK_COARSE;  /* enum corral_clock */

/* counters per class row x reason, then global counters; per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CORRAL_NSTATS);
	__type(key, __u32);
	__type(value, struct corral_counter);
} corral_stats SEC(".maps");

/* fast control words (shed level, heartbeat, cfg slot); one mmapable element */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct corral_ctl);
} corral_ctl SEC(".maps");

/* configuration, double-buffered: live slot = corral_ctl.cfg_gen & 1 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct corral_cfg);
} corral_cfg SEC(".maps");

/* compiled source policy: one LPM lookup answers list, class and limit */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CORRAL_MAX_PREFIX_RULES + 1);   /* + the IPv4 barrier */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct corral_lpm_key);
	__type(value, struct corral_policy);
} corral_policy SEC(".maps");

/* prefix rules as the operator wrote them (source of truth for "show") */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CORRAL_MAX_PREFIX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);   /* read by userspace only */
	__type(key, struct corral_prefix_rule_key);
	__type(value, struct corral_prefix_rule);
} corral_prules SEC(".maps");

/* hits per list and limit rule: made on a rule's first hit, removed with it */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CORRAL_MAX_PREFIX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct corral_prefix_rule_key);
	__type(value, struct corral_hits);
} corral_hits SEC(".maps");

/* protocol/port class rules as written (source of truth for "show") */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CORRAL_MAX_PORT_RULES);
	__type(key, struct corral_port_rule_key);
	__type(value, __u8);
} corral_pt_rules SEC(".maps");

/* compiled port class table: [proto_idx * 65536 + dport] -> class or ANY */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CORRAL_PORT_TABLE_SIZE);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u8);
} corral_port_cls SEC(".maps");

/* TCP ports whose SYNs go through the SYN gate: [port] -> 1 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u8);
} corral_synports SEC(".maps");

/* the global SYN admission bucket (GCRA TAT); one element */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct corral_bucket);
} corral_synbkt SEC(".maps");

/* the global reply budget of reject classes (GCRA TAT in tat_pkt); one element */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct corral_bucket);
} corral_replybkt SEC(".maps");

/* per-source GCRA buckets (size set at load) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CORRAL_MAX_SOURCES);
	__type(key, struct corral_src_key);
	__type(value, struct corral_bucket);
} corral_buckets SEC(".maps");

/* per-destination GCRA buckets for corral_tc_out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CORRAL_MAX_DESTS);
	__type(key, struct corral_src_key);
	__type(value, struct corral_bucket);
} corral_dbuckets SEC(".maps");

#endif /* CORRAL_MAPS_H */
