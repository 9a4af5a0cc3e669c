// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * words.c - strict parsers and formatters for the corral grammar words.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

struct unit {
	const char *suffix;
	__u64 mult;
};

int corral_parse_u64(const char *s, __u64 *v)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

int corral_parse_u32_range(const char *s, __u32 lo, __u32 hi, __u32 *v)
{
	__u64 x;
	int err = corral_parse_u64(s, &x);

	if (err)
		return err;
	if (x < lo || x > hi)
		return -ERANGE;
	*v = (__u32)x;
	return 0;
}

/*
 * NUMBER[.FRACTION]UNIT with UNIT from the table ("" matches a bare
 * number when present). The result must be a whole number of base units.
 */
static int parse_scaled(const char *s, const struct unit *u, size_t nu, __u64 *out)
{
	__u64 ip = 0, fp = 0, fscale = 1, mult = 0, v;
	const char *p = s;
	size_t i, fd = 0;
	bool found = false;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ip > (~0ull - 9) / 10)
			return -ERANGE;
		ip = ip * 10 + (__u64)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++fd > 9)
				return -EINVAL;
			fp = fp * 10 + (__u64)(*p - '0');
			fscale *= 10;
		}
	}
	for (i = 0; i < nu; i++) {
		if (!strcmp(p, u[i].suffix)) {
			mult = u[i].mult;
			found = true;
			break;
		}
	}
	if (!found)
		return -EINVAL;
	if (ip && mult > ~0ull / ip)
		return -ERANGE;
	v = ip * mult;
	if (fp) {
		/* fp / fscale * mult must be whole */
		__u64 fm;

		if (mult > ~0ull / fp)
			return -ERANGE;
		fm = fp * mult;
		if (fm % fscale)
			return -EINVAL;
		if (v > ~0ull - fm / fscale)
			return -ERANGE;
		v += fm / fscale;
	}
	*out = v;
	return 0;
}

#define NUNITS(a) (sizeof(a) / sizeof((a)[0]))

int corral_parse_rate(const char *s, __u64 *pps)
{
	static const struct unit u[] = {
		{ "", 1 }, { "pps", 1 }, { "kpps", 1000 }, { "mpps", 1000000 },
		{ "gpps", 1000000000 },
	};
	__u64 v;
	int err = parse_scaled(s, u, NUNITS(u), &v);

	if (err)
		return err;
	if (!v)
		return -ERANGE;
	*pps = v;
	return 0;
}

int corral_parse_byterate(const char *s, __u64 *bytes_per_s)
{
	static const struct unit u[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 },
		{ "gbit", 1000000000ull }, { "tbit", 1000000000000ull },
	};
	__u64 bits;
	int err = parse_scaled(s, u, NUNITS(u), &bits);

	if (err)
		return err;
	if (bits < 8)
		return -ERANGE;
	*bytes_per_s = bits / 8;
	return 0;
}

int corral_parse_size(const char *s, __u64 *bytes)
{
	static const struct unit u[] = {
		{ "", 1 }, { "b", 1 }, { "kb", 1024 }, { "mb", 1024 * 1024 },
		{ "gb", 1024ull * 1024 * 1024 },
	};
	__u64 v;
	int err = parse_scaled(s, u, NUNITS(u), &v);

	if (err)
		return err;
	if (!v)
		return -ERANGE;
	*bytes = v;
	return 0;
}

int corral_parse_duration(const char *s, __u64 *ns)
{
	static const struct unit u[] = {
		{ "", 1000000000ull }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ull }, { "m", 60000000000ull }, { "h", 3600000000000ull },
		{ "d", 86400000000000ull },
	};
	__u64 v;
	int err = parse_scaled(s, u, NUNITS(u), &v);

	if (err)
		return err;
	if (!v)
		return -ERANGE;
	*ns = v;
	return 0;
}

static const __u8 v4mapped_pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int corral_parse_prefix(const char *s, struct corral_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen, i;
	__u32 len, max;
	int err;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = 0;
	memset(p, 0, sizeof(*p));
	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, p->addr) != 1)
			return -EINVAL;
		p->family = 6;
		max = 128;
	} else {
		/* inet_pton(AF_INET) accepts only dotted quads, no short forms */
		if (inet_pton(AF_INET, buf, p->addr) != 1)
			return -EINVAL;
		p->family = 4;
		max = 32;
	}
	len = max;
	if (slash) {
		err = corral_parse_u32_range(slash + 1, 0, max, &len);
		if (err)
			return -EINVAL;
	}
	p->len = (__u8)len;
	/* host bits must be zero */
	for (i = 0; i < max / 8; i++) {
		__u32 bit = (__u32)i * 8;
		__u8 mask;

		if (bit >= len)
			mask = 0;
		else if (bit + 8 <= len)
			mask = 0xff;
		else
			mask = (__u8)(0xff << (8 - (len - bit)));
		if (p->addr[i] & ~mask)
			return -EDOM;
	}
	/* ::ffff:0:0/96 holds the IPv4 keys of the LPM tables */
	if (p->family == 6 && len >= 96 && !memcmp(p->addr, v4mapped_pfx, sizeof(v4mapped_pfx)))
		return -EAFNOSUPPORT;
	return 0;
}

int corral_parse_level(const char *s, __u32 *level, __u32 *frac)
{
	const char *p;
	__u32 f = 0, scale = CORRAL_FRAC_ONE / 10;
	int digits = 0;

	if (!s || *s < '0' || *s > '7')
		return -EINVAL;
	p = s + 1;
	if (*p == '.') {
		for (p++; *p; p++) {
			if (*p < '0' || *p > '9' || ++digits > 4)
				return -EINVAL;
			f += (__u32)(*p - '0') * scale;
			scale /= 10;
		}
		if (!digits)
			return -EINVAL;
	} else if (*p) {
		return -EINVAL;
	}
	*level = (__u32)(*s - '0');
	*frac = f;
	return 0;
}

int corral_parse_port_range(const char *s, __u16 *lo, __u16 *hi)
{
	char buf[16];
	const char *dash;
	__u32 a, b;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	dash = strchr(s, '-');
	if (!dash) {
		if (corral_parse_u32_range(s, 0, 65535, &a))
			return -EINVAL;
		b = a;
	} else {
		memcpy(buf, s, (size_t)(dash - s));
		buf[dash - s] = 0;
		if (corral_parse_u32_range(buf, 0, 65535, &a) ||
		    corral_parse_u32_range(dash + 1, 0, 65535, &b) || b < a)
			return -EINVAL;
	}
	*lo = (__u16)a;
	*hi = (__u16)b;
	return 0;
}

int corral_parse_ports(const char *str, struct corral_portset *s, char *bad, size_t badlen)
{
	const char *p = str, *comma;
	char elem[16];
	__u16 lo, hi;
	size_t n;
	__u32 port;

	memset(s, 0, sizeof(*s));
	if (bad && badlen)
		bad[0] = 0;
	if (!str || !*str) {
		if (bad && badlen)
			snprintf(bad, badlen, "%s", str ? str : "");
		return -EINVAL;
	}
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(elem))
			goto bad_elem;
		memcpy(elem, p, n);
		elem[n] = 0;
		/* port 0 is not a destination a client can connect to */
		if (corral_parse_port_range(elem, &lo, &hi) || lo == 0)
			goto bad_elem;
		for (port = lo; port <= hi; port++)
			corral_portset_add(s, port);
		if (!comma)
			return 0;
		p = comma + 1;
	}
bad_elem:
	if (bad && badlen)
		snprintf(bad, badlen, "%.*s", (int)(n < 64 ? n : 64), p);
	memset(s, 0, sizeof(*s));
	return -EINVAL;
}

char *corral_ports_str(const struct corral_portset *s, char *buf, size_t len)
{
	size_t off = 0;
	__u32 port = 0, end;
	int n;

	if (len)
		buf[0] = 0;
	while (port < 65536) {
		if (!corral_portset_has(s, port)) {
			port++;
			continue;
		}
		for (end = port; end + 1 < 65536 && corral_portset_has(s, end + 1); end++)
			;
		if (end == port)
			n = snprintf(buf + off, len - off, "%s%u", off ? "," : "", port);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", port, end);
		if (n < 0 || (size_t)n >= len - off) {
			/* truncated: end with "..." when there is room */
			if (len >= 4)
				memcpy(buf + len - 4, "...", 4);
			return buf;
		}
		off += (size_t)n;
		port = end + 1;
	}
	return buf;
}

unsigned int corral_portset_count(const struct corral_portset *s)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < CORRAL_PORTSET_BYTES; i++)
		n += (unsigned int)__builtin_popcount(s->bits[i]);
	return n;
}

static const char *const proto_names[CORRAL_NPROTO] = {
	[CORRAL_PI_TCP] = "tcp",
	[CORRAL_PI_UDP] = "udp",
	[CORRAL_PI_ICMP] = "icmp",
	[CORRAL_PI_ICMPV6] = "icmpv6",
};

int corral_parse_proto(const char *s, __u8 *proto_idx)
{
	__u8 i;

	for (i = 0; i < CORRAL_NPROTO; i++) {
		if (s && !strcmp(s, proto_names[i])) {
			*proto_idx = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *corral_proto_name(__u8 proto_idx)
{
	return proto_idx < CORRAL_NPROTO ? proto_names[proto_idx] : "?";
}

static const char *const reason_names[CORRAL_NREASON] = {
	[CORRAL_R_PASS] = "pass",
	[CORRAL_R_ALLOW] = "allow",
	[CORRAL_R_NONIP] = "nonip",
	[CORRAL_R_RATE] = "rate",
	[CORRAL_R_SHED] = "shed",
	[CORRAL_R_DENY] = "deny",
	[CORRAL_R_MALFORMED] = "malformed",
	[CORRAL_R_WOULD_DROP] = "would_drop",
	[CORRAL_R_SYN_SEEN] = "syn_seen",
	[CORRAL_R_SYN_ADMIT] = "syn_admit",
	[CORRAL_R_SYN_DEFER] = "syn_defer",
	[CORRAL_R_SYN_CAP] = "syn_cap",
	[CORRAL_R_SYN_COOKIE] = "syn_cookie",
};

const char *corral_reason_name(unsigned int reason)
{
	return reason < CORRAL_NREASON ? reason_names[reason] : "?";
}

void corral_prefix_to_lpm(const struct corral_prefix *p, struct corral_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	if (p->family == 4) {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(&k->addr[12], p->addr, 4);
		k->prefixlen = 96u + p->len;
	} else {
		memcpy(k->addr, p->addr, 16);
		k->prefixlen = p->len;
	}
}

static bool lpm_is_v4(const struct corral_lpm_key *k)
{
	return k->prefixlen >= 96 && !memcmp(k->addr, v4mapped_pfx, sizeof(v4mapped_pfx));
}

void corral_lpm_to_prefix(const struct corral_lpm_key *k, struct corral_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (lpm_is_v4(k)) {
		p->family = 4;
		p->len = (__u8)(k->prefixlen - 96);
		memcpy(p->addr, &k->addr[12], 4);
	} else {
		p->family = 6;
		p->len = (__u8)k->prefixlen;
		memcpy(p->addr, k->addr, 16);
	}
}

char *corral_prefix_str(const struct corral_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

const char *corral_rule_kind_name(__u32 kind)
{
	switch (kind) {
	case CORRAL_RULE_ALLOW: return "allow";
	case CORRAL_RULE_DENY: return "deny";
	case CORRAL_RULE_CLASS: return "class";
	case CORRAL_RULE_LIMIT: return "limit";
	}
	return "other";
}

char *corral_lpm_str(const struct corral_lpm_key *k, char *buf, size_t len)
{
	struct corral_prefix p;

	corral_lpm_to_prefix(k, &p);
	return corral_prefix_str(&p, buf, len);
}

static char *scaled_str(__u64 v, const struct unit *u, size_t nu, char *buf, size_t len)
{
	size_t i;

	/* largest unit that divides v exactly; u[] ascending */
	for (i = nu; i-- > 1;) {
		if (v && v % u[i].mult == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(v / u[i].mult), u[i].suffix);
			return buf;
		}
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)v, u[0].suffix);
	return buf;
}

char *corral_rate_str(__u64 pps, char *buf, size_t len)
{
	static const struct unit u[] = {
		{ "pps", 1 }, { "kpps", 1000 }, { "mpps", 1000000 }, { "gpps", 1000000000 },
	};
	return scaled_str(pps, u, NUNITS(u), buf, len);
}

char *corral_byterate_str(__u64 bytes_per_s, char *buf, size_t len)
{
	static const struct unit u[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 },
		{ "gbit", 1000000000ull }, { "tbit", 1000000000000ull },
	};
	if (bytes_per_s > ~0ull / 8)
		return scaled_str(bytes_per_s, u, 1, buf, len);
	return scaled_str(bytes_per_s * 8, u, NUNITS(u), buf, len);
}

char *corral_size_str(__u64 bytes, char *buf, size_t len)
{
	static const struct unit u[] = {
		{ "b", 1 }, { "kb", 1024 }, { "mb", 1024 * 1024 }, { "gb", 1024ull * 1024 * 1024 },
	};
	return scaled_str(bytes, u, NUNITS(u), buf, len);
}

char *corral_level_str(__u32 level, __u32 frac, char *buf, size_t len)
{
	int n;

	if (!frac) {
		snprintf(buf, len, "%u", level);
		return buf;
	}
	n = snprintf(buf, len, "%u.%04u", level, frac);
	/* strip trailing zeros of the fraction */
	while (n > 0 && (size_t)n < len && buf[n - 1] == '0')
		buf[--n] = 0;
	return buf;
}

int corral_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}
