// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_words.c - libFuzzer harness for the grammar words (user/words.h).
 *
 * The input, cut at the first NUL, is handed to every word parser. Besides
 * memory and UB errors (ASan/UBSan), the harness checks the contracts:
 * a parser that fails leaves no half result that later code could trust,
 * accepted values are in range, and what a formatter prints parses back to
 * the same value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_words: %s:%d: check failed: %s (input \"%s\")\n", \
		__FILE__, __LINE__, #cond, in); \
	abort(); } } while (0)

static void rate(const char *in)
{
	char buf[64];
	__u64 v, w;

	if (corral_parse_rate(in, &v))
		return;
	CHECK(v > 0);
	corral_rate_str(v, buf, sizeof(buf));
	CHECK(!corral_parse_rate(buf, &w));
	CHECK(w == v);
}

static void byterate(const char *in)
{
	char buf[64];
	__u64 v, w;

	if (corral_parse_byterate(in, &v))
		return;
	CHECK(v > 0);
	CHECK(v <= ~0ull / 8);
	corral_byterate_str(v, buf, sizeof(buf));
	CHECK(!corral_parse_byterate(buf, &w));
	CHECK(w == v);
}

static void size(const char *in)
{
	char buf[64];
	__u64 v, w;

	if (corral_parse_size(in, &v))
		return;
	CHECK(v > 0);
	corral_size_str(v, buf, sizeof(buf));
	CHECK(!corral_parse_size(buf, &w));
	CHECK(w == v);
}

static void duration(const char *in)
{
	__u64 v;

	if (corral_parse_duration(in, &v))
		return;
	CHECK(v > 0);
}

static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void prefix(const char *in)
{
	struct corral_prefix p, q;
	struct corral_lpm_key k;
	char buf[CORRAL_PREFIX_STRLEN];

	if (corral_parse_prefix(in, &p))
		return;
	CHECK(p.family == 4 || p.family == 6);
	CHECK(p.len <= (p.family == 4 ? 32 : 128));
	corral_prefix_str(&p, buf, sizeof(buf));
	CHECK(!corral_parse_prefix(buf, &q));
	CHECK(!memcmp(&p, &q, sizeof(p)));
	/* IPv4-mapped IPv6 (inside ::ffff:0:0/96) is refused: its LPM keys
	 * are those of IPv4, so through the LPM key and back every accepted
	 * prefix comes back the same */
	CHECK(!(p.family == 6 && p.len >= 96 && !memcmp(p.addr, v4mapped, sizeof(v4mapped))));
	corral_prefix_to_lpm(&p, &k);
	corral_lpm_to_prefix(&k, &q);
	CHECK(!memcmp(&p, &q, sizeof(p)));
}

static void level(const char *in)
{
	char buf[32];
	__u32 l, f, l2, f2;

	if (corral_parse_level(in, &l, &f))
		return;
	CHECK(l <= 7);
	CHECK(f < CORRAL_FRAC_ONE);
	corral_level_str(l, f, buf, sizeof(buf));
	CHECK(!corral_parse_level(buf, &l2, &f2));
	CHECK(l2 == l && f2 == f);
}

static void port_range(const char *in)
{
	__u16 lo, hi;

	if (corral_parse_port_range(in, &lo, &hi))
		return;
	CHECK(lo <= hi);
}

static void ports(const char *in)
{
	static struct corral_portset s, t;
	char bad[80], buf[512];
	size_t n;

	if (corral_parse_ports(in, &s, bad, sizeof(bad))) {
		CHECK(corral_portset_count(&s) == 0);
		CHECK(memchr(bad, 0, sizeof(bad)) != NULL);
		return;
	}
	CHECK(corral_portset_count(&s) > 0);
	CHECK(!corral_portset_has(&s, 0));
	corral_ports_str(&s, buf, sizeof(buf));
	n = strlen(buf);
	CHECK(n < sizeof(buf));
	/* a list that fits parses back to the same set */
	if (n < 3 || strcmp(buf + n - 3, "...")) {
		CHECK(!corral_parse_ports(buf, &t, NULL, 0));
		CHECK(!memcmp(&s, &t, sizeof(s)));
	}
}

static void numbers(const char *in)
{
	__u64 v;
	__u32 u;
	__u8 p;

	if (!corral_parse_u64(in, &v))
		CHECK(in[0] >= '0' && in[0] <= '9');
	if (!corral_parse_u32_range(in, 3, 1000, &u))
		CHECK(u >= 3 && u <= 1000);
	if (!corral_parse_proto(in, &p))
		CHECK(p < CORRAL_NPROTO && !strcmp(corral_proto_name(p), in));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	/* an exact-size copy, so ASan sees any read past the terminator */
	char *in = malloc(len + 1);

	if (!in)
		return 0;
	memcpy(in, data, len);
	in[len] = 0;
	rate(in);
	byterate(in);
	size(in);
	duration(in);
	prefix(in);
	level(in);
	port_range(in);
	ports(in);
	numbers(in);
	free(in);
	return 0;
}
