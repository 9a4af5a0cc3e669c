// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * regress.c - regression cases of the differential run: frames and
 * policies the fuzzer found (or the contract names) as a packet table.
 * Each row runs through both hooks and the model from empty state, and
 * states the verdict reason the contract expects, so a model bug cannot
 * hide a data plane bug. Included by tests/bpf/test_diff.c.
 */

struct regress_case {
	const char *name;
	int family;              /* 4, 6 */
	int next;                /* IPv6 extension headers */
	__u8 ext_type;
	__u8 l4proto;
	__u8 tcp_flags;
	int trunc;               /* >0: cut the frame to this many bytes */
	int ext0_len;            /* first extension header size, 0 = minimum */
	int iplen_delta;         /* added to the IPv6 payload length */
	int expect_reason;
	__u8 tail_ext;           /* one more extension header after the others */
	__u16 frag_off;          /* fragment offset (8-byte units) */
	int mapped_src;          /* IPv6 source ::ffff:10.78.0.1 */
};

#define V6_DST(n) .family = 6, .next = (n), .ext_type = PKT_DSTOPTS

static const struct regress_case regress_cases[] = {
	{ "ipv6, 5 hop-by-hop headers, tcp syn", .family = 6, .next = 5,
	  .ext_type = PKT_HOPOPTS, .l4proto = PKT_TCP, .tcp_flags = PKT_SYN,
	  .expect_reason = CORRAL_R_PASS },
	{ "ipv6, CORRAL_MAX_V6_EXT (6) destination-options headers, tcp syn",
	  V6_DST(CORRAL_MAX_V6_EXT), .l4proto = PKT_TCP, .tcp_flags = PKT_SYN,
	  .expect_reason = CORRAL_R_PASS },
	{ "ipv6, 7 destination-options headers: more than the bound",
	  V6_DST(CORRAL_MAX_V6_EXT + 1), .l4proto = PKT_TCP, .tcp_flags = PKT_SYN,
	  .expect_reason = CORRAL_R_MALFORMED },
	/* the header claims 16 bytes, 4 are left; the payload length fits the frame */
	{ "ipv6, hop-by-hop header cut short, then no next header", .family = 6, .next = 1,
	  .ext_type = PKT_HOPOPTS, .ext0_len = 16, .l4proto = PKT_NONE, .trunc = 14 + 40 + 4,
	  .iplen_delta = -12, .expect_reason = CORRAL_R_MALFORMED },
	{ "ipv6, routing header cut short, then gre", .family = 6, .next = 1,
	  .ext_type = PKT_ROUTING, .ext0_len = 24, .l4proto = PKT_GRE, .trunc = 14 + 40 + 6,
	  .iplen_delta = -18, .expect_reason = CORRAL_R_MALFORMED },
	{ "ipv6, 6 destination-options headers, then a non-first fragment header (7 headers)",
	  V6_DST(CORRAL_MAX_V6_EXT), .tail_ext = PKT_FRAGMENT, .frag_off = 100,
	  .l4proto = PKT_TCP, .expect_reason = CORRAL_R_MALFORMED },
	{ "ipv6, 5 destination-options headers, then a non-first fragment header (6 headers)",
	  V6_DST(CORRAL_MAX_V6_EXT - 1), .tail_ext = PKT_FRAGMENT, .frag_off = 100,
	  .l4proto = PKT_TCP, .expect_reason = CORRAL_R_PASS },
	{ "ipv4, udp", .family = 4, .l4proto = PKT_UDP, .expect_reason = CORRAL_R_PASS },
	/* would match IPv4 rules, which live at ::ffff:0:0/96 in the policy trie */
	{ "ipv6 from an IPv4-mapped source ::ffff:10.78.0.1", .family = 6, .l4proto = PKT_UDP,
	  .mapped_src = 1, .expect_reason = CORRAL_R_MALFORMED },
};

static void regress_run(struct diff_engine *e, const struct diff_opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(regress_cases) / sizeof(regress_cases[0]); i++) {
		const struct regress_case *rc = &regress_cases[i];
		__u8 src6[16] = { 0xfd, 0x77, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		__u8 dst6[16] = { 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
		__u8 buf[PKT_BUF_MAX];
		struct diff_case c;
		struct corral_ctl ctl;
		struct pkt_spec s;
		struct model_out want;
		long dis = e->res->disagreements;
		int len, hook, j, bad, err;

		if (rc->mapped_src) {
			static const __u8 mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
							 10, 78, 0, 1 };

			memcpy(src6, mapped, sizeof(src6));
		}
		memset(&c, 0, sizeof(c));
		h_cfg_defaults(&c.pol.cfg);
		if (rc->family == 4)
			pkt_spec_v4(&s, PKT_IP4(10, 78, 0, 1), PKT_IP4(10, 77, 0, 2), rc->l4proto,
				    40000, 80);
		else
			pkt_spec_v6(&s, src6, dst6, rc->l4proto, 40000, 80);
		s.tcp_flags = rc->tcp_flags;
		s.iplen_delta = rc->iplen_delta;
		s.frag_off = rc->frag_off;
		for (j = 0; j < rc->next; j++)
			pkt_spec_add_ext(&s, rc->ext_type, j ? 0 : (__u16)rc->ext0_len);
		if (rc->tail_ext)
			pkt_spec_add_ext(&s, rc->tail_ext, 0);
		len = pkt_build(&s, buf, sizeof(buf), NULL);
		if (len > 0 && rc->trunc > 0 && rc->trunc < len)
			len = rc->trunc;
		err = 0;
		for (hook = 0; hook < DIFF_NHOOK && !err; hook++) {
			err = dp_load_policy(&e->dp[hook], &c);
			model_reset(&e->m[hook]);
		}
		if (err) {
			TAP_CHECK(0, "regression: %s: load policy: %s", rc->name, strerror(-err));
			continue;
		}
		memset(&ctl, 0, sizeof(ctl));
		ctl.fake_now_ns = 100 * DIFF_NSEC;
		model_eval(&e->m[0], &c.pol, &ctl, buf, len > 0 ? (__u32)len : 0, NULL, &want);
		bad = len <= 0 || diff_one(e, o, -1 - (long)i, 0, &c, &ctl, buf, (__u32)len) != 0;
		TAP_CHECK(!bad && want.reason == rc->expect_reason,
			  "regression: %s: %s, model %s, data plane %s", rc->name,
			  model_reason_name(rc->expect_reason), model_reason_name(want.reason),
			  e->res->disagreements > dis ? "disagrees" : "agrees");
	}
	/* regression rows are not part of the random run's totals */
	e->res->disagreements = 0;
	e->res->first_policy = e->res->first_packet = -1;
	e->res->packets = e->res->runs = e->res->short_frames = e->res->tc_refused = 0;
	memset(e->res->by_reason, 0, sizeof(e->res->by_reason));
}
