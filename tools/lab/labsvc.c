// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * labsvc - a small request/response service and its client, for the lab
 * demo and the end-to-end tests.
 *
 *   labsvc serve  [-p PORT] [-w WORK_US] [-t SECONDS] [-o STATSFILE]
 *       UDP and TCP on PORT. Every request costs WORK_US microseconds of CPU
 *       (a stand-in for real work), then gets a reply. Runs until SIGTERM,
 *       SIGINT or SECONDS; writes its counters (JSON) to STATSFILE on exit.
 *   labsvc client -s ADDR [-p PORT] [-b SRCADDR] [-n COUNT] [-r RATE]
 *                 [-T TIMEOUT_MS] [--tcp]
 *       Sends COUNT requests at RATE per second, one at a time on TCP, and
 *       prints one JSON line: sent, ok (replies within TIMEOUT_MS), late.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAGIC 0x636f7272u   /* "corr" */

struct req {
	uint32_t magic;
	uint32_t seq;
	uint64_t sent_ns;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_ul(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "labsvc: %s: invalid number \"%s\"\n", opt, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static void burn_us(unsigned long us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000;
	volatile uint64_t x = 0;

	while (now_ns() < end)
		for (int i = 0; i < 64; i++)
			x += (uint64_t)i * 2654435761u;
}

static bool from_flood(const struct sockaddr_in *a)
{
	/* generated sources live in 10.78.0.0/15 */
	return (ntohl(a->sin_addr.s_addr) & 0xfffe0000u) == 0x0a4e0000u;
}

/* ---- serve ------------------------------------------------------------- */

struct counters {
	uint64_t udp_req, udp_flood, tcp_req, tcp_flood, bad;
};

static int serve_tcp_one(int lfd, unsigned long work, struct counters *c)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct req r;
	ssize_t n;
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	/* a client that sends nothing for 100 ms is dropped */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 100) == 1) {
		n = recv(fd, &r, sizeof(r), 0);
		if (n == sizeof(r) && r.magic == REQ_MAGIC) {
			burn_us(work);
			c->tcp_req++;
			if (from_flood(&peer))
				c->tcp_flood++;
			if (send(fd, &r, sizeof(r), MSG_NOSIGNAL) < 0)
				c->bad++;
		} else {
			c->bad++;
		}
	}
	close(fd);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	unsigned long port = 7777, work = 0, secs = 0;
	const char *stats = NULL;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct counters c = {};
	int ufd, tfd, one = 1, rcvbuf = 1 << 20, opt;
	uint64_t end;

	while ((opt = getopt(argc, argv, "p:w:t:o:")) != -1) {
		switch (opt) {
		case 'p':
			if (parse_ul("-p", optarg, 65535, &port))
				return 2;
			break;
		case 'w':
			if (parse_ul("-w", optarg, 1000000, &work))
				return 2;
			break;
		case 't':
			if (parse_ul("-t", optarg, 86400, &secs))
				return 2;
			break;
		case 'o':
			stats = optarg;
			break;
		default:
			return 2;
		}
	}
	a.sin_port = htons((uint16_t)port);
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ufd < 0 || tfd < 0) {
		fprintf(stderr, "labsvc: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(ufd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ufd, (struct sockaddr *)&a, sizeof(a)) || bind(tfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(tfd, 128)) {
		fprintf(stderr, "labsvc: bind port %lu: %s\n", port, strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	end = secs ? now_ns() + secs * 1000000000ull : 0;
	while (!stop && (!end || now_ns() < end)) {
		struct pollfd p[2] = { { .fd = ufd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };

		if (poll(p, 2, 100) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "labsvc: poll: %s\n", strerror(errno));
			return 1;
		}
		if (p[0].revents & POLLIN) {
			/* drain a bounded batch so TCP is served too */
			for (int i = 0; i < 64; i++) {
				struct sockaddr_in peer;
				socklen_t plen = sizeof(peer);
				struct req r;
				ssize_t n = recvfrom(ufd, &r, sizeof(r), MSG_DONTWAIT,
						     (struct sockaddr *)&peer, &plen);

				if (n < 0)
					break;
				burn_us(work);
				c.udp_req++;
				if (from_flood(&peer))
					c.udp_flood++;
				if (n == sizeof(r) && r.magic == REQ_MAGIC)
					sendto(ufd, &r, sizeof(r), MSG_DONTWAIT,
					       (struct sockaddr *)&peer, plen);
			}
		}
		if ((p[1].revents & POLLIN) && serve_tcp_one(tfd, work, &c) < 0) {
			fprintf(stderr, "labsvc: accept: %s\n", strerror(errno));
			return 1;
		}
	}
	if (stats) {
		FILE *f = fopen(stats, "w");

		if (!f) {
			fprintf(stderr, "labsvc: %s: %s\n", stats, strerror(errno));
			return 1;
		}
		fprintf(f, "{\"udp_requests\":%llu,\"udp_flood\":%llu,\"tcp_requests\":%llu,"
			"\"tcp_flood\":%llu,\"bad\":%llu}\n",
			(unsigned long long)c.udp_req, (unsigned long long)c.udp_flood,
			(unsigned long long)c.tcp_req, (unsigned long long)c.tcp_flood,
			(unsigned long long)c.bad);
		fclose(f);
	}
	return 0;
}

/* ---- client ------------------------------------------------------------ */

struct client {
	struct sockaddr_in srv, src;
	bool have_src, tcp;
	unsigned long count, rate, timeout_ms;
	uint64_t sent, ok, late;
};

static int client_tcp_one(struct client *cl, uint32_t seq)
{
	struct req r = { .magic = REQ_MAGIC, .seq = seq, .sent_ns = now_ns() };
	uint64_t deadline = r.sent_ns + cl->timeout_ms * 1000000ull;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd p;
	struct req back;

	if (fd < 0)
		return -errno;
	if (cl->have_src && bind(fd, (struct sockaddr *)&cl->src, sizeof(cl->src))) {
		close(fd);
		return -errno;
	}
	cl->sent++;
	if (connect(fd, (struct sockaddr *)&cl->srv, sizeof(cl->srv)) && errno != EINPROGRESS)
		goto out;
	p.fd = fd;
	p.events = POLLOUT;
	while (now_ns() < deadline) {
		int left = (int)((deadline - now_ns()) / 1000000) + 1;

		if (poll(&p, 1, left) != 1)
			continue;
		if (p.events == POLLOUT) {
			int err = 0;
			socklen_t l = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (err || send(fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
				goto out;
			p.events = POLLIN;
			continue;
		}
		if (recv(fd, &back, sizeof(back), 0) == sizeof(back) && back.seq == seq)
			cl->ok++;
		break;
	}
out:
	close(fd);
	return 0;
}

static int client_udp(struct client *cl)
{
	uint64_t start = now_ns(), gap = 1000000000ull / cl->rate, next = start;
	uint64_t tmo = cl->timeout_ms * 1000000ull, last_send = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (cl->have_src && bind(fd, (struct sockaddr *)&cl->src, sizeof(cl->src)))
		goto fail;
	if (connect(fd, (struct sockaddr *)&cl->srv, sizeof(cl->srv)))
		goto fail;
	while (!stop) {
		uint64_t t = now_ns();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct req r;

		if (cl->sent < cl->count && t >= next) {
			r = (struct req){ .magic = REQ_MAGIC, .seq = (uint32_t)cl->sent, .sent_ns = t };
			send(fd, &r, sizeof(r), 0);
			cl->sent++;
			last_send = t;
			next += gap;
			continue;
		}
		if (cl->sent >= cl->count && t > last_send + tmo)
			break;
		poll(&p, 1, 1);
		while (recv(fd, &r, sizeof(r), 0) == sizeof(r)) {
			if (r.magic != REQ_MAGIC)
				continue;
			if (now_ns() - r.sent_ns <= tmo)
				cl->ok++;
			else
				cl->late++;
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -errno;
}

static int parse_addr(const char *opt, const char *s, struct sockaddr_in *a)
{
	a->sin_family = AF_INET;
	if (inet_pton(AF_INET, s, &a->sin_addr) != 1) {
		fprintf(stderr, "labsvc: %s: invalid address \"%s\"\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

static int cmd_client(int argc, char **argv)
{
	struct client cl = { .count = 100, .rate = 100, .timeout_ms = 200 };
	unsigned long port = 7777;
	bool have_srv = false;
	int opt, err;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--tcp")) {
			cl.tcp = true;
			argv[i] = "-x";
		}
	while ((opt = getopt(argc, argv, "s:p:b:n:r:T:x")) != -1) {
		switch (opt) {
		case 's':
			if (parse_addr("-s", optarg, &cl.srv))
				return 2;
			have_srv = true;
			break;
		case 'b':
			if (parse_addr("-b", optarg, &cl.src))
				return 2;
			cl.have_src = true;
			break;
		case 'p':
			if (parse_ul("-p", optarg, 65535, &port))
				return 2;
			break;
		case 'n':
			if (parse_ul("-n", optarg, 10000000, &cl.count))
				return 2;
			break;
		case 'r':
			if (parse_ul("-r", optarg, 1000000, &cl.rate) || !cl.rate) {
				fprintf(stderr, "labsvc: -r: invalid rate \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'T':
			if (parse_ul("-T", optarg, 600000, &cl.timeout_ms))
				return 2;
			break;
		case 'x':
			break;
		default:
			return 2;
		}
	}
	if (!have_srv) {
		fprintf(stderr, "labsvc: client: -s ADDR is required\n");
		return 2;
	}
	cl.srv.sin_port = htons((uint16_t)port);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (cl.tcp) {
		uint64_t gap = 1000000000ull / cl.rate, next = now_ns();

		err = 0;
		for (unsigned long i = 0; i < cl.count && !stop && !err; i++) {
			while (now_ns() < next)
				usleep(200);
			next += gap;
			err = client_tcp_one(&cl, (uint32_t)i);
		}
	} else {
		err = client_udp(&cl);
	}
	if (err) {
		fprintf(stderr, "labsvc: client: %s\n", strerror(-err));
		return 1;
	}
	printf("{\"sent\":%llu,\"ok\":%llu,\"late\":%llu}\n", (unsigned long long)cl.sent,
	       (unsigned long long)cl.ok, (unsigned long long)cl.late);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return cmd_client(argc - 1, argv + 1);
	fprintf(stderr,
		"Usage: labsvc serve [-p PORT] [-w WORK_US] [-t SECONDS] [-o STATSFILE]\n"
		"       labsvc client -s ADDR [-p PORT] [-b SRCADDR] [-n COUNT] [-r RATE]\n"
		"                     [-T TIMEOUT_MS] [--tcp]\n");
	return 2;
}
