/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * loadgen - a steady, open-loop TCP request load from many source addresses.
 *
 *   loadgen --server ADDR --src ADDR --steps RATE:DURATION[,RATE:DURATION...]
 *           [--port PORT] [--src-count K] [--timeout T] [--start-at UNIX_MS]
 *           [--csv FILE]
 *
 * Each step issues RATE requests per second for DURATION, on a fixed
 * schedule that does not wait for replies (open loop: an overloaded service
 * does not slow the offered load down). Request i is one TCP connection
 * from source address SRC + (i mod K) (IP_FREEBIND: the client namespace
 * routes the range to itself), carrying one herd request line
 * ("HERD <i> 0 <deadline>\n", tools/herd/herd_common.h); it succeeds when
 * the "OK" line arrives within the timeout (default 2 s: one SYN
 * retransmission fits, as for a real client). Otherwise it counts as a
 * timeout (no reply in time: SYN dropped, queued too long), refused or
 * error (reset, short reply).
 *
 * Output: one JSON object on stdout with the totals and one entry per step.
 * --csv writes a time series per 100 ms of request start time:
 *   t_ms,unix_ms,sent,ok,timeout,refused,error,ok_done
 * (ok_done counts successes by the bucket they completed in: goodput).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "herd_common.h"

#define MAX_STEPS 32
#define MAX_INFLIGHT 60000u
#define MAX_RUN_MS (3600ull * 1000)

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum res { RES_OK, RES_TIMEOUT, RES_REFUSED, RES_ERROR, RES_N };

struct step {
	uint64_t rate;          /* requests per second (0: idle) */
	uint64_t ms;
	uint64_t sent, res[RES_N];
};

struct bucket {
	uint64_t sent, res[RES_N], ok_done;
};

struct conn {
	int fd;                 /* -1: free */
	uint32_t gen;
	uint32_t step;
	uint64_t bucket;
	uint64_t deadline_ns;
	uint8_t sending;        /* connect pending or request being written */
	uint16_t rlen;
	char req[HERD_REQ_MAX];
	uint16_t reqlen, reqoff;
	char rbuf[64];
};

static struct {
	struct herd_addr server, src;
	uint64_t src_count;
	uint64_t timeout_ms;
	uint64_t start_at_ms;
	const char *csv;
	struct step steps[MAX_STEPS];
	unsigned nsteps;
} opt = { .src_count = 1, .timeout_ms = 2000 };

static struct conn *conns;
static uint32_t *free_slots, nfree;
static struct { uint32_t slot, gen; } *fifo;   /* in-flight, in deadline order */
static uint32_t fifo_head, fifo_len, fifo_cap;
static struct bucket *buckets;
static uint64_t nbuckets, t0_ns, t0_unix_ms, inflight_peak, inflight, slot_full;
static int ep = -1;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static struct bucket *bucket_at(uint64_t ns)
{
	uint64_t i = ns > t0_ns ? (ns - t0_ns) / HERD_BUCKET_NS : 0;

	return &buckets[i < nbuckets ? i : nbuckets - 1];
}

static void finish(uint32_t slot, enum res r)
{
	struct conn *c = &conns[slot];

	if (c->fd < 0)
		return;
	buckets[c->bucket].res[r]++;
	opt.steps[c->step].res[r]++;
	if (r == RES_OK)
		bucket_at(herd_mono_ns())->ok_done++;
	close(c->fd);   /* also removes it from the epoll set */
	c->fd = -1;
	c->gen++;
	free_slots[nfree++] = slot;
	inflight--;
}

static enum res res_of_errno(int err)
{
	return err == ECONNREFUSED ? RES_REFUSED : err == ETIMEDOUT ? RES_TIMEOUT : RES_ERROR;
}

static int issue(uint64_t seq, uint32_t step, uint64_t now)
{
	struct herd_addr a;
	struct epoll_event ev = { .events = EPOLLOUT };
	uint32_t slot;
	struct conn *c;
	int one = 1, fd;
	uint64_t b = (now - t0_ns) / HERD_BUCKET_NS;

	if (b >= nbuckets)
		b = nbuckets - 1;
	buckets[b].sent++;
	opt.steps[step].sent++;
	if (!nfree) {           /* no slot: counts as an error at once */
		slot_full++;
		buckets[b].res[RES_ERROR]++;
		opt.steps[step].res[RES_ERROR]++;
		return 0;
	}
	slot = free_slots[--nfree];
	c = &conns[slot];
	c->step = step;
	c->bucket = b;
	c->deadline_ns = now + opt.timeout_ms * 1000000ull;
	c->sending = 1;
	c->rlen = 0;
	c->reqoff = 0;
	c->reqlen = (uint16_t)herd_format_request(c->req, sizeof(c->req), (uint32_t)seq, 0,
						  herd_unix_us() + opt.timeout_ms * 1000ull);
	fd = socket(opt.server.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	c->fd = fd;
	inflight++;
	if (inflight > inflight_peak)
		inflight_peak = inflight;
	herd_addr_add(&opt.src, seq % opt.src_count, &a);
	if (opt.server.family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 ||
	    (connect(fd, (struct sockaddr *)&opt.server.ss, opt.server.len) < 0 &&
	     errno != EINPROGRESS)) {
		finish(slot, res_of_errno(errno));
		return 0;
	}
	ev.data.u64 = (uint64_t)slot | (uint64_t)c->gen << 32;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;

		finish(slot, RES_ERROR);
		return -err;
	}
	fifo[(fifo_head + fifo_len) % fifo_cap].slot = slot;
	fifo[(fifo_head + fifo_len) % fifo_cap].gen = c->gen;
	fifo_len++;
	return 0;
fail:
	c->fd = -1;
	free_slots[nfree++] = slot;
	buckets[b].res[RES_ERROR]++;
	opt.steps[step].res[RES_ERROR]++;
	return -errno;
}

static void on_event(uint32_t slot, uint32_t gen, uint32_t events)
{
	struct conn *c = &conns[slot];
	ssize_t n;

	if (c->fd < 0 || c->gen != gen)
		return;
	if (c->sending) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			finish(slot, res_of_errno(err));
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		n = send(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				finish(slot, res_of_errno(errno));
			return;
		}
		c->reqoff += (uint16_t)n;
		if (c->reqoff == c->reqlen) {
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.u64 = (uint64_t)slot | (uint64_t)gen << 32 };

			c->sending = 0;
			if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
				finish(slot, RES_ERROR);
		}
		return;
	}
	n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - 1 - c->rlen, 0);
	if (n < 0) {
		if (errno != EAGAIN)
			finish(slot, res_of_errno(errno));
		return;
	}
	if (n == 0) {           /* closed before a full reply */
		finish(slot, RES_ERROR);
		return;
	}
	c->rlen += (uint16_t)n;
	c->rbuf[c->rlen] = 0;
	if (memchr(c->rbuf, '\n', c->rlen))
		finish(slot, strncmp(c->rbuf, "OK ", 3) ? RES_ERROR : RES_OK);
	else if (c->rlen >= sizeof(c->rbuf) - 1)
		finish(slot, RES_ERROR);
}

static void expire(uint64_t now)
{
	while (fifo_len) {
		uint32_t slot = fifo[fifo_head].slot, gen = fifo[fifo_head].gen;
		struct conn *c = &conns[slot];

		if (c->fd >= 0 && c->gen == gen) {
			if (c->deadline_ns > now)
				break;
			finish(slot, RES_TIMEOUT);
		}
		fifo_head = (fifo_head + 1) % fifo_cap;
		fifo_len--;
	}
}

static int parse_steps(const char *s)
{
	char *dup = strdup(s), *save = NULL, *tok;
	int r = 0;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		struct step *st;

		if (!colon || opt.nsteps == MAX_STEPS) {
			r = -EINVAL;
			break;
		}
		*colon = 0;
		st = &opt.steps[opt.nsteps];
		if (herd_parse_u64(tok, 0, 1000000, &st->rate) ||
		    herd_parse_ms(colon + 1, MAX_RUN_MS, &st->ms) || !st->ms) {
			r = -EINVAL;
			break;
		}
		opt.nsteps++;
	}
	free(dup);
	return r ? r : opt.nsteps ? 0 : -EINVAL;
}

static int write_csv(const char *path, uint64_t nb)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "t_ms,unix_ms,sent,ok,timeout,refused,error,ok_done\n");
	for (uint64_t i = 0; i < nb; i++) {
		struct bucket *b = &buckets[i];

		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			   ",%" PRIu64 ",%" PRIu64 "\n",
			i * 100, t0_unix_ms + i * 100, b->sent, b->res[RES_OK], b->res[RES_TIMEOUT],
			b->res[RES_REFUSED], b->res[RES_ERROR], b->ok_done);
	}
	if (fclose(f))
		return -errno;
	return 0;
}

static void print_json(void)
{
	uint64_t tot[RES_N] = { 0 }, sent = 0;

	for (unsigned i = 0; i < opt.nsteps; i++) {
		sent += opt.steps[i].sent;
		for (int r = 0; r < RES_N; r++)
			tot[r] += opt.steps[i].res[r];
	}
	printf("{\"sent\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"timeout\":%" PRIu64
	       ",\"refused\":%" PRIu64 ",\"error\":%" PRIu64 ",\"no_slot\":%" PRIu64
	       ",\"inflight_peak\":%" PRIu64 ",\"start_unix_ms\":%" PRIu64 ",\"steps\":[",
	       sent, tot[RES_OK], tot[RES_TIMEOUT], tot[RES_REFUSED], tot[RES_ERROR], slot_full,
	       inflight_peak, t0_unix_ms);
	for (unsigned i = 0; i < opt.nsteps; i++) {
		struct step *s = &opt.steps[i];

		printf("%s{\"rate\":%" PRIu64 ",\"ms\":%" PRIu64 ",\"sent\":%" PRIu64
		       ",\"ok\":%" PRIu64 ",\"timeout\":%" PRIu64 ",\"refused\":%" PRIu64
		       ",\"error\":%" PRIu64 "}",
		       i ? "," : "", s->rate, s->ms, s->sent, s->res[RES_OK], s->res[RES_TIMEOUT],
		       s->res[RES_REFUSED], s->res[RES_ERROR]);
	}
	printf("]}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: loadgen --server ADDR --src ADDR --steps RATE:DUR[,RATE:DUR...] [OPTIONS]\n"
"  --server ADDR      service address (IPv4 or IPv6)\n"
"  --port PORT        service port (default 8080)\n"
"  --src ADDR         first source address; request i binds ADDR + (i mod K)\n"
"  --src-count K      number of source addresses (default 1)\n"
"  --steps LIST       RATE:DURATION pairs, requests/s and ms (or Ns)\n"
"  --timeout T        reply deadline per request (default 2000 ms; ms or Ns)\n"
"  --start-at MS      start at this CLOCK_REALTIME instant, Unix ms\n"
"  --csv FILE         per-100 ms time series by request start\n");
}

static int bad_arg(const char *name, const char *val)
{
	fprintf(stderr, "loadgen: %s: invalid value \"%s\"\n", name, val);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "src", required_argument, NULL, 'b' },
		{ "src-count", required_argument, NULL, 'k' },
		{ "steps", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "start-at", required_argument, NULL, 'a' },
		{ "csv", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *server_s = NULL, *src_s = NULL;
	uint64_t port = 8080, total_ms = 0, seq = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	struct rlimit rl;
	unsigned step = 0;
	uint64_t step_start, step_sent = 0;
	int c, err;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': server_s = optarg; break;
		case 'b': src_s = optarg; break;
		case 'p': if (herd_parse_u64(optarg, 1, 65535, &port)) return bad_arg("port", optarg); break;
		case 'k': if (herd_parse_u64(optarg, 1, 1u << 24, &opt.src_count)) return bad_arg("src-count", optarg); break;
		case 'S': if (parse_steps(optarg)) return bad_arg("steps", optarg); break;
		case 't': if (herd_parse_ms(optarg, 600000, &opt.timeout_ms) || !opt.timeout_ms) return bad_arg("timeout", optarg); break;
		case 'a': if (herd_parse_u64(optarg, 1, UINT64_MAX, &opt.start_at_ms)) return bad_arg("start-at", optarg); break;
		case 'o': opt.csv = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "loadgen: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!server_s || !src_s || !opt.nsteps) {
		usage(stderr);
		return 2;
	}
	if (herd_parse_addr(server_s, (uint16_t)port, &opt.server))
		return bad_arg("server", server_s);
	if (herd_parse_addr(src_s, 0, &opt.src) || opt.src.family != opt.server.family)
		return bad_arg("src", src_s);
	for (unsigned i = 0; i < opt.nsteps; i++)
		total_ms += opt.steps[i].ms;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fifo_cap = MAX_INFLIGHT;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < fifo_cap + 64)
		fifo_cap = rl.rlim_cur > 128 ? (uint32_t)rl.rlim_cur - 64 : 64;
	nbuckets = (total_ms + opt.timeout_ms) / 100 + 3;
	conns = calloc(fifo_cap, sizeof(*conns));
	free_slots = calloc(fifo_cap, sizeof(*free_slots));
	fifo = calloc(fifo_cap, sizeof(*fifo));
	buckets = calloc(nbuckets, sizeof(*buckets));
	if (!conns || !free_slots || !fifo || !buckets) {
		fprintf(stderr, "loadgen: memory: %s\n", strerror(errno));
		return 1;
	}
	for (uint32_t i = 0; i < fifo_cap; i++) {
		conns[i].fd = -1;
		free_slots[nfree++] = fifo_cap - 1 - i;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		fprintf(stderr, "loadgen: epoll: %s\n", strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (opt.start_at_ms) {
		uint64_t now_ms = herd_unix_ms();

		if (opt.start_at_ms > now_ms + 60000) {
			fprintf(stderr, "loadgen: start-at: more than 60 s away\n");
			return 2;
		}
		if (opt.start_at_ms > now_ms)
			usleep((useconds_t)((opt.start_at_ms - now_ms) * 1000));
	}
	t0_ns = herd_mono_ns();
	t0_unix_ms = herd_unix_ms();
	step_start = t0_ns;

	while (!stop) {
		struct epoll_event evs[256];
		uint64_t now = herd_mono_ns(), wake = now + 10000000ull;
		int n, ms;

		/* issue every request due by now, step by step */
		while (step < opt.nsteps) {
			struct step *st = &opt.steps[step];
			uint64_t step_end = step_start + st->ms * 1000000ull, due;

			due = st->rate ? step_start + step_sent * 1000000000ull / st->rate : step_end;
			if (due >= step_end) {
				step++;
				step_start = step_end;
				step_sent = 0;
				continue;
			}
			if (due > now) {
				if (due < wake)
					wake = due;
				break;
			}
			err = issue(seq++, step, now);
			if (err) {
				fprintf(stderr, "loadgen: connect: %s\n", strerror(-err));
				stop = 1;
				break;
			}
			step_sent++;
		}
		expire(now);
		if (step >= opt.nsteps && !inflight)
			break;
		if (fifo_len && conns[fifo[fifo_head].slot].deadline_ns < wake)
			wake = conns[fifo[fifo_head].slot].deadline_ns;
		ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		n = epoll_wait(ep, evs, 256, ms);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "loadgen: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++)
			on_event((uint32_t)evs[i].data.u64, (uint32_t)(evs[i].data.u64 >> 32),
				 evs[i].events);
	}
	/* interrupted: what is still in flight did not complete */
	for (uint32_t i = 0; i < fifo_cap; i++)
		if (conns[i].fd >= 0)
			finish(i, RES_TIMEOUT);
	print_json();
	if (opt.csv) {
		uint64_t nb = (herd_mono_ns() - t0_ns) / HERD_BUCKET_NS + 1;

		if (nb > nbuckets)
			nb = nbuckets;
		err = write_csv(opt.csv, nb);
		if (err) {
			fprintf(stderr, "loadgen: %s: %s\n", opt.csv, strerror(-err));
			return 1;
		}
	}
	return 0;
}
