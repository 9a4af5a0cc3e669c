// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flood_gen - XDP frame flood generator and its victim-side responder.
 *
 *   flood_gen send dev IF dmac MAC dst4 ADDR [dst6 ADDR6] [family 4|6]
 *                  [sources N|random] [base ADDR] [count N] [time SEC]
 *                  [rate PPS] [cpu N] [port P] [legit-pps N]
 *                  [legit-src ADDR] [legit-port P] [echo-port P] [wait MS]
 *   flood_gen echo [port P] [sink-port P] [cpu N]
 *
 * "send" loads gen_flood.bpf.o and runs it with BPF_PROG_RUN in live-frames
 * mode: every run transmits the frames the program writes out of IF (a veth
 * whose peer is the victim). It stops after `count` frames or `time`
 * seconds, whichever comes first. With `rate`, the program paces frame by
 * frame (see gen_flood.bpf.c), so the offered load is smooth. With legit-pps, one frame in the stream
 * every 1/legit-pps s is a request from legit-src:legit-port to echo-port;
 * a thread counts the answers (kernel receive timestamps give latency).
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "gen_flood.skel.h"

#define GEN_FRAME_LEN 64
#define GEN_MAGIC_LEGIT 0x43464c31
#define CHUNK_FRAMES (1u << 20)     /* frames per BPF_PROG_RUN when unpaced */
#define MAX_LEGIT (1u << 20)        /* requests tracked per run */

static void die_usage(void)
{
	fprintf(stderr,
		"usage: flood_gen send dev IF dmac MAC dst4 ADDR [dst6 ADDR6] [family 4|6]\n"
		"                 [sources N|random] [base ADDR] [count N] [time SEC] [rate PPS]\n"
		"                 [cpu N] [port P] [legit-pps N] [legit-src ADDR] [legit-port P]\n"
		"                 [echo-port P] [wait MS]\n"
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

/* ---- send --------------------------------------------------------------- */
static int cmd_send(int argc, char **argv)
{
	const char *dev = NULL, *dst4 = NULL, *dst6 = "fd77::2", *legit_src = NULL;
	const char *base = "10.78.0.0";
	uint64_t count = 1000000, rate = 0, nsrc = 1, legit_pps = 0, wait_ms = 300;
	uint64_t family = 4, port = 9, legit_port = 40001, echo_port = 7;
	bool have_dmac = false;
	double secs = 10;
	int cpu = -1, err, ifindex, fd;
	uint8_t dmac[6];
	struct gen_flood_bpf *skel = NULL;
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
		else {
			fprintf(stderr, "flood_gen: unknown keyword \"%s\"\n", k);
			die_usage();
		}
	}
	if (!dev || !dst4 || !have_dmac)
		die_usage();
	if (nsrc == 0 && family == 4)
		nsrc = 1u << 17;  /* "random" in IPv4: the whole 10.78.0.0/15 */
	if (legit_pps && !legit_src) {
		fprintf(stderr, "flood_gen: legit-pps needs legit-src\n");
		return 2;
	}
	pin_cpu(cpu);

	ifindex = if_nametoindex(dev);
	if (!ifindex) {
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

	skel = gen_flood_bpf__open();
	if (!skel) {
		fprintf(stderr, "flood_gen: gen_flood: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->cfg_ifindex = ifindex;
	memcpy((void *)skel->rodata->cfg_smac, ifr.ifr_hwaddr.sa_data, 6);
	memcpy((void *)skel->rodata->cfg_dmac, dmac, 6);
	skel->rodata->cfg_family = family;
	skel->rodata->cfg_nsrc = nsrc;
	if (inet_pton(AF_INET, base, &a4) != 1)
		invarg("base", base);
	skel->rodata->cfg_v4_base = ntohl(a4.s_addr);
	if (inet_pton(AF_INET, dst4, &a4) != 1)
		invarg("dst4", dst4);
	skel->rodata->cfg_v4_dst = a4.s_addr;
	if (inet_pton(AF_INET6, dst6, &a6) != 1)
		invarg("dst6", dst6);
	memcpy((void *)skel->rodata->cfg_v6_dst, &a6, 16);
	skel->rodata->cfg_flood_dport = port;
	skel->rodata->cfg_gap_ps = rate ? 1000000000000ull / rate : 0;
	skel->rodata->cfg_max_frames = count;
	if (legit_pps) {
		if (inet_pton(AF_INET, legit_src, &a4) != 1)
			invarg("legit-src", legit_src);
		skel->rodata->cfg_legit_src = a4.s_addr;
		skel->rodata->cfg_legit_sport = legit_port;
		skel->rodata->cfg_legit_dport = echo_port;
		skel->rodata->cfg_legit_gap_ns = 1000000000ull / legit_pps;
	}
	err = gen_flood_bpf__load(skel);
	if (err) {
		fprintf(stderr, "flood_gen: gen_flood: load: %s\n", strerror(-err));
		goto out;
	}

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
	}

	{
		uint8_t frame[GEN_FRAME_LEN] = { 0 };
		struct xdp_md ctx_in = { .data_end = GEN_FRAME_LEN, .ingress_ifindex = ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			    .data_in = frame, .data_size_in = sizeof(frame),
			    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
		int pfd = bpf_program__fd(skel->progs.gen_flood);
		uint64_t t0 = now_ns(CLOCK_MONOTONIC), limit_ns = secs * 1e9, t, elapsed;
		uint64_t sent = 0, calls = 0;

		for (;;) {
			uint64_t chunk = count - sent;

			t = now_ns(CLOCK_MONOTONIC);
			elapsed = t - t0;
			if (sent >= count || elapsed >= limit_ns)
				break;
			if (chunk > CHUNK_FRAMES)
				chunk = CHUNK_FRAMES;
			if (rate) {
				/* iterations, not frames: the program skips ahead-of-time ones */
				uint64_t left_ns = limit_ns - elapsed;

				chunk = CHUNK_FRAMES;
				if (left_ns < 100000000)
					chunk = CHUNK_FRAMES / 8;
			}
			opts.repeat = chunk;
			err = bpf_prog_test_run_opts(pfd, &opts);
			if (err) {
				fprintf(stderr, "flood_gen: %s: BPF_PROG_RUN live frames: %s\n",
					dev, strerror(-err));
				goto out;
			}
			calls++;
			sent = skel->bss->gen_sent;
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
		printf("sent=%llu flood=%llu legit_sent=%llu legit_ok=%llu legit_dup=%llu "
		       "legit_share=%.4f lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f "
		       "secs=%.3f pps=%.0f calls=%llu\n",
		       (unsigned long long)sent,
		       (unsigned long long)(sent - skel->bss->gen_legit_sent),
		       (unsigned long long)skel->bss->gen_legit_sent,
		       (unsigned long long)ans.ok, (unsigned long long)ans.dup,
		       skel->bss->gen_legit_sent ?
			       (double)ans.ok / skel->bss->gen_legit_sent : -1.0,
		       pct_us(ans.lat_ns, ans.ok, 0.5), pct_us(ans.lat_ns, ans.ok, 0.99),
		       pct_us(ans.lat_ns, ans.ok, 1.0), elapsed / 1e9,
		       elapsed ? sent * 1e9 / elapsed : 0.0, (unsigned long long)calls);
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
	gen_flood_bpf__destroy(skel);
	return err ? 1 : 0;
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
	if (!strcmp(argv[1], "echo"))
		return cmd_echo(argc - 2, argv + 2);
	die_usage();
	return 2;
}
