// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * handle.c - open the pinned maps of a loaded corral and read/write its
 * control words and configuration.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "handle.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524   /* kernel-internal "operation not supported" */
#endif

const char *corral_pin_dir(void)
{
	const char *d = getenv("CORRAL_PIN_DIR");

	return d && *d ? d : CORRAL_PIN_DIR;
}

int corral_pin_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", corral_pin_dir(), name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

__u64 corral_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

__u64 corral_dp_now(const struct corral_handle *h)
{
	__u64 f = h && h->ctl ? __atomic_load_n(&h->ctl->fake_now_ns, __ATOMIC_ACQUIRE) : 0;

	return f ? f : corral_now_ns();
}

static int pin_open(const char *name)
{
	char path[256];
	int fd, err;

	err = corral_pin_path(path, sizeof(path), name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	return fd;
}

void *corral_map_mmap(int fd, size_t *len, __u32 *value_size, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), sz;
	void *p;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return NULL;
	if (!(info.map_flags & BPF_F_MMAPABLE)) {
		errno = EINVAL;
		return NULL;
	}
	sz = (size_t)((info.value_size + 7) & ~7u) * info.max_entries;
	sz = (sz + pg - 1) & ~(pg - 1);
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*len = sz;
	if (value_size)
		*value_size = info.value_size;
	if (max_entries)
		*max_entries = info.max_entries;
	return p;
}

static void handle_init(struct corral_handle *h)
{
	memset(h, 0, sizeof(*h));
	h->stats_fd = h->ctl_fd = h->cfg_fd = h->policy_fd = h->prules_fd = -1;
	h->pt_rules_fd = h->port_cls_fd = h->buckets_fd = h->dbuckets_fd = -1;
	h->devs_fd = h->lock_fd = h->synports_fd = h->synbkt_fd = h->hits_fd = -1;
}

static int handle_open(struct corral_handle *h, bool devs)
{
	struct {
		int *fd;
		const char *name;
	} pins[] = {
		{ &h->stats_fd, "corral_stats" },
		{ &h->ctl_fd, "corral_ctl" },
		{ &h->cfg_fd, "corral_cfg" },
		{ &h->policy_fd, "corral_policy" },
		{ &h->prules_fd, "corral_prules" },
		{ &h->pt_rules_fd, "corral_pt_rules" },
		{ &h->port_cls_fd, "corral_port_cls" },
		{ &h->buckets_fd, "corral_buckets" },
		{ &h->dbuckets_fd, "corral_dbuckets" },
		{ &h->devs_fd, "corral_devs" },
	};
	__u32 vsz, n;
	void *p;
	size_t i;
	int err;

	handle_init(h);
	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (!devs && pins[i].fd == &h->devs_fd)
			continue;
		*pins[i].fd = pin_open(pins[i].name);
		if (*pins[i].fd < 0) {
			err = *pins[i].fd;
			*pins[i].fd = -1;
			goto fail;
		}
	}

	/* optional maps */
	h->synports_fd = pin_open("corral_synports");
	if (h->synports_fd < 0)
		h->synports_fd = -1;
	h->synbkt_fd = pin_open("corral_synbkt");
	if (h->synbkt_fd < 0)
		h->synbkt_fd = -1;
	h->hits_fd = pin_open("corral_hits");
	if (h->hits_fd < 0)
		h->hits_fd = -1;

	p = corral_map_mmap(h->ctl_fd, &h->ctl_len, &vsz, &n);
	if (!p)
		goto fail_errno;
	if (vsz < sizeof(struct corral_ctl) || n < 1) {
		munmap(p, h->ctl_len);
		err = -EPROTO;
		goto fail;
	}
	h->ctl = p;

	p = corral_map_mmap(h->cfg_fd, &h->cfg_len, &vsz, &n);
	if (!p)
		goto fail_errno;
	h->cfg = p;
	h->cfg_stride = (vsz + 7) & ~7u;
	if (vsz != sizeof(struct corral_cfg) || n < 2) {
		err = -EPROTO;
		goto fail;
	}

	if (h->synports_fd >= 0) {
		p = corral_map_mmap(h->synports_fd, &h->synports_len, &vsz, &n);
		if (!p)
			goto fail_errno;
		h->synports = p;
		h->synports_stride = (vsz + 7) & ~7u;
		if (vsz != 1 || n != 65536) {
			err = -EPROTO;
			goto fail;
		}
	}

	p = corral_map_mmap(h->port_cls_fd, &h->port_cls_len, &vsz, &n);
	if (!p)
		goto fail_errno;
	h->port_cls = p;
	h->port_cls_stride = (vsz + 7) & ~7u;
	if (vsz != 1 || n != CORRAL_PORT_TABLE_SIZE) {
		err = -EPROTO;
		goto fail;
	}
	return 0;

fail_errno:
	err = -errno;
fail:
	corral_handle_close(h);
	return err;
}

int corral_handle_open(struct corral_handle *h)
{
	return handle_open(h, true);
}

int corral_handle_open_maps(struct corral_handle *h)
{
	return handle_open(h, false);
}

void corral_handle_close(struct corral_handle *h)
{
	int *fds[] = { &h->stats_fd, &h->ctl_fd, &h->cfg_fd, &h->policy_fd,
		       &h->prules_fd, &h->pt_rules_fd, &h->port_cls_fd,
		       &h->buckets_fd, &h->dbuckets_fd, &h->devs_fd, &h->lock_fd,
		       &h->synports_fd, &h->synbkt_fd, &h->hits_fd };
	size_t i;

	if (h->synports)
		munmap(h->synports, h->synports_len);
	if (h->port_cls)
		munmap(h->port_cls, h->port_cls_len);
	if (h->cfg)
		munmap(h->cfg, h->cfg_len);
	if (h->ctl)
		munmap(h->ctl, h->ctl_len);
	h->synports = NULL;
	h->port_cls = NULL;
	h->cfg = NULL;
	h->ctl = NULL;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

const char *corral_run_dir(void)
{
	const char *d = getenv("CORRAL_RUN_DIR");

	return d && *d ? d : CORRAL_RUN_DIR;
}

int corral_lock_path(char *buf, size_t len)
{
	const char *env = getenv("CORRAL_PIN_DIR");
	char tag[128];
	size_t i, j = 0;
	int n;

	/* one lock per pin directory, so separate instances do not serialize */
	if (env && *env) {
		for (i = 0; env[i] && j + 1 < sizeof(tag); i++)
			tag[j++] = env[i] == '/' ? '_' : env[i];
	}
	tag[j] = 0;
	n = snprintf(buf, len, CORRAL_RUN_DIR "/lock%s", tag);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int corral_lock_acquire(void)
{
	struct stat fst, pst;
	char path[256];
	int fd, ret;

	if (mkdir(CORRAL_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	ret = corral_lock_path(path, sizeof(path));
	if (ret)
		return ret;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		while (flock(fd, LOCK_EX)) {
			ret = -errno;
			if (ret == -EINTR)
				continue;
			close(fd);
			return ret;
		}
		/* the holder before may have removed the file (corral_lock_remove):
		 * a lock on an unlinked file excludes nobody, take the new one */
		if (!fstat(fd, &fst) && !stat(path, &pst) && fst.st_dev == pst.st_dev &&
		    fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
	}
}

int corral_lock_remove(void)
{
	char path[256];
	int ret = corral_lock_path(path, sizeof(path));

	if (ret)
		return ret;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int corral_lock(struct corral_handle *h)
{
	int fd;

	if (h->lock_fd >= 0)
		return 0;
	fd = corral_lock_acquire();
	if (fd < 0)
		return fd;
	h->lock_fd = fd;
	return 0;
}

static struct corral_cfg *cfg_slot(const struct corral_handle *h, __u64 gen)
{
	return (struct corral_cfg *)((char *)h->cfg + (gen & 1) * h->cfg_stride);
}

const struct corral_cfg *corral_cfg_live(const struct corral_handle *h)
{
	return cfg_slot(h, __atomic_load_n(&h->ctl->cfg_gen, __ATOMIC_ACQUIRE));
}

void corral_cfg_begin(const struct corral_handle *h, struct corral_cfg *scratch)
{
	memcpy(scratch, corral_cfg_live(h), sizeof(*scratch));
}

int corral_cfg_commit(struct corral_handle *h, const struct corral_cfg *c)
{
	__u64 gen = __atomic_load_n(&h->ctl->cfg_gen, __ATOMIC_ACQUIRE);

	memcpy(cfg_slot(h, gen + 1), c, sizeof(*c));
	__atomic_store_n(&h->ctl->cfg_gen, gen + 1, __ATOMIC_RELEASE);
	return 0;
}

int corral_stats_read(const struct corral_handle *h, struct corral_counter out[CORRAL_NSTATS])
{
	int ncpu = libbpf_num_possible_cpus();
	struct corral_counter *v;
	__u32 k;
	int c, err = 0;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < CORRAL_NSTATS; k++) {
		if (bpf_map_lookup_elem(h->stats_fd, &k, v)) {
			err = -errno;
			break;
		}
		out[k].packets = 0;
		out[k].bytes = 0;
		for (c = 0; c < ncpu; c++) {
			out[k].packets += v[c].packets;
			out[k].bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

int corral_hits_read(const struct corral_handle *h, const struct corral_prefix_rule_key *k,
		     struct corral_hits *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct corral_hits *v;
	int c, err = 0;

	memset(out, 0, sizeof(*out));
	if (h->hits_fd < 0)
		return -ENOENT;
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(h->hits_fd, k, v)) {
		err = -errno;
	} else {
		for (c = 0; c < ncpu; c++) {
			out->packets += v[c].packets;
			out->bytes += v[c].bytes;
			out->dropped += v[c].dropped;
			if (v[c].last_ns > out->last_ns)
				out->last_ns = v[c].last_ns;
		}
	}
	free(v);
	return err;
}

int corral_sources_count(const struct corral_handle *h, __u64 *n)
{
	enum { CHUNK = 4096 };
	struct corral_src_key *keys;
	struct corral_bucket *vals;
	struct corral_src_key cur, next;
	__u32 batch = 0, count;
	bool first = true;
	__u64 total = 0;
	int err;

	keys = calloc(CHUNK, sizeof(*keys));
	vals = calloc(CHUNK, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* batch read first; fall back to key iteration where unsupported */
	for (;;) {
		count = CHUNK;
		err = bpf_map_lookup_batch(h->buckets_fd, first ? NULL : &batch, &batch,
					   keys, vals, &count, NULL);
		if (err)
			err = -errno;
		first = false;
		total += count;
		if (err == -ENOENT) {
			err = 0;
			goto done;
		}
		if (err)
			break;
	}
	if (err != -EINVAL && err != -EOPNOTSUPP && err != -ENOTSUPP)
		goto out;
	total = 0;
	err = 0;
	if (bpf_map_get_next_key(h->buckets_fd, NULL, &next) == 0) {
		do {
			total++;
			cur = next;
		} while (bpf_map_get_next_key(h->buckets_fd, &cur, &next) == 0);
	}
	if (errno != ENOENT)
		err = -errno;
done:
	if (!err)
		*n = total;
out:
	free(keys);
	free(vals);
	return err;
}

void corral_shed_write(struct corral_handle *h, __u64 word)
{
	__atomic_store_n(&h->ctl->shed, word, __ATOMIC_RELEASE);
}

__u64 corral_shed_read(const struct corral_handle *h)
{
	return __atomic_load_n(&h->ctl->shed, __ATOMIC_ACQUIRE);
}

void corral_heartbeat(struct corral_handle *h)
{
	__atomic_store_n(&h->ctl->heartbeat_ns, corral_now_ns(), __ATOMIC_RELEASE);
}

void corral_syn_write(struct corral_handle *h, __u64 word)
{
	__atomic_store_n(&h->ctl->syn, word, __ATOMIC_RELEASE);
}

__u64 corral_syn_read(const struct corral_handle *h)
{
	return __atomic_load_n(&h->ctl->syn, __ATOMIC_ACQUIRE);
}
