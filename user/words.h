/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * words.h - parsers for the words of the corral grammar. Each returns 0 or
 * -EINVAL (or -ERANGE when the number is out of range) and never accepts
 * trailing garbage, signs or spaces.
 *
 *   RATE      1000pps 10kpps 2mpps 1gpps        packets/s, k = 1000; bare = pps
 *   BYTERATE  800bit 800kbit 10mbit 1gbit 1tbit  bits/s, k = 1000; result in bytes/s
 *   SIZE      1500b 64kb 1mb 1gb                bytes, k = 1024; bare = bytes
 *   DURATION  10ns 500us 100ms 2s 1m            result in ns; bare = seconds
 *   PREFIX    a.b.c.d[/len] or IPv6[/len]       host bits must be zero (-EDOM); IPv6
 *                                               inside ::ffff:0:0/96 (IPv4-mapped) is
 *                                               refused (-EAFNOSUPPORT): its LPM keys
 *                                               are those of IPv4
 *   LEVEL     L or L.F                          L 0..7, F a decimal fraction (<= 4 digits)
 *   PORTS     PORT[,PORT...]                    each PORT 1..65535 or LO-HI (inclusive);
 *                                               overlaps allowed, empty elements not
 */
#ifndef CORRAL_WORDS_H
#define CORRAL_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"

struct corral_prefix {
	__u8 family;            /* 4 or 6 */
	__u8 len;               /* 0..32 or 0..128 */
	__u8 addr[16];          /* network order; IPv4 in addr[0..3] */
};

int corral_parse_u64(const char *s, __u64 *v);            /* plain decimal */
int corral_parse_u32_range(const char *s, __u32 lo, __u32 hi, __u32 *v);
int corral_parse_rate(const char *s, __u64 *pps);
int corral_parse_byterate(const char *s, __u64 *bytes_per_s);
int corral_parse_size(const char *s, __u64 *bytes);
int corral_parse_duration(const char *s, __u64 *ns);
int corral_parse_prefix(const char *s, struct corral_prefix *p);
int corral_parse_level(const char *s, __u32 *level, __u32 *frac);
int corral_parse_port_range(const char *s, __u16 *lo, __u16 *hi);
int corral_parse_proto(const char *s, __u8 *proto_idx);

/* a set of TCP/UDP ports, one bit per port */
#define CORRAL_PORTSET_BYTES (65536 / 8)
struct corral_portset {
	__u8 bits[CORRAL_PORTSET_BYTES];
};

static inline bool corral_portset_has(const struct corral_portset *s, __u32 port)
{
	return port < 65536 && (s->bits[port >> 3] >> (port & 7)) & 1;
}

static inline void corral_portset_add(struct corral_portset *s, __u32 port)
{
	if (port < 65536)
		s->bits[port >> 3] |= (__u8)(1u << (port & 7));
}

/*
 * PORTS into s (cleared first). On error, the offending element is copied
 * into bad (when bad is not NULL) so the message can name it.
 */
int corral_parse_ports(const char *str, struct corral_portset *s, char *bad, size_t badlen);
/* "80,443,8000-8010" (ascending, runs as ranges); "" for an empty set */
char *corral_ports_str(const struct corral_portset *s, char *buf, size_t len);
unsigned int corral_portset_count(const struct corral_portset *s);

/* prefix <-> LPM key (IPv4 as ::ffff:a.b.c.d, prefixlen + 96) */
void corral_prefix_to_lpm(const struct corral_prefix *p, struct corral_lpm_key *k);
void corral_lpm_to_prefix(const struct corral_lpm_key *k, struct corral_prefix *p);
/* "10.0.0.0/8", "fd77::/16"; buf of at least CORRAL_PREFIX_STRLEN */
#define CORRAL_PREFIX_STRLEN 48
char *corral_prefix_str(const struct corral_prefix *p, char *buf, size_t len);
char *corral_lpm_str(const struct corral_lpm_key *k, char *buf, size_t len);
/* "allow", "deny", "class", "limit" for an enum corral_rule_kind ("other") */
const char *corral_rule_kind_name(__u32 kind);

/* formatting of the units above, for show output: "10kpps", "8mbit", "64kb" */
char *corral_rate_str(__u64 pps, char *buf, size_t len);
char *corral_byterate_str(__u64 bytes_per_s, char *buf, size_t len);
char *corral_size_str(__u64 bytes, char *buf, size_t len);
char *corral_level_str(__u32 level, __u32 frac, char *buf, size_t len);

const char *corral_proto_name(__u8 proto_idx);
const char *corral_reason_name(unsigned int reason);

/* format a message into err (when given) and return -EINVAL */
int corral_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* CORRAL_WORDS_H */
