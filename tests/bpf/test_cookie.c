// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cookie.c - SYN cookies for protected ports (bpf/cookie.h) through
 * corral_xdp and corral_tc_in, and the ACK side through corral_tc_cookie
 * and corral_tc_in, against real listening sockets in a network namespace
 * of the test's own.
 *
 * A SYN to a protected port with cookies on comes back as a SYN-ACK: MACs,
 * addresses and ports swapped, VLAN tags kept, IP options and IPv6
 * extension headers dropped, flags SYN|ACK, ack = seq + 1, one option (MSS
 * = the device MTU less 40 / 60), window 65535, TTL 64, IP and TCP
 * checksums that verify. Its seq is a cookie the kernel's own check
 * accepts: the ACK the client would send checks against the listener, the
 * same ACK 4 or 2^24 off does not (cookie_bad, passed on), an ACK to a
 * port with no listener is left alone. BPF_PROG_TEST_RUN cannot hand a
 * request socket over (bpf_sk_assign_tcp_reqsk wants an skb at tc ingress,
 * which a test run is not), so a checked ACK is cookie_ok or refused here;
 * tests/e2e/cookie.bats sees the handover and the connections it makes. No per-source bucket is made for a cookie SYN,
 * and the admission is counted on the ACK, not the SYN. Unanswerable SYNs
 * are dropped and counted, monitor mode and cookies off never answer.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "corral.skel.h"
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define T0 (1000 * NSEC)
#define PORT 80          /* protected, with a listener */
#define PORT_NOLISTEN 81 /* protected, no listener */

static int synports_fd, cookie_fd;

struct out {
	__u8 b[PKT_BUF_MAX];
	__u32 len;
	int v;
};

struct frame {
	__u8 b[PKT_BUF_MAX];
	int len;
	struct pkt_layout lay;
	struct pkt_spec s;
};

static __u16 rd16(const __u8 *b) { return (__u16)(b[0] << 8 | b[1]); }
static __u32 rd32(const __u8 *b) { return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3]; }

/* checksum of a TCP segment with its pseudo-header: 0 when right */
static __u16 tcp_csum(int family, const __u8 *l3, const __u8 *l4, __u32 l4len)
{
	__u8 ph[40];
	__u32 n, s;

	if (family == 4) {
		memcpy(ph, l3 + 12, 8);
		ph[8] = 0;
		ph[9] = PKT_TCP;
		ph[10] = (__u8)(l4len >> 8);
		ph[11] = (__u8)l4len;
		n = 12;
	} else {
		memcpy(ph, l3 + 8, 32);
		memset(ph + 32, 0, 8);
		ph[34] = (__u8)(l4len >> 8);
		ph[35] = (__u8)l4len;
		ph[39] = PKT_TCP;
		n = 40;
	}
	s = (__u16)~pkt_csum(ph, n, 0);
	return pkt_csum(l4, l4len, s);
}

/* the TCP checksum of a built frame, after its bytes were changed */
static void fix_tcp(struct frame *f)
{
	__u8 *th = f->b + f->lay.l4;
	__u32 l4len = (__u32)(f->len - f->lay.l4);
	__u16 c;

	th[16] = th[17] = 0;
	c = tcp_csum(f->s.family, f->b + f->lay.l3, th, l4len);
	th[16] = (__u8)(c >> 8);
	th[17] = (__u8)c;
}

static void spec(struct frame *f, int family, __u8 flags, __u16 dport)
{
	__u8 src[16], dst[16];

	if (family == 4) {
		pkt_spec_v4(&f->s, PKT_IP4(10, 78, 1, 2), PKT_IP4(10, 77, 0, 1), PKT_TCP, 40000,
			    dport);
	} else {
		pkt_ip6(src, 0xfd77, 0x78, 1, 0, 0, 0, 0, 2);
		pkt_ip6(dst, 0xfd77, 0, 0, 0, 0, 0, 0, 1);
		pkt_spec_v6(&f->s, src, dst, PKT_TCP, 40000, dport);
	}
	f->s.tcp_flags = flags;
	f->s.seq = 1000;
	f->s.ack_seq = 0;
}

/*
 * A client's SYN as Linux sends it: MSS, SACK permitted, timestamps,
 * window scale (20 option bytes).
 */
static void build_syn(struct frame *f, __u16 mss)
{
	static const __u8 opt[20] = { 2, 4, 0, 0, 4, 2, 8, 10, 0, 0, 0x12, 0x34,
				      0, 0, 0, 0, 1, 3, 3, 7 };
	__u8 *o;

	f->s.tcp_opt_len = 20;
	f->len = pkt_build(&f->s, f->b, sizeof(f->b), &f->lay);
	o = f->b + f->lay.l4 + 20;
	memcpy(o, opt, sizeof(opt));
	o[2] = (__u8)(mss >> 8);
	o[3] = (__u8)mss;
	fix_tcp(f);
}

static int run(struct harness *h, enum h_prog p, const struct frame *f, struct out *o)
{
	o->len = sizeof(o->b);
	o->v = h_run_out(h, p, f->b, (__u32)f->len, o->b, &o->len);
	return o->v;
}

/* corral_tc_cookie (tc ingress beside XDP): TC_ACT_OK or -errno */
static int run_cookie_prog(const struct frame *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(cookie_fd, &o))
		return -errno;
	return (int)o.retval;
}

static void gate(struct harness *h, int cookies, __u8 mode)
{
	struct corral_cfg c;
	__u32 port;
	__u8 on = 1;

	h_reset(h);
	h_set_now(h, T0);
	port = PORT;
	bpf_map_update_elem(synports_fd, &port, &on, BPF_ANY);
	port = PORT_NOLISTEN;
	bpf_map_update_elem(synports_fd, &port, &on, BPF_ANY);
	h_cfg_get(h, &c);
	c.syn_on = 1;
	c.syn_cookies = (__u8)cookies;
	c.mode = mode;
	h_cfg_set(h, &c);
	/* a default limit: a SYN that met the buckets would leave one behind */
	h_set_default_limit(h, 1000, 100, 0, 0);
}

/*
 * SYN -> SYN-ACK through program p; checks the reply and returns the
 * cookie (its seq), or 0 when there was no reply.
 */
static __u32 check_synack(struct harness *h, enum h_prog p, struct frame *f, const char *what,
			  __u16 want_mss)
{
	static struct out o;
	struct h_stats a, b;
	const __u8 *ip, *in, *th;
	int hl = f->s.family == 4 ? 20 : 40;
	long nb = h_buckets_count(h);

	h_stats_read(h, &b);
	run(h, p, f, &o);
	h_stats_read(h, &a);
	TAP_EQ(what, o.v, H_TX);
	if (o.v != H_TX)
		return 0;
	TAP_EQ("SYN-ACK length: L2 + IP + 24", o.len, (__u32)(f->lay.l3 + hl + 24));
	TAP_CHECK(!memcmp(o.b, f->b + 6, 6) && !memcmp(o.b + 6, f->b, 6), "%s: MACs swapped",
		  what);
	TAP_CHECK(!memcmp(o.b + 12, f->b + 12, f->lay.l3 - 12),
		  "%s: EtherType and %d VLAN tag(s) kept", what, f->lay.nvlan);
	ip = o.b + f->lay.l3;
	in = f->b + f->lay.l3;
	if (f->s.family == 4) {
		TAP_CHECK(ip[0] == 0x45 && rd16(ip + 2) == 44 && ip[9] == PKT_TCP && ip[8] == 64 &&
			  (rd16(ip + 6) & 0x3fff) == 0,
			  "%s: IPv4 header: ihl 5, tot_len 44, TCP, ttl 64, not a fragment", what);
		TAP_CHECK(!memcmp(ip + 12, in + 16, 4) && !memcmp(ip + 16, in + 12, 4),
			  "%s: IPv4 addresses swapped", what);
		TAP_EQ("IPv4 header checksum verifies", pkt_csum(ip, 20, 0), 0);
	} else {
		TAP_CHECK((ip[0] >> 4) == 6 && rd16(ip + 4) == 24 && ip[6] == PKT_TCP && ip[7] == 64,
			  "%s: IPv6 header: payload 24, next TCP, hop limit 64", what);
		TAP_CHECK(!memcmp(ip + 8, in + 24, 16) && !memcmp(ip + 24, in + 8, 16),
			  "%s: IPv6 addresses swapped", what);
	}
	th = ip + hl;
	TAP_CHECK(rd16(th) == f->s.dport && rd16(th + 2) == f->s.sport, "%s: ports swapped",
		  what);
	TAP_CHECK(th[12] == 0x60 && th[13] == (PKT_SYN | PKT_ACK) && rd16(th + 14) == 65535,
		  "%s: doff 6, flags SYN|ACK (0x%02x), window 65535 (%u)", what, th[13],
		  rd16(th + 14));
	TAP_EQ("ack = the SYN's seq + 1", rd32(th + 8), f->s.seq + 1);
	TAP_CHECK(th[20] == 2 && th[21] == 4 && rd16(th + 22) == want_mss,
		  "%s: the one option is MSS %u (got kind %u len %u value %u)", what, want_mss,
		  th[20], th[21], rd16(th + 22));
	TAP_EQ("TCP checksum with pseudo-header verifies",
	       tcp_csum(f->s.family, ip, th, 24), 0);
	TAP_EQ("counted as a cookie SYN", h_pkts(&a, &b, 4, CORRAL_R_SYN_COOKIE), 1);
	TAP_EQ("a cookie SYN is not an admission", h_pkts(&a, &b, 4, CORRAL_R_SYN_ADMIT), 0);
	TAP_EQ("a cookie SYN leaves no per-source bucket", h_buckets_count(h), nb);
	return rd32(th + 4);
}

/* the client's ACK for a SYN-ACK with this cookie, off by delta */
static void build_ack(struct frame *f, int family, __u32 cookie, int delta, __u16 dport)
{
	spec(f, family, PKT_ACK, dport);
	f->s.seq = 1001;
	f->s.ack_seq = cookie + 1 + (__u32)delta;
	f->len = pkt_build(&f->s, f->b, sizeof(f->b), &f->lay);
}

/* the ACK through corral_tc_cookie (p = -1) or corral_tc_in */
static void check_ack(struct harness *h, int p, int family, __u32 cookie, int delta,
		      __u16 dport, __u64 want_checked, __u64 want_bad, const char *what)
{
	static struct frame f;
	static struct out o;
	struct h_stats a, b;
	__u64 ok, refused;
	int v;

	build_ack(&f, family, cookie, delta, dport);
	h_stats_read(h, &b);
	if (p < 0) {
		v = run_cookie_prog(&f);
		TAP_EQ("corral_tc_cookie passes every ACK on (TC_ACT_OK)", v, 0);
	} else {
		v = run(h, (enum h_prog)p, &f, &o);
		TAP_EQ("corral_tc_in passes the ACK on", v, H_PASS);
	}
	h_stats_read(h, &a);
	ok = h_gstat(&a, &b, CORRAL_G_COOKIE_OK);
	refused = h_gstat(&a, &b, CORRAL_G_COOKIE_FAIL);
	TAP_CHECK(ok + refused == want_checked && h_gstat(&a, &b, CORRAL_G_COOKIE_BAD) == want_bad,
		  "%s: checked %llu (want %llu), cookie_bad %llu (want %llu)", what,
		  (unsigned long long)(ok + refused), (unsigned long long)want_checked,
		  (unsigned long long)h_gstat(&a, &b, CORRAL_G_COOKIE_BAD),
		  (unsigned long long)want_bad);
	TAP_EQ("the admission is counted on a handed-over ACK only",
	       h_pkts(&a, &b, 4, CORRAL_R_SYN_ADMIT), ok);
}

static void test_handshake(struct harness *h, enum h_prog p, int family)
{
	static struct frame f;
	const char *pn = h_prog_name(p);
	__u16 mss = family == 4 ? 1460 : 1440;
	char w[160];
	__u32 c;

	gate(h, 1, CORRAL_MODE_ENFORCE);
	spec(&f, family, PKT_SYN, PORT);
	build_syn(&f, mss);
	snprintf(w, sizeof(w), "%s: IPv%d SYN with MSS, SACK, TS, WS -> cookie SYN-ACK", pn,
		 family);
	c = check_synack(h, p, &f, w, mss);
	if (!c)
		return;
	snprintf(w, sizeof(w), "%s: IPv%d, the right ACK", pn, family);
	check_ack(h, -1, family, c, 0, PORT, 1, 0, w);
	check_ack(h, H_TC_IN, family, c, 0, PORT, 1, 0, w);
	/* the cookie carries an MSS index 0..3 in its low bits: 4 above is
	 * never valid (1 above can be: a larger MSS of the table) */
	snprintf(w, sizeof(w), "%s: IPv%d, an ACK 4 above the cookie", pn, family);
	check_ack(h, -1, family, c, 4, PORT, 0, 1, w);
	snprintf(w, sizeof(w), "%s: IPv%d, an ACK 2^24 off (another counter)", pn, family);
	check_ack(h, H_TC_IN, family, c, 1 << 24, PORT, 0, 1, w);
	snprintf(w, sizeof(w), "%s: IPv%d, an ACK to a port with no listener", pn, family);
	check_ack(h, -1, family, c, 0, PORT_NOLISTEN, 0, 0, w);

	/* the cookie depends on the 4-tuple and the client's seq */
	spec(&f, family, PKT_SYN, PORT);
	f.s.seq = 777777;
	build_syn(&f, mss);
	snprintf(w, sizeof(w), "%s: IPv%d, another seq gives another cookie", pn, family);
	TAP_CHECK(check_synack(h, p, &f, w, mss) != c, "%s", w);
}

static void test_shapes(struct harness *h, enum h_prog p)
{
	static struct frame f;
	const char *pn = h_prog_name(p);
	char w[160];

	gate(h, 1, CORRAL_MODE_ENFORCE);
	snprintf(w, sizeof(w), "%s: IPv4 SYN in two VLAN tags", pn);
	spec(&f, 4, PKT_SYN, PORT);
	f.s.nvlan = 2;
	f.s.vlan_tci[0] = 10;
	f.s.vlan_tci[1] = 20;
	build_syn(&f, 1460);
	check_synack(h, p, &f, w, 1460);

	snprintf(w, sizeof(w), "%s: IPv4 SYN with 8 IP option bytes", pn);
	spec(&f, 4, PKT_SYN, PORT);
	f.s.ip_opt_len = 8;
	build_syn(&f, 1460);
	check_synack(h, p, &f, w, 1460);

	snprintf(w, sizeof(w), "%s: IPv6 SYN behind a destination-options header", pn);
	spec(&f, 6, PKT_SYN, PORT);
	pkt_spec_add_ext(&f.s, PKT_DSTOPTS, 16);
	build_syn(&f, 1440);
	check_synack(h, p, &f, w, 1440);

	snprintf(w, sizeof(w), "%s: IPv4 SYN without options", pn);
	spec(&f, 4, PKT_SYN, PORT);
	f.len = pkt_build(&f.s, f.b, sizeof(f.b), &f.lay);
	check_synack(h, p, &f, w, 1460);
}

/* SYNs that must not be answered, and modes that never answer */
static void no_cookie(struct harness *h, enum h_prog p, struct frame *f, const char *what,
		      int want_v, __u64 want_none)
{
	static struct out o;
	struct h_stats a, b;

	h_stats_read(h, &b);
	run(h, p, f, &o);
	h_stats_read(h, &a);
	TAP_CHECK(o.v == want_v && h_gstat(&a, &b, CORRAL_G_COOKIE_NONE) == want_none,
		  "%s: verdict %d (want %d), unanswered %llu (want %llu)", what, o.v, want_v,
		  (unsigned long long)h_gstat(&a, &b, CORRAL_G_COOKIE_NONE),
		  (unsigned long long)want_none);
	TAP_EQ("and no cookie SYN-ACK counted as sent",
	       h_pkts(&a, &b, 4, CORRAL_R_SYN_COOKIE), want_none);
}

static void test_never(struct harness *h, enum h_prog p)
{
	static struct frame f;
	const char *pn = h_prog_name(p);
	char w[160];

	gate(h, 1, CORRAL_MODE_ENFORCE);
	snprintf(w, sizeof(w), "%s: SYN from a broadcast source: dropped, counted", pn);
	spec(&f, 4, PKT_SYN, PORT);
	f.s.src4 = PKT_IP4(255, 255, 255, 255);
	build_syn(&f, 1460);
	no_cookie(h, p, &f, w, H_DROP, 1);

	snprintf(w, sizeof(w), "%s: SYN to a group MAC: dropped, counted", pn);
	spec(&f, 4, PKT_SYN, PORT);
	f.s.eth_dst[0] = 0x01;
	build_syn(&f, 1460);
	no_cookie(h, p, &f, w, H_DROP, 1);

	snprintf(w, sizeof(w), "%s: SYN to an unprotected port: passes", pn);
	spec(&f, 4, PKT_SYN, 8081);
	build_syn(&f, 1460);
	no_cookie(h, p, &f, w, H_PASS, 0);

	snprintf(w, sizeof(w), "%s: SYN|ACK to the port: not a SYN, passes", pn);
	spec(&f, 4, PKT_SYN | PKT_ACK, PORT);
	build_syn(&f, 1460);
	no_cookie(h, p, &f, w, H_PASS, 0);

	gate(h, 1, CORRAL_MODE_MONITOR);
	snprintf(w, sizeof(w), "%s: monitor mode: the SYN passes, no cookie", pn);
	spec(&f, 4, PKT_SYN, PORT);
	build_syn(&f, 1460);
	no_cookie(h, p, &f, w, H_PASS, 0);

	gate(h, 0, CORRAL_MODE_ENFORCE);
	snprintf(w, sizeof(w), "%s: cookies off: the SYN passes to the listener", pn);
	no_cookie(h, p, &f, w, H_PASS, 0);
}

/* listeners on PORT for IPv4 and IPv6 in a namespace of the test's own */
static int listeners(void)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(PORT),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int s4, s6, one = 1;

	if (unshare(CLONE_NEWNET))
		return -errno;
	if (system("ip link set lo up"))
		return -EIO;
	s4 = socket(AF_INET, SOCK_STREAM, 0);
	s6 = socket(AF_INET6, SOCK_STREAM, 0);
	if (s4 < 0 || s6 < 0 ||
	    setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(s4, (struct sockaddr *)&a4, sizeof(a4)) || listen(s4, 16) ||
	    bind(s6, (struct sockaddr *)&a6, sizeof(a6)) || listen(s6, 16))
		return -errno;
	return 0;
}

int main(void)
{
	struct harness h;
	int err, p;

	err = listeners();
	if (err) {
		TAP_CHECK(0, "listeners in a namespace of the test's own: %s", strerror(-err));
		return tap_done();
	}
	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	synports_fd = bpf_map__fd(h.skel->maps.corral_synports);
	cookie_fd = bpf_program__fd(h.skel->progs.corral_tc_cookie);
	for (p = H_XDP; p <= H_TC_IN; p++) {
		test_handshake(&h, p, 4);
		test_handshake(&h, p, 6);
		test_shapes(&h, p);
		test_never(&h, p);
	}
	h_close(&h);
	return tap_done();
}
