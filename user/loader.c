// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * loader.c - attach/detach and the device registry.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "corral.skel.h"
#include "loader.h"
#include "state.h"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

const char *corral_attach_mode_name(__u32 mode)
{
	switch (mode) {
	case CORRAL_ATTACH_XDP: return "xdp";
	case CORRAL_ATTACH_XDP_GENERIC: return "xdp-generic";
	case CORRAL_ATTACH_TC: return "tc";
	default: return "?";
	}
}

/* bpffs under the pin directory, mounted on /sys/fs/bpf when missing */
static int ensure_bpffs(char *err, size_t errlen)
{
	char parent[256];
	struct statfs st;

	snprintf(parent, sizeof(parent), "%s", corral_pin_dir());
	dirname(parent);
	if (statfs(parent, &st))
		return fail(err, errlen, -errno, "%s: %s", parent, strerror(errno));
	if ((unsigned long)st.f_type == BPF_FS_MAGIC)
		return 0;
	if (strcmp(parent, "/sys/fs/bpf"))
		return fail(err, errlen, -ENOTDIR, "%s: not a bpf filesystem", parent);
	if (mount("bpf", parent, "bpf", 0, "mode=0700"))
		return fail(err, errlen, -errno, "mount bpffs on %s: %s", parent, strerror(errno));
	return 0;
}

static bool pin_exists(const char *name)
{
	char path[256];

	if (corral_pin_path(path, sizeof(path), name))
		return false;
	return access(path, F_OK) == 0;
}

int corral_devs_list(int devs_fd, struct corral_dev_entry *out, size_t max)
{
	__u32 cur, next;
	size_t n = 0;
	int err;

	err = bpf_map_get_next_key(devs_fd, NULL, &next);
	while (!err) {
		if (n < max && !bpf_map_lookup_elem(devs_fd, &next, &out[n].dev)) {
			out[n].ifindex = next;
			n++;
		}
		cur = next;
		err = bpf_map_get_next_key(devs_fd, &cur, &next);
	}
	if (errno != ENOENT)
		return -errno;
	return (int)n;
}

/* remove every pin under the pin directory, then the directory */
static int remove_all_pins(void)
{
	const char *dir = corral_pin_dir();
	struct dirent *de;
	char path[512];
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && errno != ENOENT)
			ret = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		ret = -errno;
	return ret;
}

static int chmod_pins(void)
{
	const char *dir = corral_pin_dir();
	struct dirent *de;
	char path[512];
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		chmod(path, 0600);
	}
	closedir(d);
	return 0;
}

static int clear_hash(int fd, size_t ksz)
{
	char key[64];

	if (ksz > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* fresh state in maps that were just created (or left by a failed attach) */
static int init_state(char *err, size_t errlen)
{
	struct corral_handle h;
	struct corral_cfg c;
	__u64 salt = 0;
	int ret;

	ret = corral_handle_open_maps(&h);
	if (ret)
		return fail(err, errlen, ret, "open maps: %s", strerror(-ret));
	if (getrandom(&salt, sizeof(salt), 0) != sizeof(salt)) {
		ret = fail(err, errlen, -errno, "getrandom: %s", strerror(errno));
		goto out;
	}
	if ((ret = clear_hash(h.prules_fd, sizeof(struct corral_prefix_rule_key))) ||
	    (ret = clear_hash(h.pt_rules_fd, sizeof(struct corral_port_rule_key))) ||
	    (ret = clear_hash(h.policy_fd, sizeof(struct corral_lpm_key)))) {
		fail(err, errlen, ret, "clear rules: %s", strerror(-ret));
		goto out;
	}
	corral_cfg_defaults(&c);
	c.salt = salt;
	memset(h.port_cls, CORRAL_CLASS_ANY, h.port_cls_len);
	memcpy(h.cfg, &c, sizeof(c));
	memcpy((char *)h.cfg + h.cfg_stride, &c, sizeof(c));
	memset(h.ctl, 0, sizeof(*h.ctl));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
out:
	corral_handle_close(&h);
	return ret;
}

static int create_devs_map(char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo);
	char path[256];
	int fd, ret = 0;

	corral_pin_path(path, sizeof(path), "corral_devs");
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "corral_devs", sizeof(__u32),
			    sizeof(struct corral_dev), CORRAL_DEVS_MAX, &mo);
	if (fd < 0)
		return fail(err, errlen, -errno, "create corral_devs: %s", strerror(errno));
	if (bpf_obj_pin(fd, path))
		ret = fail(err, errlen, -errno, "pin %s: %s", path, strerror(errno));
	else
		chmod(path, 0600);
	close(fd);
	return ret;
}

static int pinned_max_entries(const char *name, __u32 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[256];
	int fd, ret = 0;

	corral_pin_path(path, sizeof(path), name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		ret = -errno;
	else
		*n = info.max_entries;
	close(fd);
	return ret;
}

static int open_load(const struct corral_attach_opts *o, bool first, struct corral_bpf **out,
		     char *err, size_t errlen)
{
	struct corral_bpf *skel;
	struct bpf_map *map;
	char path[256];
	__u32 cur = 0;
	int ret;

	skel = corral_bpf__open();
	if (!skel)
		return fail(err, errlen, -errno, "open BPF object: %s", strerror(errno));
	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		ret = corral_pin_path(path, sizeof(path), bpf_map__name(map));
		if (!ret)
			ret = bpf_map__set_pin_path(map, path);
		if (ret) {
			fail(err, errlen, ret, "pin path of %s: %s", bpf_map__name(map), strerror(-ret));
			goto fail;
		}
	}
	if (!first && !pinned_max_entries("corral_buckets", &cur)) {
		if (o->sources && o->sources != cur) {
			ret = fail(err, errlen, -EINVAL,
				   "sources %u differs from the loaded table (%u); detach every device first",
				   o->sources, cur);
			goto fail;
		}
		ret = bpf_map__set_max_entries(skel->maps.corral_buckets, cur);
	} else if (o->sources) {
		ret = bpf_map__set_max_entries(skel->maps.corral_buckets, o->sources);
	} else {
		ret = 0;
	}
	if (ret) {
		fail(err, errlen, ret, "sources: %s", strerror(-ret));
		goto fail;
	}
	if (o->clock >= 0)
		skel->rodata->clock_mode = (__u32)o->clock;
	ret = corral_bpf__load(skel);
	if (ret) {
		fail(err, errlen, ret, "load BPF programs: %s", strerror(-ret));
		goto fail;
	}
	*out = skel;
	return 0;
fail:
	corral_bpf__destroy(skel);
	return ret;
}

static int link_pin_path(char *buf, size_t len, const char *ifname)
{
	char name[64];

	snprintf(name, sizeof(name), "link_%s", ifname);
	return corral_pin_path(buf, len, name);
}

static int xdp_detach(const char *ifname)
{
	char path[256];
	int fd, ret = 0;

	link_pin_path(path, sizeof(path), ifname);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		/* a link whose device is gone is already defunct */
		if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL)
			ret = -errno;
		close(fd);
	}
	if (unlink(path) && errno != ENOENT && !ret)
		ret = -errno;
	return ret;
}

static int tc_detach_point(int ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CORRAL_TC_HANDLE, .priority = CORRAL_TC_PRIO);
	int ret = bpf_tc_detach(&hook, &opts);

	if (ret == -ENOENT || ret == -ENODEV || ret == -EINVAL)
		ret = 0;
	return ret;
}

static void tc_hook_destroy(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	bpf_tc_hook_destroy(&hook);
}

static int tc_attach_point(int ifindex, enum bpf_tc_attach_point ap, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CORRAL_TC_HANDLE, .priority = CORRAL_TC_PRIO,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST)
		return ret;
	return bpf_tc_attach(&hook, &opts);
}

/* remove everything of one registry entry from its device */
static int dev_remove(__u32 ifindex, const struct corral_dev *d)
{
	int ret = 0, r;

	/* every mode has a tc ingress program: in XDP modes, the one that
	 * takes the ACKs of SYN cookies */
	if (d->mode == CORRAL_ATTACH_XDP || d->mode == CORRAL_ATTACH_XDP_GENERIC)
		ret = xdp_detach(d->ifname);
	r = tc_detach_point((int)ifindex, BPF_TC_INGRESS);
	if (!ret)
		ret = r;
	r = tc_detach_point((int)ifindex, BPF_TC_EGRESS);
	if (!ret)
		ret = r;
	tc_hook_destroy((int)ifindex);
	return ret;
}

/* *mode: in, what was asked (o->mode); out, the mode attached */
static int xdp_attach(const struct corral_attach_opts *o, int ifindex, int prog_fd,
		      bool replace, enum corral_attach_mode *mode, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	char path[256];
	int fd, ret;

	link_pin_path(path, sizeof(path), o->ifname);
	if (replace) {
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			ret = bpf_link_update(fd, prog_fd, NULL);
			close(fd);
			if (!ret)
				return 0;
			if (ret != -ENOLINK)
				return fail(err, errlen, ret, "replace program: %s", strerror(-ret));
			/* defunct link (device re-created): attach anew */
			unlink(path);
		}
	}
	lo.flags = o->mode == CORRAL_ATTACH_XDP ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	if (fd < 0 && errno == EOPNOTSUPP && o->mode == CORRAL_ATTACH_XDP && o->fallback) {
		/* the driver has no native XDP: the generic hook runs the same
		 * program after the stack has built the skb */
		lo.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (fd >= 0)
			*mode = CORRAL_ATTACH_XDP_GENERIC;
	}
	if (fd < 0) {
		ret = -errno;
		if (ret == -EOPNOTSUPP && o->mode == CORRAL_ATTACH_XDP)
			return fail(err, errlen, ret,
				    "native XDP not supported (try mode xdp-generic)");
		if (ret == -EBUSY || ret == -EEXIST)
			return fail(err, errlen, ret, "the device already has an XDP program");
		return fail(err, errlen, ret, "XDP attach: %s", strerror(-ret));
	}
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		close(fd);
		return fail(err, errlen, ret, "pin %s: %s", path, strerror(-ret));
	}
	chmod(path, 0600);
	close(fd);
	return 0;
}

/*
 * Entries of ifname under another index: the device was deleted and
 * re-created under the same name. Its link is defunct but still pinned
 * as link_<ifname>, in the way of the new one: remove the attachment and
 * the entry.
 */
static int drop_stale_entries(int devs_fd, const char *ifname, __u32 ifindex,
			      char *err, size_t errlen)
{
	struct corral_dev_entry devs[CORRAL_DEVS_MAX];
	char name[IF_NAMESIZE];
	int n, i, ret;

	n = corral_devs_list(devs_fd, devs, CORRAL_DEVS_MAX);
	if (n < 0)
		return fail(err, errlen, n, "corral_devs: %s", strerror(-n));
	for (i = 0; i < n; i++) {
		struct corral_dev *d = &devs[i].dev;

		if (devs[i].ifindex == ifindex || strcmp(d->ifname, ifname))
			continue;
		if (d->mode == CORRAL_ATTACH_TC || d->egress) {
			/* tc hooks went with the device; an index reused by
			 * another device is not ours to touch */
			if (!if_indextoname(devs[i].ifindex, name) || strcmp(name, ifname)) {
				ret = d->mode == CORRAL_ATTACH_TC ? 0 : xdp_detach(ifname);
			} else {
				ret = dev_remove(devs[i].ifindex, d);
			}
		} else {
			ret = dev_remove(devs[i].ifindex, d);
		}
		if (ret)
			return fail(err, errlen, ret, "remove stale attachment (ifindex %u): %s",
				    devs[i].ifindex, strerror(-ret));
		if (bpf_map_delete_elem(devs_fd, &devs[i].ifindex) && errno != ENOENT)
			return fail(err, errlen, -errno, "corral_devs: delete stale ifindex %u: %s",
				    devs[i].ifindex, strerror(errno));
	}
	return 0;
}

int corral_attach(const struct corral_attach_opts *o, char *err, size_t errlen)
{
	struct corral_bpf *skel = NULL;
	struct corral_dev old = {}, nd = {};
	char msg[512], path[256];
	bool first, had_old = false, fell = false;
	enum corral_attach_mode mode;
	__u32 key;
	int ifindex, lock_fd, devs_fd = -1, ret;

	ifindex = (int)if_nametoindex(o->ifname);
	if (!ifindex)
		return fail(err, errlen, -ENODEV, "attach %s: no such device", o->ifname);
	if (strlen(o->ifname) >= sizeof(nd.ifname))
		return fail(err, errlen, -EINVAL, "attach %s: name too long", o->ifname);
	ret = ensure_bpffs(msg, sizeof(msg));
	if (ret)
		return fail(err, errlen, ret, "attach %s: %s", o->ifname, msg);
	if (mkdir(corral_pin_dir(), 0700) && errno != EEXIST)
		return fail(err, errlen, -errno, "attach %s: %s: %s", o->ifname,
			    corral_pin_dir(), strerror(errno));
	lock_fd = corral_lock_acquire();
	if (lock_fd < 0)
		return fail(err, errlen, lock_fd, "attach %s: lock: %s", o->ifname,
			    strerror(-lock_fd));

	first = !pin_exists("corral_devs");
	ret = open_load(o, first, &skel, msg, sizeof(msg));
	if (ret)
		goto fail_msg;
	if (first) {
		ret = init_state(msg, sizeof(msg));
		if (!ret)
			ret = create_devs_map(msg, sizeof(msg));
		if (ret)
			goto fail_msg;
	}
	chmod_pins();

	corral_pin_path(path, sizeof(path), "corral_devs");
	devs_fd = bpf_obj_get(path);
	if (devs_fd < 0) {
		ret = -errno;
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(-ret));
		goto fail_msg;
	}
	key = (__u32)ifindex;
	ret = drop_stale_entries(devs_fd, o->ifname, key, msg, sizeof(msg));
	if (ret)
		goto fail_msg;
	had_old = !bpf_map_lookup_elem(devs_fd, &key, &old);
	if (had_old && strcmp(old.ifname, o->ifname)) {
		/* the index now names another device: the old one is gone */
		xdp_detach(old.ifname);
		had_old = false;
	}

	mode = o->mode;
	if (o->fallback && had_old && old.mode == CORRAL_ATTACH_XDP_GENERIC &&
	    mode == CORRAL_ATTACH_XDP)
		mode = CORRAL_ATTACH_XDP_GENERIC;   /* no mode named: keep it */
	/* a mode change: remove the old hook first */
	if (had_old && old.mode != mode) {
		ret = dev_remove(key, &old);
		if (ret) {
			snprintf(msg, sizeof(msg), "remove old attachment: %s", strerror(-ret));
			goto fail_msg;
		}
		had_old = false;
	}

	if (mode == CORRAL_ATTACH_TC) {
		ret = tc_attach_point(ifindex, BPF_TC_INGRESS,
				      bpf_program__fd(skel->progs.corral_tc_in));
		if (ret) {
			snprintf(msg, sizeof(msg), "tc ingress attach: %s", strerror(-ret));
			goto fail_msg;
		}
	} else {
		struct corral_attach_opts xo = *o;

		xo.mode = mode;
		ret = xdp_attach(&xo, ifindex, bpf_program__fd(skel->progs.corral_xdp), had_old,
				 &mode, msg, sizeof(msg));
		if (ret)
			goto fail_msg;
		fell = mode != xo.mode;
		/* the ACKs of the SYN cookies XDP answers become connections at tc ingress */
		ret = tc_attach_point(ifindex, BPF_TC_INGRESS,
				      bpf_program__fd(skel->progs.corral_tc_cookie));
		if (ret) {
			struct corral_dev tmp = { .mode = mode, .egress = 0 };

			snprintf(msg, sizeof(msg), "tc ingress attach: %s", strerror(-ret));
			if (!had_old) {
				snprintf(tmp.ifname, sizeof(tmp.ifname), "%s", o->ifname);
				dev_remove(key, &tmp);
			}
			goto fail_msg;
		}
	}
	if (o->egress) {
		ret = tc_attach_point(ifindex, BPF_TC_EGRESS,
				      bpf_program__fd(skel->progs.corral_tc_out));
		if (ret) {
			snprintf(msg, sizeof(msg), "tc egress attach: %s", strerror(-ret));
			if (!had_old) {
				struct corral_dev tmp = { .mode = mode, .egress = 0 };

				snprintf(tmp.ifname, sizeof(tmp.ifname), "%s", o->ifname);
				dev_remove(key, &tmp);
			}
			goto fail_msg;
		}
	} else if (had_old && old.egress) {
		tc_detach_point(ifindex, BPF_TC_EGRESS);
	}

	snprintf(nd.ifname, sizeof(nd.ifname), "%s", o->ifname);
	nd.mode = mode;
	nd.egress = o->egress;
	if (bpf_map_update_elem(devs_fd, &key, &nd, BPF_ANY)) {
		ret = -errno;
		snprintf(msg, sizeof(msg), "corral_devs: update: %s", strerror(-ret));
		if (!had_old)
			dev_remove(key, &nd);
		goto fail_msg;
	}
	close(devs_fd);
	corral_bpf__destroy(skel);
	close(lock_fd);
	if (o->fell_back)
		*o->fell_back = fell;
	return 0;

fail_msg:
	fail(err, errlen, ret, "attach %s: %s", o->ifname, msg);
	/* a failed attach of the only device leaves nothing behind */
	if (devs_fd < 0) {
		corral_pin_path(path, sizeof(path), "corral_devs");
		devs_fd = bpf_obj_get(path);
	}
	{
		struct corral_dev_entry e[1];

		if (devs_fd < 0 || corral_devs_list(devs_fd, e, 1) == 0) {
			if (devs_fd >= 0)
				close(devs_fd);
			devs_fd = -1;
			if (!remove_all_pins())
				corral_lock_remove();
		}
	}
	if (devs_fd >= 0)
		close(devs_fd);
	corral_bpf__destroy(skel);
	close(lock_fd);
	return ret;
}

int corral_detach(const char *ifname, char *err, size_t errlen)
{
	struct corral_dev_entry devs[CORRAL_DEVS_MAX];
	char path[256];
	int lock_fd, devs_fd, n, i, ret = 0, found = -1;

	lock_fd = corral_lock_acquire();
	if (lock_fd < 0)
		return fail(err, errlen, lock_fd, "detach %s: lock: %s", ifname, strerror(-lock_fd));
	corral_pin_path(path, sizeof(path), "corral_devs");
	devs_fd = bpf_obj_get(path);
	if (devs_fd < 0) {
		ret = fail(err, errlen, -ENOENT, "detach %s: not loaded", ifname);
		goto out_unlock;
	}
	n = corral_devs_list(devs_fd, devs, CORRAL_DEVS_MAX);
	if (n < 0) {
		ret = fail(err, errlen, n, "detach %s: corral_devs: %s", ifname, strerror(-n));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(devs[i].dev.ifname, ifname)) {
			found = i;
			break;
		}
	}
	if (found < 0) {
		ret = fail(err, errlen, -ENOENT, "detach %s: not attached", ifname);
		goto out;
	}
	ret = dev_remove(devs[found].ifindex, &devs[found].dev);
	if (ret) {
		fail(err, errlen, ret, "detach %s: %s", ifname, strerror(-ret));
		goto out;
	}
	if (bpf_map_delete_elem(devs_fd, &devs[found].ifindex)) {
		ret = fail(err, errlen, -errno, "detach %s: corral_devs: delete: %s", ifname,
			   strerror(errno));
		goto out;
	}
	if (n == 1) {
		close(devs_fd);
		devs_fd = -1;
		ret = remove_all_pins();
		if (ret) {
			fail(err, errlen, ret, "detach %s: remove pins: %s", ifname, strerror(-ret));
			goto out;
		}
		/* nothing left to serialize: the lock file goes too */
		ret = corral_lock_remove();
		if (ret)
			fail(err, errlen, ret, "detach %s: remove lock: %s", ifname, strerror(-ret));
	}
out:
	if (devs_fd >= 0)
		close(devs_fd);
out_unlock:
	close(lock_fd);
	return ret;
}
