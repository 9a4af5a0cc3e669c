// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flood_gen - XDP frame flood generator and its victim-side responder.
 *
 *   flood_gen send dev IF dmac MAC dst4 ADDR [dst6 ADDR6] [family 4|6]
 *                  [sources N|random] [base ADDR] [count N] [time SEC]
 *                  [rate PPS] [cpu N] [port P] [legit-pps N]
 *                  [legit-src ADDR] [legit-port P] [echo-port P] [wait MS]
 *                  [gen auto|xdp-live|af-packet] [proto udp|syn]
 *   flood_gen probe dev IF
 *   flood_gen echo [port P] [sink-port P] [cpu N]
 *
 * "probe" says which backends the kernel lets run on IF, sending nothing.
 *
 * "send" transmits the stream of gen_frame.h out of IF (a veth whose peer
 * is the victim), through one of two backends (see "backends" below): by
 * default BPF_PROG_RUN in live-frames mode, or AF_PACKET where the kernel
 * refuses live frames. The output names the backend (gen=). It stops after `count` frames or `time`
 * seconds, whichever comes first. With `rate`, the stream is paced frame by
 * frame (see gen_frame.h), so the offered load is smooth. With legit-pps, one frame in the stream
 * every 1/legit-pps s is a request from legit-src:legit-port to echo-port;
 * a thread counts the answers (kernel receive timestamps give latency).
 * With proto syn (af-packet, IPv4, no legit requests) every flood frame
 * is a TCP SYN without options to `port` instead of a UDP datagram, from
 * source port 1024 + the source's low 15 bits, with a pseudo-random seq.
 * Output is one line of key=value pairs.
 *
 * "echo" runs in the victim: it answers every datagram on `port` and binds
 * a never-read socket with a minimal buffer on `sink-port`, so flood
 * packets that pass a filter reach UDP and are counted by the kernel
 * (Udp InDatagrams + RcvbufErrors) at the lowest socket cost.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static uint64_t gen_now_ns(void);
#define GEN_NOW() gen_now_ns()
#define GEN_PRANDOM() ((__u32)random())
#include "gen_frame.h"
#include "gen_flood.skel.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524             /* the kernel's internal "not supported" */
#endif
#define CHUNK_FRAMES (1u << 20)     /* frames per BPF_PROG_RUN when unpaced */
#define MAX_LEGIT (1u << 20)        /* requests tracked per run */

static void die_usage(void)
{
	fprintf(stderr,
		"usage: flood_gen send dev IF dmac MAC dst4 ADDR [dst6 ADDR6] [family 4|6]\n"
		"                 [sources N|random] [base ADDR] [count N] [time SEC] [rate PPS]\n"
		"                 [proto udp|syn]\n"
		"                 [cpu N] [port P] [legit-pps N] [legit-src ADDR] [legit-port P]\n"
		"                 [echo-port P] [wait MS] [gen auto|xdp-live|af-packet]\n"
		"       flood_gen probe dev IF\n"
		"       flood_gen echo [port P] [sink-port P] [cpu N]\n");
	exit(2);
}

static void invarg(const char *what, const char *val)
{
	fprintf(stderr, "flood_gen: invalid %s: \"%s\"\n", what, val);
	exit(2);
}

static uint64_t parse_u64(const char *what, const char *s, uint64_t lo, uint64_t hi)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		invarg(what, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		invarg(what, s);
	return v;
}

static double parse_secs(const char *what, const char *s)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v > 0) || v > 86400)
		invarg(what, s);
	return v;
}

static void parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		invarg("dmac", s);
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			invarg("dmac", s);
		mac[i] = b[i];
	}
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "flood_gen: cpu %d: %s\n", cpu, strerror(errno));
		exit(1);
	}
}

/* ---- legit answers ------------------------------------------------------ */
struct answers {
	int fd;
	volatile int stop;
	uint64_t mono_to_real;      /* realtime - monotonic at start */
	uint8_t *seen;              /* MAX_LEGIT flags */
	uint64_t *lat_ns;           /* one per distinct answer */
	uint64_t ok, dup, bad;
};

static void *answers_run(void *arg)
{
	struct answers *a = arg;
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };

	while (!a->stop) {
		char buf[128], cbuf[256];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		uint64_t rx = 0, ts;
		uint32_t magic, seq;
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvmsg(a->fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			continue;
		if (n < 16) {
			a->bad++;
			continue;
		}
		memcpy(&magic, buf, 4);
		memcpy(&seq, buf + 4, 4);
		memcpy(&ts, buf + 8, 8);
		if (ntohl(magic) != GEN_MAGIC_LEGIT || seq >= MAX_LEGIT) {
			a->bad++;
			continue;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec t;

				memcpy(&t, CMSG_DATA(c), sizeof(t));
				rx = (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
			}
		}
		if (a->seen[seq]) {
			a->dup++;
			continue;
		}
		a->seen[seq] = 1;
		if (!rx)
			rx = now_ns(CLOCK_REALTIME);
		ts += a->mono_to_real;
		a->lat_ns[a->ok++] = rx > ts ? rx - ts : 0;
	}
	return NULL;
}

/* a real-time sender never yields to a thread of its own priority: the
 * answers thread, which mostly sleeps in poll(), gets one level more, so
 * replies are timestamped as they come and not when the run ends */
static void answers_priority(pthread_t thr)
{
	struct sched_param sp;
	int policy;

	if (pthread_getschedparam(pthread_self(), &policy, &sp) ||
	    (policy != SCHED_FIFO && policy != SCHED_RR) ||
	    sp.sched_priority >= sched_get_priority_max(policy))
		return;
	sp.sched_priority++;
	pthread_setschedparam(thr, policy, &sp);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static double pct_us(const uint64_t *v, uint64_t n, double p)
{
	uint64_t i;

	if (!n)
		return -1;
	i = (uint64_t)(p * (n - 1) + 0.5);
	return v[i] / 1000.0;
}

/* ---- backends ------------------------------------------------------------ */
/*
 * Two ways to put the stream on the wire, chosen by "gen":
 *   xdp-live   gen_flood.bpf.o under BPF_PROG_RUN with live frames: the
 *              kernel builds and redirects each frame, no syscall per frame;
 *   af-packet  the same frames (gen_frame.h) written in userspace and sent
 *              with sendmmsg() on an AF_PACKET socket that bypasses the
 *              qdisc, GEN_BATCH frames a call.
 * "auto" (the default) probes live frames with a run that sends nothing and
 * falls back to af-packet where the kernel refuses them (EPERM, EINVAL,
 * EOPNOTSUPP), saying so on stderr; any other failure is an error.
 */
#define GEN_BATCH 64

enum gen_kind { GEN_AUTO, GEN_XDP_LIVE, GEN_AF_PACKET };
static const char *const gen_names[] = { "auto", "xdp-live", "af-packet" };

struct sender {
	enum gen_kind kind;
	int ifindex;
	struct gen_cfg cfg;
	struct gen_state *st;          /* the stream's position */
	struct gen_state own;          /* af-packet: st points here */
	struct gen_flood_bpf *skel;    /* xdp-live */
	int pkt_fd;                    /* af-packet */
	bool syn;                      /* af-packet: flood frames as TCP SYNs */
	uint64_t calls;
};

static int live_run(struct sender *s, uint64_t repeat)
{
	uint8_t frame[GEN_FRAME_LEN] __attribute__((aligned(8))) = { 0 };
	struct xdp_md ctx_in = { .data_end = GEN_FRAME_LEN, .ingress_ifindex = s->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .repeat = repeat,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	s->calls++;
	return bpf_prog_test_run_opts(bpf_program__fd(s->skel->progs.gen_flood), &opts);
}

/* 0: live frames work; -errno: refused (probe) or failed to load */
static int live_open(struct sender *s, const char *dev)
{
	int err;

	s->skel = gen_flood_bpf__open();
	if (!s->skel) {
		err = -errno;
		fprintf(stderr, "flood_gen: gen_flood: open: %s\n", strerror(errno));
		return err;
	}
	s->skel->rodata->gen_ifindex = s->ifindex;
	memcpy((void *)&s->skel->rodata->gen_cfg, &s->cfg, sizeof(s->cfg));
	err = gen_flood_bpf__load(s->skel);
	if (err) {
		fprintf(stderr, "flood_gen: gen_flood: load: %s\n", strerror(-err));
		return err;
	}
	s->st = &s->skel->bss->gen_st;
	/* the probe: a stream already at its end writes nothing, so the run
	 * sends no frame whether or not live frames are allowed */
	s->st->sent = s->cfg.max_frames;
	err = live_run(s, 1);
	memset(s->st, 0, sizeof(*s->st));
	s->calls = 0;
	if (err)
		fprintf(stderr, "flood_gen: %s: BPF_PROG_RUN live frames: %s\n", dev,
			strerror(-err));
	return err;
}

static int packet_open(struct sender *s, const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = s->ifindex };
	int one = 1;

	/* protocol 0: a socket that only sends */
	s->pkt_fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (s->pkt_fd < 0 || bind(s->pkt_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "flood_gen: %s: AF_PACKET socket: %s\n", dev, strerror(errno));
		return -errno;
	}
	if (setsockopt(s->pkt_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr, "flood_gen: %s: PACKET_QDISC_BYPASS: %s (sending through the qdisc)\n",
			dev, strerror(errno));
	s->st = &s->own;
	return 0;
}

static int sender_open(struct sender *s, const char *dev)
{
	int err;

	if (s->kind != GEN_AF_PACKET) {
		err = live_open(s, dev);
		if (!err) {
			s->kind = GEN_XDP_LIVE;
			return 0;
		}
		if (s->kind == GEN_XDP_LIVE ||
		    (err != -EPERM && err != -EINVAL && err != -EOPNOTSUPP && err != -ENOTSUPP))
			return err;
		fprintf(stderr, "flood_gen: live frames refused by this kernel; using af-packet\n");
		gen_flood_bpf__destroy(s->skel);
		s->skel = NULL;
	}
	s->kind = GEN_AF_PACKET;
	return packet_open(s, dev);
}

static void sender_close(struct sender *s)
{
	if (s->pkt_fd >= 0)
		close(s->pkt_fd);
	gen_flood_bpf__destroy(s->skel);
}

/*
 * A flood frame of the stream (IPv4/UDP, gen_write_v4) rewritten in place
 * into a TCP SYN without options: 14 + 20 + 20 bytes, the frame's tail is
 * Ethernet padding (tot_len says 40).
 */
static void frame_to_syn(uint8_t *f, uint16_t dport)
{
	/* the IP header sits at offset 14, not 4-byte aligned: worked on as
	 * an aligned copy */
	struct iphdr ip;
	uint8_t *th = f + 34;
	uint32_t sum = 0, seq = (uint32_t)random();
	uint16_t sport, c;
	int i;

	if (f[12] != 0x08 || f[13] != 0x00)
		return;
	memcpy(&ip, f + 14, sizeof(ip));
	ip.protocol = IPPROTO_TCP;
	ip.tot_len = htons(40);
	ip.check = 0;
	ip.check = gen_csum_fold(gen_csum_add(&ip, 10, 0));
	memcpy(f + 14, &ip, sizeof(ip));
	sport = (uint16_t)(1024 + (ntohl(ip.saddr) & 0x7fff));
	memset(th, 0, GEN_FRAME_LEN - 34);
	th[0] = (uint8_t)(sport >> 8);
	th[1] = (uint8_t)sport;
	th[2] = (uint8_t)(dport >> 8);
	th[3] = (uint8_t)dport;
	memcpy(th + 4, &seq, 4);
	th[12] = 5 << 4;
	th[13] = 0x02;                 /* SYN */
	th[14] = 0xfa;                 /* window 64240 */
	th[15] = 0xf0;
	/* pseudo-header: addresses, protocol, TCP length */
	sum = gen_csum_add(&ip.saddr, 4, 0);
	sum += htons(IPPROTO_TCP) + htons(20);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(th[i] | th[i + 1] << 8);
	c = gen_csum_fold(sum);
	memcpy(th + 16, &c, 2);
}

/* af-packet: one batch of frames that are due; a frame the device drops
 * (ENOBUFS: the peer's ring is full) was offered all the same and counts as
 * sent, as it does with live frames */
static int packet_batch(struct sender *s)
{
	/* 8-aligned: the checksums read the frames as 16-bit words */
	static uint8_t frames[GEN_BATCH][GEN_FRAME_LEN] __attribute__((aligned(8)));
	struct mmsghdr msgs[GEN_BATCH];
	struct iovec iov[GEN_BATCH];
	int n = 0, done = 0;

	while (n < GEN_BATCH && gen_produce(&s->cfg, s->st, frames[n])) {
		if (s->syn)
			frame_to_syn(frames[n], s->cfg.flood_dport);
		iov[n] = (struct iovec){ frames[n], GEN_FRAME_LEN };
		msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
		n++;
	}
	while (done < n) {
		int r = sendmmsg(s->pkt_fd, msgs + done, n - done, 0);

		s->calls++;
		if (r > 0)
			done += r;
		else if (r < 0 && (errno == ENOBUFS || errno == EAGAIN))
			done++;
		else if (r < 0 && errno != EINTR)
			return -errno;
	}
	return n;
}

/* ---- send --------------------------------------------------------------- */
static uint64_t gen_now_ns(void) { return now_ns(CLOCK_MONOTONIC); }

static int cmd_send(int argc, char **argv)
{
	const char *dev = NULL, *dst4 = NULL, *dst6 = "fd77::2", *legit_src = NULL;
	const char *base = "10.78.0.0";
	uint64_t count = 1000000, rate = 0, nsrc = 1, legit_pps = 0, wait_ms = 300;
	uint64_t family = 4, port = 9, legit_port = 40001, echo_port = 7;
	bool have_dmac = false;
	double secs = 10;
	int cpu = -1, err, fd;
	uint8_t dmac[6];
	struct sender snd = { .kind = GEN_AUTO, .pkt_fd = -1 };
	struct gen_cfg *cfg = &snd.cfg;
	struct answers ans = { .fd = -1 };
	pthread_t thr;
	bool thr_started = false;
	struct in_addr a4;
	struct in6_addr a6;
	struct ifreq ifr;

	for (int i = 0; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "flood_gen: \"%s\" needs a value\n", k);
			die_usage();
		}
		i++;
		if (!strcmp(k, "dev"))
			dev = v;
		else if (!strcmp(k, "dmac")) {
			parse_mac(v, dmac);
			have_dmac = true;
		} else if (!strcmp(k, "dst4"))
			dst4 = v;
		else if (!strcmp(k, "dst6"))
			dst6 = v;
		else if (!strcmp(k, "family")) {
			family = parse_u64(k, v, 4, 6);
			if (family != 4 && family != 6)
				invarg(k, v);
		} else if (!strcmp(k, "sources"))
			nsrc = !strcmp(v, "random") ? 0 : parse_u64(k, v, 1, UINT32_MAX);
		else if (!strcmp(k, "base"))
			base = v;
		else if (!strcmp(k, "count"))
			count = parse_u64(k, v, 1, UINT64_MAX / 2);
		else if (!strcmp(k, "time"))
			secs = parse_secs(k, v);
		else if (!strcmp(k, "rate"))
			rate = parse_u64(k, v, 1, 1000000000);
		else if (!strcmp(k, "cpu"))
			cpu = parse_u64(k, v, 0, CPU_SETSIZE - 1);
		else if (!strcmp(k, "port"))
			port = parse_u64(k, v, 1, 65535);
		else if (!strcmp(k, "legit-pps"))
			legit_pps = parse_u64(k, v, 0, 1000000);
		else if (!strcmp(k, "legit-src"))
			legit_src = v;
		else if (!strcmp(k, "legit-port"))
			legit_port = parse_u64(k, v, 1, 65535);
		else if (!strcmp(k, "echo-port"))
			echo_port = parse_u64(k, v, 1, 65535);
		else if (!strcmp(k, "wait"))
			wait_ms = parse_u64(k, v, 0, 60000);
		else if (!strcmp(k, "gen")) {
			int g;

			for (g = 0; g < 3 && strcmp(v, gen_names[g]); g++)
				;
			if (g == 3)
				invarg(k, v);
			snd.kind = g;
		} else if (!strcmp(k, "proto")) {
			if (strcmp(v, "udp") && strcmp(v, "syn"))
				invarg(k, v);
			snd.syn = !strcmp(v, "syn");
		} else {
			fprintf(stderr, "flood_gen: unknown keyword \"%s\"\n", k);
			die_usage();
		}
	}
	if (!dev || !dst4 || !have_dmac)
		die_usage();
	if (nsrc == 0 && family == 4)
		nsrc = 1u << 17;  /* "random" in IPv4: the whole 10.78.0.0/15 */
	if (snd.syn && (family != 4 || legit_pps || snd.kind == GEN_XDP_LIVE)) {
		fprintf(stderr, "flood_gen: proto syn: IPv4 only, no legit-pps, gen af-packet\n");
		exit(2);
	}
	if (snd.syn)
		snd.kind = GEN_AF_PACKET;
	if (legit_pps && !legit_src) {
		fprintf(stderr, "flood_gen: legit-pps needs legit-src\n");
		return 2;
	}
	pin_cpu(cpu);

	snd.ifindex = if_nametoindex(dev);
	if (!snd.ifindex) {
		fprintf(stderr, "flood_gen: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "flood_gen: %s: hardware address: %s\n", dev, strerror(errno));
		return 1;
	}
	close(fd);

	memcpy(cfg->smac, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(cfg->dmac, dmac, 6);
	cfg->family = family;
	cfg->nsrc = nsrc;
	if (inet_pton(AF_INET, base, &a4) != 1)
		invarg("base", base);
	cfg->v4_base = ntohl(a4.s_addr);
	if (inet_pton(AF_INET, dst4, &a4) != 1)
		invarg("dst4", dst4);
	cfg->v4_dst = a4.s_addr;
	if (inet_pton(AF_INET6, dst6, &a6) != 1)
		invarg("dst6", dst6);
	memcpy(cfg->v6_dst, &a6, 16);
	cfg->flood_sport = 40000;
	cfg->flood_dport = port;
	cfg->gap_ps = rate ? 1000000000000ull / rate : 0;
	cfg->max_frames = count;
	if (legit_pps) {
		if (inet_pton(AF_INET, legit_src, &a4) != 1)
			invarg("legit-src", legit_src);
		cfg->legit_src = a4.s_addr;
		cfg->legit_sport = legit_port;
		cfg->legit_dport = echo_port;
		cfg->legit_gap_ns = 1000000000ull / legit_pps;
	}
	err = sender_open(&snd, dev);
	if (err)
		goto out;

	if (legit_pps) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(legit_port),
					  .sin_addr = a4 };
		int one = 1, rcvbuf = 4 << 20;

		ans.seen = calloc(MAX_LEGIT, 1);
		ans.lat_ns = calloc(MAX_LEGIT, sizeof(*ans.lat_ns));
		ans.fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (!ans.seen || !ans.lat_ns || ans.fd < 0) {
			err = -errno;
			fprintf(stderr, "flood_gen: answers: %s\n", strerror(errno));
			goto out;
		}
		setsockopt(ans.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (setsockopt(ans.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
		    bind(ans.fd, (struct sockaddr *)&sa, sizeof(sa))) {
			err = -errno;
			fprintf(stderr, "flood_gen: answers: bind %s:%lu: %s\n", legit_src,
				(unsigned long)legit_port, strerror(errno));
			goto out;
		}
		ans.mono_to_real = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
		err = pthread_create(&thr, NULL, answers_run, &ans);
		if (err) {
			fprintf(stderr, "flood_gen: answers: thread: %s\n", strerror(err));
			err = -err;
			goto out;
		}
		thr_started = true;
		answers_priority(thr);
	}

	{
		uint64_t t0 = now_ns(CLOCK_MONOTONIC), limit_ns = secs * 1e9, t, elapsed;
		uint64_t sent = 0;

		for (;;) {
			uint64_t chunk = count - sent;

			t = now_ns(CLOCK_MONOTONIC);
			elapsed = t - t0;
			if (sent >= count || elapsed >= limit_ns)
				break;
			if (snd.kind == GEN_AF_PACKET) {
				err = packet_batch(&snd);
				if (err < 0) {
					fprintf(stderr, "flood_gen: %s: sendmmsg: %s\n", dev,
						strerror(-err));
					goto out;
				}
				sent = snd.st->sent;
				continue;
			}
			if (chunk > CHUNK_FRAMES)
				chunk = CHUNK_FRAMES;
			if (rate) {
				/* iterations, not frames: the program skips ahead-of-time ones */
				uint64_t left_ns = limit_ns - elapsed;

				chunk = CHUNK_FRAMES;
				if (left_ns < 100000000)
					chunk = CHUNK_FRAMES / 8;
			}
			err = live_run(&snd, chunk);
			if (err) {
				fprintf(stderr, "flood_gen: %s: BPF_PROG_RUN live frames: %s\n",
					dev, strerror(-err));
				goto out;
			}
			sent = snd.st->sent;
		}
		elapsed = now_ns(CLOCK_MONOTONIC) - t0;

		if (thr_started) {
			struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
			ans.stop = 1;
			pthread_join(thr, NULL);
			thr_started = false;
			qsort(ans.lat_ns, ans.ok, sizeof(*ans.lat_ns), cmp_u64);
		}
		printf("gen=%s sent=%llu flood=%llu legit_sent=%llu legit_ok=%llu legit_dup=%llu "
		       "legit_share=%.4f lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f "
		       "secs=%.3f pps=%.0f calls=%llu\n",
		       gen_names[snd.kind], (unsigned long long)sent,
		       (unsigned long long)(sent - snd.st->legit_sent),
		       (unsigned long long)snd.st->legit_sent,
		       (unsigned long long)ans.ok, (unsigned long long)ans.dup,
		       snd.st->legit_sent ? (double)ans.ok / snd.st->legit_sent : -1.0,
		       pct_us(ans.lat_ns, ans.ok, 0.5), pct_us(ans.lat_ns, ans.ok, 0.99),
		       pct_us(ans.lat_ns, ans.ok, 1.0), elapsed / 1e9,
		       elapsed ? sent * 1e9 / elapsed : 0.0, (unsigned long long)snd.calls);
		fflush(stdout);
		err = 0;
	}
out:
	if (thr_started) {
		ans.stop = 1;
		pthread_join(thr, NULL);
	}
	if (ans.fd >= 0)
		close(ans.fd);
	free(ans.seen);
	free(ans.lat_ns);
	sender_close(&snd);
	return err ? 1 : 0;
}

/* ---- probe -------------------------------------------------------------- */
/* which backends this kernel lets run on IF; sends nothing. Exit 0 when at
 * least one works, 3 when none does. */
static int cmd_probe(int argc, char **argv)
{
	struct sender s = { .kind = GEN_XDP_LIVE, .pkt_fd = -1, .cfg.max_frames = 1 };
	int live, pkt;

	if (argc != 2 || strcmp(argv[0], "dev"))
		die_usage();
	s.ifindex = if_nametoindex(argv[1]);
	if (!s.ifindex) {
		fprintf(stderr, "flood_gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	live = live_open(&s, argv[1]);
	pkt = packet_open(&s, argv[1]);
	printf("xdp-live=%s af-packet=%s\n", live ? strerror(-live) : "ok",
	       pkt ? strerror(-pkt) : "ok");
	sender_close(&s);
	return live && pkt ? 3 : 0;
}

/* ---- echo --------------------------------------------------------------- */
static volatile sig_atomic_t echo_stop;

static void on_signal(int sig)
{
	echo_stop = 1;
}

static int udp6_bind(uint64_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), zero = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int cmd_echo(int argc, char **argv)
{
	uint64_t port = 7, sink_port = 9, echoed = 0;
	int cpu = -1, fd, sink, one = 1;
	struct sigaction sa = { .sa_handler = on_signal };

	for (int i = 0; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "flood_gen: \"%s\" needs a value\n", k);
			die_usage();
		}
		if (!strcmp(k, "port"))
			port = parse_u64(k, v, 1, 65535);
		else if (!strcmp(k, "sink-port"))
			sink_port = parse_u64(k, v, 1, 65535);
		else if (!strcmp(k, "cpu"))
			cpu = parse_u64(k, v, 0, CPU_SETSIZE - 1);
		else {
			fprintf(stderr, "flood_gen: unknown keyword \"%s\"\n", k);
			die_usage();
		}
	}
	pin_cpu(cpu);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = udp6_bind(port);
	if (fd < 0) {
		fprintf(stderr, "flood_gen: echo: bind port %lu: %s\n", (unsigned long)port,
			strerror(-fd));
		return 1;
	}
	sink = udp6_bind(sink_port);
	if (sink < 0) {
		fprintf(stderr, "flood_gen: sink: bind port %lu: %s\n", (unsigned long)sink_port,
			strerror(-sink));
		return 1;
	}
	/* the kernel clamps this to its minimum; the sink is never read */
	setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	printf("ready\n");
	fflush(stdout);

	while (!echo_stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		char buf[2048];
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&from, fl) == n)
			echoed++;
	}
	printf("echoed=%llu\n", (unsigned long long)echoed);
	close(sink);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die_usage();
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 2, argv + 2);
	if (!strcmp(argv[1], "probe"))
		return cmd_probe(argc - 2, argv + 2);
	if (!strcmp(argv[1], "echo"))
		return cmd_echo(argc - 2, argv + 2);
	die_usage();
	return 2;
}
