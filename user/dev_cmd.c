// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dev_cmd.c - parse attach/detach words; apply a list of them, all or
 * nothing (see dev_cmd.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "dev_cmd.h"
#include "state.h"
#include "words.h"

static int perr(char *err, size_t errlen, const char *fmt, const char *w)
{
	snprintf(err, errlen, fmt, w);
	return -EINVAL;
}

static int parse_attach(int argc, char **argv, struct corral_dev_op *op, char *err,
			size_t errlen)
{
	struct corral_attach_opts *o = &op->o;
	int i;

	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (i + 1 >= argc && (!strcmp(w, "dev") || !strcmp(w, "mode") ||
				      !strcmp(w, "sources") || !strcmp(w, "clock")))
			return perr(err, errlen, "attach: missing argument after \"%s\"", w);
		if (!strcmp(w, "dev")) {
			if (op->ifname[0])
				return perr(err, errlen, "attach: duplicate \"%s\"", w);
			w = argv[++i];
			if (!w[0] || strlen(w) >= IF_NAMESIZE)
				return perr(err, errlen, "attach: invalid device \"%s\"", w);
			snprintf(op->ifname, sizeof(op->ifname), "%s", w);
		} else if (!strcmp(w, "mode")) {
			if (op->has_mode)
				return perr(err, errlen, "attach: duplicate \"%s\"", w);
			w = argv[++i];
			if (!strcmp(w, "xdp"))
				o->mode = CORRAL_ATTACH_XDP;
			else if (!strcmp(w, "xdp-generic"))
				o->mode = CORRAL_ATTACH_XDP_GENERIC;
			else if (!strcmp(w, "tc"))
				o->mode = CORRAL_ATTACH_TC;
			else
				return perr(err, errlen, "attach: invalid mode \"%s\"", w);
			op->has_mode = true;
		} else if (!strcmp(w, "egress")) {
			if (o->egress)
				return perr(err, errlen, "attach: duplicate \"%s\"", w);
			o->egress = true;
		} else if (!strcmp(w, "sources")) {
			__u32 n;

			if (o->sources)
				return perr(err, errlen, "attach: duplicate \"%s\"", w);
			w = argv[++i];
			if (corral_parse_u32_range(w, 1, 1u << 28, &n))
				return perr(err, errlen, "attach: invalid sources \"%s\"", w);
			o->sources = n;
		} else if (!strcmp(w, "clock")) {
			if (o->clock >= 0)
				return perr(err, errlen, "attach: duplicate \"%s\"", w);
			w = argv[++i];
			if (!strcmp(w, "coarse"))
				o->clock = CORRAL_CLOCK_COARSE;
			else if (!strcmp(w, "precise"))
				o->clock = CORRAL_CLOCK_PRECISE;
			else if (!strcmp(w, "fake"))
				o->clock = CORRAL_CLOCK_FAKE;
			else
				return perr(err, errlen, "attach: invalid clock \"%s\"", w);
		} else {
			return perr(err, errlen, "attach: unknown argument \"%s\"", w);
		}
	}
	if (!op->ifname[0]) {
		snprintf(err, errlen, "attach: missing \"dev IFACE\"");
		return -EINVAL;
	}
	o->fallback = !op->has_mode;
	return 0;
}

static int parse_detach(int argc, char **argv, struct corral_dev_op *op, char *err,
			size_t errlen)
{
	if (argc < 2 || strcmp(argv[1], "dev"))
		return perr(err, errlen, "detach: expected \"dev IFACE\"%s", "");
	if (argc < 3)
		return perr(err, errlen, "detach: missing argument after \"%s\"", "dev");
	if (argc > 3)
		return perr(err, errlen, "detach: unknown argument \"%s\"", argv[3]);
	if (!argv[2][0] || strlen(argv[2]) >= IF_NAMESIZE)
		return perr(err, errlen, "detach: invalid device \"%s\"", argv[2]);
	snprintf(op->ifname, sizeof(op->ifname), "%s", argv[2]);
	op->detach = true;
	return 0;
}

int corral_dev_parse(int argc, char **argv, bool check_dev, struct corral_dev_op *op,
		     char *err, size_t errlen)
{
	int r;

	memset(op, 0, sizeof(*op));
	op->o.mode = CORRAL_ATTACH_XDP;
	op->o.clock = -1;
	if (!strcmp(argv[0], "attach"))
		r = parse_attach(argc, argv, op, err, errlen);
	else if (!strcmp(argv[0], "detach"))
		r = parse_detach(argc, argv, op, err, errlen);
	else
		return CORRAL_PARSE_NOT_CONFIG;
	if (r)
		return r;
	op->o.ifname = op->ifname;
	/* a detach may name a device that is gone: its entry is still removed */
	if (check_dev && !op->detach && !if_nametoindex(op->ifname)) {
		snprintf(err, errlen, "attach: no device \"%s\"", op->ifname);
		return -EINVAL;
	}
	return 0;
}

/* the attached devices now: count, 0 when nothing is loaded, or -errno */
static int devs_now(struct corral_dev_entry *d)
{
	char path[256];
	int fd, n;

	corral_pin_path(path, sizeof(path), "corral_devs");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = corral_devs_list(fd, d, CORRAL_DEVS_MAX);
	close(fd);
	return n;
}

static const struct corral_dev_entry *find(const struct corral_dev_entry *d, int n,
					   const char *ifname)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(d[i].dev.ifname, ifname))
			return &d[i];
	return NULL;
}

/* put the devices back as in before[0..nb): best effort, first error kept */
static void restore(const struct corral_dev_entry *before, int nb)
{
	struct corral_dev_entry now[CORRAL_DEVS_MAX];
	char e[512];
	int n, i;

	/* re-attach the old ones first, so the last detach never unpins state
	 * that an old device still needs */
	for (i = 0; i < nb; i++) {
		struct corral_attach_opts o = {
			.ifname = before[i].dev.ifname,
			.mode = before[i].dev.mode,
			.egress = before[i].dev.egress,
			.clock = -1,
		};

		if (corral_attach(&o, e, sizeof(e)))
			fprintf(stderr, "corral: restore %s: %s\n", o.ifname, e);
	}
	n = devs_now(now);
	for (i = 0; i < n; i++)
		if (!find(before, nb, now[i].dev.ifname) &&
		    corral_detach(now[i].dev.ifname, e, sizeof(e)))
			fprintf(stderr, "corral: restore: %s\n", e);
}

static bool named(const struct corral_dev_op *ops, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!ops[i].detach && !strcmp(ops[i].ifname, ifname))
			return true;
	return false;
}

/*
 * Walk the list over the names attached now, before changing anything: a
 * detach must name an attached device, and the set may not run empty
 * before the end (or at the end when keep_one): the last detach drops the
 * pinned state, which nothing later in the list could get back.
 */
/* the number of devices attached after the list, or -errno */
static int dry_run(const struct corral_dev_op *ops, size_t n, const char *const *where,
		   const struct corral_dev_entry *before, int nb, bool keep_one, char *err,
		   size_t errlen)
{
	char set[CORRAL_DEVS_MAX + 64][IF_NAMESIZE];
	int ns = 0, k;
	size_t i;

	for (k = 0; k < nb; k++)
		snprintf(set[ns++], IF_NAMESIZE, "%s", before[k].dev.ifname);
	for (i = 0; i < n; i++) {
		const char *pre = where ? where[i] : "", *sep = where ? ": " : "";

		for (k = 0; k < ns && strcmp(set[k], ops[i].ifname); k++)
			;
		if (!ops[i].detach) {
			if (k == ns) {
				if (ns == (int)(sizeof(set) / sizeof(set[0]))) {
					snprintf(err, errlen, "%s%stoo many devices", pre, sep);
					return -E2BIG;
				}
				snprintf(set[ns++], IF_NAMESIZE, "%s", ops[i].ifname);
			}
			continue;
		}
		if (k == ns) {
			/* an empty set here means nothing is loaded (the pins go
			 * with the last device) */
			snprintf(err, errlen, "%s%sdetach %s: %s", pre, sep, ops[i].ifname,
				 ns ? "not attached" : "not loaded");
			return -ENOENT;
		}
		memmove(set[k], set[k + 1], (size_t)(ns - k - 1) * IF_NAMESIZE);
		ns--;
		if (!ns && (i + 1 < n || keep_one)) {
			snprintf(err, errlen, "%s%sdetach %s: it is the last device, and its pinned "
				 "state is still needed (attach the new device first)", pre, sep,
				 ops[i].ifname);
			return -EINVAL;
		}
	}
	return ns;
}

int corral_dev_ops_apply(const struct corral_dev_apply *a, char *err, size_t errlen)
{
	struct corral_dev_op *ops = a->ops;
	const char *const *where = a->where;
	size_t n = a->n;
	struct corral_dev_entry before[CORRAL_DEVS_MAX], now[CORRAL_DEVS_MAX];
	bool any_attach = false;
	char msg[512];
	int nb, nn, r = 0;
	size_t i;

	if (!n)
		return a->then ? a->then(a->arg, err, errlen) : 0;
	nb = devs_now(before);
	if (nb < 0) {
		snprintf(err, errlen, "corral_devs: %s", strerror(-nb));
		return nb;
	}
	r = dry_run(ops, n, where, before, nb, a->keep_one, err, errlen);
	if (r < 0)
		return r;
	r = 0;
	for (i = 0; i < n; i++) {
		bool fell = false;

		if (ops[i].detach) {
			r = corral_detach(ops[i].ifname, msg, sizeof(msg));
		} else {
			any_attach = true;
			ops[i].o.ifname = ops[i].ifname;
			ops[i].o.fell_back = &fell;
			r = corral_attach(&ops[i].o, msg, sizeof(msg));
			ops[i].o.fell_back = NULL;
			if (!r && fell && a->notice)
				a->notice(ops[i].ifname);
		}
		if (r) {
			snprintf(err, errlen, "%s%s%s", where ? where[i] : "", where ? ": " : "",
				 msg);
			goto undo;
		}
	}
	if (!a->converge || !any_attach)
		goto then;
	/* the file names the whole device set: detach the others */
	nn = devs_now(now);
	if (nn < 0) {
		r = nn;
		snprintf(err, errlen, "corral_devs: %s", strerror(-nn));
		goto undo;
	}
	for (int k = 0; k < nn; k++) {
		if (named(ops, n, now[k].dev.ifname))
			continue;
		r = corral_detach(now[k].dev.ifname, msg, sizeof(msg));
		if (r) {
			snprintf(err, errlen, "converge: %s", msg);
			goto undo;
		}
	}
then:
	if (a->then) {
		r = a->then(a->arg, err, errlen);
		if (r)
			goto undo;
	}
	return 0;
undo:
	restore(before, nb);
	return r;
}

int corral_dev_ops_check(const struct corral_dev_apply *a, char *err, size_t errlen)
{
	struct corral_dev_entry before[CORRAL_DEVS_MAX];
	int nb = devs_now(before);

	if (nb < 0) {
		snprintf(err, errlen, "corral_devs: %s", strerror(-nb));
		return nb;
	}
	return dry_run(a->ops, a->n, a->where, before, nb, a->keep_one, err, errlen);
}
