// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * harness.c - load the corral data plane for tests (see harness.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "corral.skel.h"
#include "handle.h"
#include "harness.h"
#include "words.h"

#define H_SALT 0x636f7272616c7431ULL   /* fixed for repeatable shed tests */
#define H_NSEC 1000000000ULL

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

const char *h_prog_name(enum h_prog p)
{
	switch (p) {
	case H_XDP:
		return "corral_xdp";
	case H_TC_IN:
		return "corral_tc_in";
	case H_TC_OUT:
		return "corral_tc_out";
	default:
		return "?";
	}
}

const char *h_reason_name(__u32 reason)
{
	return corral_reason_name(reason);
}

void h_cfg_defaults(struct corral_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = CORRAL_MODE_ENFORCE;
	c->v4_prefix = 32;
	c->v6_prefix = 64;
	c->default_class = 4;
	c->salt = H_SALT;
	c->epoch_ns = 10 * H_NSEC;
	c->hb_timeout_ns = 2 * H_NSEC;
	memset(c->dscp_class, CORRAL_CLASS_ANY, sizeof(c->dscp_class));
	c->reply_rate = CORRAL_REPLY_RATE_DEFAULT;
	c->reply_burst = CORRAL_REPLY_BURST_DEFAULT;
}

static void *map_mmap(struct bpf_map *m, size_t *szp, size_t *stridep)
{
	size_t stride = round_up(bpf_map__value_size(m), 8);
	size_t sz = round_up(stride * bpf_map__max_entries(m), sysconf(_SC_PAGESIZE));
	void *p;

	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return NULL;
	*szp = sz;
	if (stridep)
		*stridep = stride;
	return p;
}

static struct corral_cfg *cfg_slot(const struct harness *h, int slot)
{
	return (struct corral_cfg *)((char *)h->cfg + slot * h->cfg_stride);
}

int h_open(struct harness *h, const struct h_opts *o)
{
	struct h_opts dflt = { .clock_mode = -1 };
	struct corral_cfg c;
	int err;

	memset(h, 0, sizeof(*h));
	if (!o)
		o = &dflt;
	h->skel = corral_bpf__open();
	if (!h->skel) {
		err = -errno;
		fprintf(stderr, "corral: skeleton: open: %s\n", strerror(-err));
		return err;
	}
	h->skel->rodata->clock_mode = o->clock_mode < 0 ? CORRAL_CLOCK_FAKE : o->clock_mode;
	if (o->buckets_max) {
		err = bpf_map__set_max_entries(h->skel->maps.corral_buckets, o->buckets_max);
		if (err) {
			fprintf(stderr, "corral: corral_buckets: set size: %s\n", strerror(-err));
			goto fail;
		}
	}
	err = corral_bpf__load(h->skel);
	if (err) {
		fprintf(stderr, "corral: skeleton: load: %s\n", strerror(-err));
		goto fail;
	}

	h->ctl = map_mmap(h->skel->maps.corral_ctl, &h->ctl_sz, NULL);
	h->cfg = map_mmap(h->skel->maps.corral_cfg, &h->cfg_sz, &h->cfg_stride);
	h->port_cls = map_mmap(h->skel->maps.corral_port_cls, &h->port_sz, &h->port_cls_stride);
	if (!h->ctl || !h->cfg || !h->port_cls) {
		err = -errno;
		fprintf(stderr, "corral: mmap maps: %s\n", strerror(-err));
		goto fail;
	}
	h->prog_fd[H_XDP] = bpf_program__fd(h->skel->progs.corral_xdp);
	h->prog_fd[H_TC_IN] = bpf_program__fd(h->skel->progs.corral_tc_in);
	h->prog_fd[H_TC_OUT] = bpf_program__fd(h->skel->progs.corral_tc_out);
	h->stats_fd = bpf_map__fd(h->skel->maps.corral_stats);
	h->policy_fd = bpf_map__fd(h->skel->maps.corral_policy);
	h->buckets_fd = bpf_map__fd(h->skel->maps.corral_buckets);
	h->hits_fd = bpf_map__fd(h->skel->maps.corral_hits);
	h->buckets_max = bpf_map__max_entries(h->skel->maps.corral_buckets);
	h->ncpu = libbpf_num_possible_cpus();
	if (h->ncpu <= 0) {
		err = h->ncpu ? h->ncpu : -EINVAL;
		goto fail;
	}

	/* first-load initialization, as the CLI does it */
	h_cfg_defaults(&c);
	memcpy(cfg_slot(h, 0), &c, sizeof(c));
	memcpy(cfg_slot(h, 1), &c, sizeof(c));
	h_port_clear(h);
	memset(h->ctl, 0, sizeof(*h->ctl));   /* shed off, no SYN gate, cfg_gen 0 */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return 0;
fail:
	h_close(h);
	return err;
}

void h_close(struct harness *h)
{
	if (h->ctl)
		munmap(h->ctl, h->ctl_sz);
	if (h->cfg)
		munmap(h->cfg, h->cfg_sz);
	if (h->port_cls)
		munmap(h->port_cls, h->port_sz);
	corral_bpf__destroy(h->skel);
	memset(h, 0, sizeof(*h));
}

void h_cfg_get(const struct harness *h, struct corral_cfg *c)
{
	__u64 gen = __atomic_load_n(&h->ctl->cfg_gen, __ATOMIC_ACQUIRE);

	memcpy(c, cfg_slot(h, gen & 1), sizeof(*c));
}

void h_cfg_set(struct harness *h, const struct corral_cfg *c)
{
	__u64 gen = __atomic_load_n(&h->ctl->cfg_gen, __ATOMIC_ACQUIRE);

	memcpy(cfg_slot(h, (gen + 1) & 1), c, sizeof(*c));
	__atomic_store_n(&h->ctl->cfg_gen, gen + 1, __ATOMIC_RELEASE);
}

void h_set_default_limit(struct harness *h, __u64 pkt_rate, __u64 pkt_burst,
			 __u64 byte_rate, __u64 byte_burst)
{
	struct corral_cfg c;

	h_cfg_get(h, &c);
	c.dflt.pkt_rate = pkt_rate;
	c.dflt.pkt_burst = pkt_burst;
	c.dflt.byte_rate = byte_rate;
	c.dflt.byte_burst = byte_burst;
	h_cfg_set(h, &c);
}

void h_set_now(struct harness *h, __u64 ns)
{
	__atomic_store_n(&h->ctl->fake_now_ns, ns, __ATOMIC_RELEASE);
}

__u64 h_now(const struct harness *h)
{
	return __atomic_load_n(&h->ctl->fake_now_ns, __ATOMIC_ACQUIRE);
}

void h_set_shed(struct harness *h, __u64 word)
{
	__atomic_store_n(&h->ctl->shed, word, __ATOMIC_RELEASE);
}

void h_set_heartbeat(struct harness *h, __u64 ns)
{
	__atomic_store_n(&h->ctl->heartbeat_ns, ns, __ATOMIC_RELEASE);
}

static void tables_flag(struct harness *h, __u8 flag, int on)
{
	struct corral_cfg c;

	h_cfg_get(h, &c);
	if (!!(c.tables & flag) == !!on)
		return;
	if (on)
		c.tables |= flag;
	else
		c.tables &= ~flag;
	h_cfg_set(h, &c);
}

static int lpm_key(struct corral_lpm_key *k, int family, const void *addr, int plen)
{
	memset(k, 0, sizeof(*k));
	if (family == 4) {
		if (plen < 0 || plen > 32)
			return -EINVAL;
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(k->addr + 12, addr, 4);
		k->prefixlen = 96 + plen;
		return 0;
	}
	if (family == 6) {
		if (plen < 0 || plen > 128)
			return -EINVAL;
		memcpy(k->addr, addr, 16);
		k->prefixlen = plen;
		return 0;
	}
	return -EINVAL;
}

__u8 lpm_len(int family, int plen)
{
	return (__u8)(family == 4 ? 96 + plen : plen);
}

static int hits_key(struct corral_prefix_rule_key *k, __u32 kind, int family, const void *addr,
		    int plen)
{
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	return lpm_key(&k->pfx, family, addr, plen);
}

int h_hits_get(struct harness *h, __u32 kind, int family, const void *addr, int plen,
	       struct corral_hits *out)
{
	struct corral_handle hh = { .hits_fd = h->hits_fd };
	struct corral_prefix_rule_key k;
	int err = hits_key(&k, kind, family, addr, plen);

	memset(out, 0, sizeof(*out));
	return err ? err : corral_hits_read(&hh, &k, out);
}

long h_hits_count(struct harness *h)
{
	struct corral_prefix_rule_key k, next;
	void *prev = NULL;
	long n = 0;

	while (!bpf_map_get_next_key(h->hits_fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

int h_hits_clear(struct harness *h)
{
	struct corral_prefix_rule_key k;

	while (bpf_map_get_next_key(h->hits_fd, NULL, &k) == 0) {
		if (bpf_map_delete_elem(h->hits_fd, &k) && errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

int h_policy_set(struct harness *h, int family, const void *addr, int plen,
		 const struct corral_policy *pol)
{
	struct corral_lpm_key k;
	int err = lpm_key(&k, family, addr, plen);

	if (err)
		return err;
	if (bpf_map_update_elem(h->policy_fd, &k, pol, BPF_ANY))
		return -errno;
	tables_flag(h, CORRAL_TBL_PREFIX, 1);
	return 0;
}

int h_policy_del(struct harness *h, int family, const void *addr, int plen)
{
	struct corral_lpm_key k;
	int err = lpm_key(&k, family, addr, plen);

	if (err)
		return err;
	if (bpf_map_delete_elem(h->policy_fd, &k))
		return -errno;
	return 0;
}

int h_policy_clear(struct harness *h)
{
	struct corral_lpm_key k;

	while (bpf_map_get_next_key(h->policy_fd, NULL, &k) == 0) {
		if (bpf_map_delete_elem(h->policy_fd, &k) && errno != ENOENT)
			return -errno;
	}
	if (errno != ENOENT)
		return -errno;
	tables_flag(h, CORRAL_TBL_PREFIX, 0);
	return 0;
}

int h_reset(struct harness *h)
{
	struct corral_cfg c;
	int err;

	h_set_shed(h, 0);
	__atomic_store_n(&h->ctl->syn, 0, __ATOMIC_RELEASE);
	h_set_heartbeat(h, 0);
	h_set_now(h, 0);
	h_cfg_defaults(&c);
	h_cfg_set(h, &c);
	h_port_clear(h);
	err = h_policy_clear(h);
	if (!err)
		err = h_hits_clear(h);
	if (!err)
		err = h_buckets_clear(h);
	return err;
}

int h_policy_allow(struct harness *h, int family, const void *addr, int plen)
{
	struct corral_policy p = { .flags = CORRAL_POL_LIST, .list = CORRAL_LIST_ALLOW,
				   .list_len = lpm_len(family, plen) };

	return h_policy_set(h, family, addr, plen, &p);
}

int h_policy_deny(struct harness *h, int family, const void *addr, int plen)
{
	struct corral_policy p = { .flags = CORRAL_POL_LIST, .list = CORRAL_LIST_DENY,
				   .list_len = lpm_len(family, plen) };

	return h_policy_set(h, family, addr, plen, &p);
}

int h_policy_class(struct harness *h, int family, const void *addr, int plen, __u8 cls)
{
	struct corral_policy p = { .flags = CORRAL_POL_CLASS, .class = cls };

	return h_policy_set(h, family, addr, plen, &p);
}

int h_policy_limit(struct harness *h, int family, const void *addr, int plen,
		   const struct corral_limit *lim)
{
	struct corral_policy p = { .flags = CORRAL_POL_LIMIT, .limit = *lim,
				   .limit_len = lpm_len(family, plen) };

	return h_policy_set(h, family, addr, plen, &p);
}

static __u8 *port_slot(const struct harness *h, int proto_idx, __u16 port)
{
	return h->port_cls + ((size_t)proto_idx * 65536 + port) * h->port_cls_stride;
}

void h_port_set(struct harness *h, int proto_idx, __u16 lo, __u16 hi, __u8 cls)
{
	__u32 p;

	for (p = lo; p <= hi; p++)
		__atomic_store_n(port_slot(h, proto_idx, p), cls, __ATOMIC_RELAXED);
	tables_flag(h, CORRAL_TBL_PORT, 1);
}

__u8 h_port_get(const struct harness *h, int proto_idx, __u16 port)
{
	return __atomic_load_n(port_slot(h, proto_idx, port), __ATOMIC_RELAXED);
}

void h_port_clear(struct harness *h)
{
	size_t i;

	for (i = 0; i < CORRAL_PORT_TABLE_SIZE; i++)
		h->port_cls[i * h->port_cls_stride] = CORRAL_CLASS_ANY;
	tables_flag(h, CORRAL_TBL_PORT, 0);
}

void h_dscp_set(struct harness *h, __u8 dscp, __u8 cls)
{
	struct corral_cfg c;

	h_cfg_get(h, &c);
	c.dscp_class[dscp & 63] = cls;
	c.tables |= CORRAL_TBL_DSCP;
	h_cfg_set(h, &c);
}

int h_buckets_clear(struct harness *h)
{
	struct corral_src_key k;

	while (bpf_map_get_next_key(h->buckets_fd, NULL, &k) == 0) {
		if (bpf_map_delete_elem(h->buckets_fd, &k) && errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

long h_buckets_count(struct harness *h)
{
	struct corral_src_key k, next;
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(h->buckets_fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return errno == ENOENT ? n : -errno;
}

int h_run_repeat(struct harness *h, enum h_prog p, const void *pkt, __u32 len,
		 __u32 repeat, __u32 *retval, __u32 *duration_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt,
		.data_size_in = len,
		.repeat = repeat,
	);
	int err;

	if (p < 0 || p >= H_NPROG)
		return -EINVAL;
	err = bpf_prog_test_run_opts(h->prog_fd[p], &o);
	if (err)
		return -errno;
	if (retval)
		*retval = o.retval;
	if (duration_ns)
		*duration_ns = o.duration;
	return 0;
}

static int h_verdict(enum h_prog p, __u32 ret);

int h_run(struct harness *h, enum h_prog p, const void *pkt, __u32 len)
{
	__u32 ret = 0;
	int err = h_run_repeat(h, p, pkt, len, 1, &ret, NULL);

	if (err)
		return err;
	return h_verdict(p, ret);
}

int h_run_out(struct harness *h, enum h_prog p, const void *pkt, __u32 len, void *out,
	      __u32 *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = pkt,
		.data_size_in = len,
		.data_out = out,
		.data_size_out = *out_len,
		.repeat = 1,
	);

	if (p < 0 || p >= H_NPROG)
		return -EINVAL;
	if (bpf_prog_test_run_opts(h->prog_fd[p], &o))
		return -errno;
	*out_len = o.data_size_out;
	return h_verdict(p, o.retval);
}

static int h_verdict(enum h_prog p, __u32 ret)
{
	if (p == H_XDP) {
		if (ret == XDP_PASS)
			return H_PASS;
		if (ret == XDP_DROP)
			return H_DROP;
		if (ret == XDP_TX)
			return H_TX;
		return -EPROTO;
	}
	if (ret == 0)           /* TC_ACT_OK */
		return H_PASS;
	if (ret == 2)           /* TC_ACT_SHOT */
		return H_DROP;
	if (ret == 7)           /* TC_ACT_REDIRECT */
		return H_TX;
	return -EPROTO;
}

int h_stats_read(struct harness *h, struct h_stats *s)
{
	struct corral_counter *v = calloc(h->ncpu, sizeof(*v));
	__u32 k;
	int i;

	if (!v)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	for (k = 0; k < CORRAL_NSTATS; k++) {
		if (bpf_map_lookup_elem(h->stats_fd, &k, v)) {
			int err = -errno;

			free(v);
			return err;
		}
		for (i = 0; i < h->ncpu; i++) {
			s->c[k].packets += v[i].packets;
			s->c[k].bytes += v[i].bytes;
		}
	}
	free(v);
	return 0;
}

__u64 h_stat_delta(const struct h_stats *after, const struct h_stats *before, __u32 key)
{
	if (key >= CORRAL_NSTATS)
		return 0;
	return after->c[key].packets - before->c[key].packets;
}

__u64 h_pkts(const struct h_stats *after, const struct h_stats *before, __u32 row,
	     __u32 reason)
{
	return h_stat_delta(after, before, CORRAL_STAT_KEY(row, reason));
}

__u64 h_bytes(const struct h_stats *after, const struct h_stats *before, __u32 row,
	      __u32 reason)
{
	__u32 key = CORRAL_STAT_KEY(row, reason);

	if (key >= CORRAL_NSTATS)
		return 0;
	return after->c[key].bytes - before->c[key].bytes;
}

__u64 h_gstat(const struct h_stats *after, const struct h_stats *before, __u32 g)
{
	return h_stat_delta(after, before, CORRAL_GSTAT_KEY(g));
}

__u64 h_pkts_total(const struct h_stats *after, const struct h_stats *before)
{
	__u64 n = 0;
	__u32 row, r;

	for (row = 0; row < CORRAL_NROWS; row++)
		for (r = 0; r < CORRAL_NREASON; r++) {
			if (r == CORRAL_R_WOULD_DROP || r == CORRAL_R_SYN_SEEN ||
			    r == CORRAL_R_SYN_ADMIT)
				continue;
			n += h_pkts(after, before, row, r);
		}
	return n;
}
