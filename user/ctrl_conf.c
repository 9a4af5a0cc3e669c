/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctrl_conf.c - parse and validate the controller's configuration lines:
 *
 *   controller target cpu|pressure|queue PERCENT|off
 *   controller ports PORT[,PORT...]
 *   controller interval DURATION
 *   controller heartbeat-timeout DURATION
 *   controller shed auto|manual
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctrl_conf.h"
#include "words.h"

const char *const ctrl_sig_names[CTRL_NSIG] = {
	[CTRL_SIG_CPU] = "cpu",
	[CTRL_SIG_PRESSURE] = "pressure",
	[CTRL_SIG_QUEUE] = "queue",
};

void ctrl_conf_init(struct ctrl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->shed_auto = 1;
	c->target[CTRL_SIG_CPU] = CTRL_DFLT_TARGET_CPU;
	c->interval_ns = CTRL_DFLT_INTERVAL_NS;
	c->hb_timeout_ns = CTRL_DFLT_HB_TIMEOUT_NS;
}

/* a non-negative finite decimal number, then the suffix in *end */
static int parse_number(const char *s, double *v, char **end)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	/* digits and at most one dot only: no hex, exponents, inf or nan */
	const char *p = s;
	int digits = 0, dots = 0;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !dots)
			dots++;
		else
			break;
	}
	if (!digits)
		return -EINVAL;
	errno = 0;
	*v = strtod(s, end);
	if (errno || *end != p || !isfinite(*v) || *v < 0)
		return -EINVAL;
	return 0;
}

int ctrl_parse_percent(const char *s, double *frac)
{
	double v;
	char *end;

	if (parse_number(s, &v, &end))
		return -EINVAL;
	if (*end && strcmp(end, "%"))
		return -EINVAL;
	if (v <= 0 || v > 100)
		return -ERANGE;
	*frac = v / 100.0;
	return 0;
}

int ctrl_parse_ports(const char *s, __u16 *ports, unsigned max, unsigned *n)
{
	char buf[16];
	unsigned cnt = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		__u32 v;

		if (!len || len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (corral_parse_u32_range(buf, 1, 65535, &v))
			return -EINVAL;
		for (unsigned i = 0; i < cnt; i++)
			if (ports[i] == v)
				return -EEXIST;
		if (cnt == max)
			return -E2BIG;
		ports[cnt++] = (__u16)v;
		if (!comma)
			break;
		p = comma + 1;
	}
	*n = cnt;
	return 0;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

static int once(struct ctrl_conf *c, unsigned bit, const char *what, char *err, size_t errlen)
{
	if (c->set & bit)
		FAIL("controller %s: given twice", what);
	c->set |= bit;
	return 0;
}

int ctrl_conf_line(struct ctrl_conf *c, int argc, char **argv, char *err, size_t errlen)
{
	const char *kw;
	int r;

	if (argc < 1 || strcmp(argv[0], "controller"))
		FAIL("not a controller line");
	if (argc < 2)
		FAIL("controller: missing keyword (target, ports, interval, heartbeat-timeout, shed)");
	kw = argv[1];

	if (!strcmp(kw, "target")) {
		int sig = -1;
		double v = 0;

		if (argc != 4)
			FAIL("controller target: expected \"target cpu|pressure|queue PERCENT|off\"");
		for (int i = 0; i < CTRL_NSIG; i++)
			if (!strcmp(argv[2], ctrl_sig_names[i]))
				sig = i;
		if (sig < 0)
			FAIL("controller target: unknown signal \"%s\" (cpu, pressure, queue)", argv[2]);
		if (strcmp(argv[3], "off") && ctrl_parse_percent(argv[3], &v))
			FAIL("controller target %s: invalid percent \"%s\" (0 < P <= 100, or off)",
			     argv[2], argv[3]);
		if ((r = once(c, CTRL_SET_TARGET(sig), "target", err, errlen)))
			return r;
		c->target[sig] = v;
		return 0;
	}
	if (!strcmp(kw, "ports")) {
		__u16 ports[CTRL_MAX_PORTS];
		unsigned n = 0;

		if (argc != 3)
			FAIL("controller ports: expected \"ports PORT[,PORT...]\"");
		r = ctrl_parse_ports(argv[2], ports, CTRL_MAX_PORTS, &n);
		if (r == -EEXIST)
			FAIL("controller ports: duplicate port in \"%s\"", argv[2]);
		if (r == -E2BIG)
			FAIL("controller ports: more than %d ports in \"%s\"", CTRL_MAX_PORTS, argv[2]);
		if (r)
			FAIL("controller ports: invalid port list \"%s\" (1..65535, comma separated)",
			     argv[2]);
		if ((r = once(c, CTRL_SET_PORTS, "ports", err, errlen)))
			return r;
		memcpy(c->ports, ports, n * sizeof(ports[0]));
		c->nports = n;
		return 0;
	}
	if (!strcmp(kw, "interval") || !strcmp(kw, "heartbeat-timeout")) {
		int is_iv = kw[0] == 'i';
		__u64 ns;

		if (argc != 3)
			FAIL("controller %s: expected \"%s DURATION\"", kw, kw);
		if (corral_parse_duration(argv[2], &ns))
			FAIL("controller %s: invalid duration \"%s\" (e.g. 100ms, 2s)", kw, argv[2]);
		if (is_iv && (ns < CTRL_MIN_INTERVAL_NS || ns > CTRL_MAX_INTERVAL_NS))
			FAIL("controller interval: \"%s\" out of range (10ms..10s)", argv[2]);
		if ((r = once(c, is_iv ? CTRL_SET_INTERVAL : CTRL_SET_HB, kw, err, errlen)))
			return r;
		if (is_iv)
			c->interval_ns = ns;
		else
			c->hb_timeout_ns = ns;
		return 0;
	}
	if (!strcmp(kw, "shed")) {
		if (argc != 3 || (strcmp(argv[2], "auto") && strcmp(argv[2], "manual")))
			FAIL("controller shed: expected \"shed auto|manual\"%s%s%s",
			     argc == 3 ? ", not \"" : "", argc == 3 ? argv[2] : "",
			     argc == 3 ? "\"" : "");
		if ((r = once(c, CTRL_SET_SHED, "shed", err, errlen)))
			return r;
		c->shed_auto = argv[2][0] == 'a';
		return 0;
	}
	FAIL("controller: unknown keyword \"%s\" (target, ports, interval, heartbeat-timeout, shed)",
	     kw);
}

int ctrl_conf_check(struct ctrl_conf *c, char *err, size_t errlen)
{
	int any = 0;

	if (c->nports && !(c->set & CTRL_SET_TARGET(CTRL_SIG_QUEUE)))
		c->target[CTRL_SIG_QUEUE] = CTRL_DFLT_TARGET_QUEUE;
	if (c->target[CTRL_SIG_QUEUE] > 0 && !c->nports)
		FAIL("controller target queue: needs \"controller ports\"");
	for (int i = 0; i < CTRL_NSIG; i++)
		any |= c->target[i] > 0;
	if (!any && c->shed_auto)
		FAIL("controller: every target is off; \"shed auto\" needs at least one");
	if (c->hb_timeout_ns < 2 * c->interval_ns)
		FAIL("controller heartbeat-timeout: must be at least twice the interval");
	return 0;
}
