/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* signals.c - load signals: /proc parsers, sock_diag accept queues, class rates. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include "signals.h"

int sig_read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	int fd;

	if (len < 2)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len - 1) {
		ssize_t r = read(fd, buf + off, len - 1 - off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	return (int)off;
}

/* next unsigned decimal field after *p; -EINVAL when none */
static int next_u64(const char **p, __u64 *v)
{
	const char *s = *p;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	*p = end;
	return 0;
}

int sig_parse_stat(const char *buf, struct sig_cpu *out)
{
	const char *p = buf;
	__u64 f[8];

	/* the aggregate line is "cpu " (per-CPU lines are "cpuN ") */
	while (p && strncmp(p, "cpu ", 4)) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return -ENOENT;
	p += 4;
	/* user nice system idle iowait irq softirq steal [guest guest_nice]:
	 * guest time is already inside user and nice */
	for (int i = 0; i < 8; i++)
		if (next_u64(&p, &f[i]))
			return -EINVAL;
	out->total = 0;
	for (int i = 0; i < 8; i++)
		out->total += f[i];
	out->idle = f[3] + f[4];
	out->softirq = f[6];
	return 0;
}

int sig_cpu_share(const struct sig_cpu *a, const struct sig_cpu *b, double *busy, double *softirq)
{
	__u64 dt, di, ds;

	if (b->total <= a->total)
		return -EAGAIN;
	dt = b->total - a->total;
	di = b->idle >= a->idle ? b->idle - a->idle : 0;
	ds = b->softirq >= a->softirq ? b->softirq - a->softirq : 0;
	if (di > dt)
		di = dt;
	*busy = (double)(dt - di) / (double)dt;
	*softirq = (double)(ds > dt ? dt : ds) / (double)dt;
	return 0;
}

int sig_parse_psi(const char *buf, double *some_avg10)
{
	const char *p = strstr(buf, "some ");
	char *end;
	double v;

	if (!p || (p != buf && p[-1] != '\n'))
		return -ENOENT;
	p = strstr(p, "avg10=");
	if (!p)
		return -EINVAL;
	p += 6;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(p, &end);
	if (errno || end == p || (*end != ' ' && *end != '\n' && *end) || v < 0 || v > 100)
		return -EINVAL;
	*some_avg10 = v / 100.0;
	return 0;
}

/* index of a field name in a space separated header line ending at eol */
static int header_index(const char *line, const char *eol, const char *name)
{
	size_t nl = strlen(name);
	int idx = 0;
	const char *p = line;

	while (p < eol) {
		const char *e = p;

		while (e < eol && *e != ' ')
			e++;
		if ((size_t)(e - p) == nl && !memcmp(p, name, nl))
			return idx;
		idx++;
		p = e;
		while (p < eol && *p == ' ')
			p++;
	}
	return -1;
}

int sig_parse_mib(const char *buf, const char *table, const char *field, __u64 *v)
{
	size_t tl = strlen(table);
	const char *p = buf;

	/* a "Table:" header line, then a "Table:" value line */
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		const char *vals, *veol, *q;
		int idx;

		if (!eol)
			return -EINVAL;
		if (strncmp(p, table, tl) || p[tl] != ':') {
			p = eol + 1;
			continue;
		}
		vals = eol + 1;
		veol = strchr(vals, '\n');
		if (!veol)
			veol = vals + strlen(vals);
		if (strncmp(vals, table, tl) || vals[tl] != ':')
			return -EINVAL;
		/* field 0 is "Table:" in both lines */
		idx = header_index(p, eol, field);
		if (idx < 0) {
			p = veol;   /* /proc/net/snmp has no repeated tables; be lenient */
			continue;
		}
		if (!idx)
			return -EINVAL;
		/* skip the fields before it (some are signed: Tcp MaxConn is -1) */
		q = vals + tl + 1;
		for (int i = 1; i < idx; i++) {
			while (q < veol && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= veol)
				return -EINVAL;
			while (q < veol && *q != ' ' && *q != '\t')
				q++;
		}
		if (q >= veol || next_u64(&q, v) || q > veol)
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

int sig_parse_netstat(const char *buf, __u64 *overflows, __u64 *drops)
{
	__u64 o, d;
	int r = sig_parse_mib(buf, "TcpExt", "ListenOverflows", &o);

	if (!r)
		r = sig_parse_mib(buf, "TcpExt", "ListenDrops", &d);
	if (r)
		return r;
	*overflows = o;
	*drops = d;
	return 0;
}

int sig_diag_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd < 0 ? -errno : fd;
}

int sig_diag_parse(const void *buf, size_t len, const __u16 *ports, unsigned n,
		   struct sig_queue *out)
{
	const char *p = buf;
	size_t left = len;

	/* NLMSG_OK/NLMSG_NEXT by hand, in size_t, so no sign games */
	while (left >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *h = (const void *)p;
		size_t mlen = h->nlmsg_len, step = NLMSG_ALIGN(h->nlmsg_len);

		if (mlen < sizeof(*h) || mlen > left || step > left)
			return -EPROTO;
		p += step;
		left -= step;
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (mlen < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			/* only a real negative errno; anything else is a bad reply */
			return e->error < 0 && e->error >= -4095 ? e->error : -EPROTO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		if (mlen < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			return -EPROTO;
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		if (m->idiag_state != TCP_LISTEN)
			continue;
		__u16 port = ntohs(m->id.idiag_sport);
		for (unsigned i = 0; i < n; i++) {
			if (ports[i] != port)
				continue;
			out[i].listeners++;
			out[i].depth += m->idiag_rqueue;
			out[i].limit += m->idiag_wqueue;
		}
	}
	if (left != 0)
		return -EPROTO;
	return 0;
}

static int diag_dump(int fd, int family, const __u16 *ports, unsigned n, struct sig_queue *out)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = (__u8)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = 1u << TCP_LISTEN,
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	/* dump chunks are at most a page unless a larger buffer was seen */
	long buf[32768 / sizeof(long)];

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (int rounds = 0; rounds < 100000; rounds++) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int rc;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0 || (size_t)r > sizeof(buf))
			return -EPROTO;
		rc = sig_diag_parse(buf, (size_t)r, ports, n, out);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	return -E2BIG;
}

int sig_listen_queues(int fd, const __u16 *ports, unsigned n, struct sig_queue *out)
{
	int r;

	for (unsigned i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].port = ports[i];
	}
	if (!n)
		return 0;
	r = diag_dump(fd, AF_INET, ports, n, out);
	if (r)
		return r;
	/* IPv6 listeners; a kernel without IPv6 answers ENOENT */
	r = diag_dump(fd, AF_INET6, ports, n, out);
	return r == -ENOENT ? 0 : r;
}

double sig_queue_fill(const struct sig_queue *q, unsigned n)
{
	double worst = 0;

	for (unsigned i = 0; i < n; i++) {
		double f;

		if (!q[i].listeners)
			continue;
		f = q[i].limit ? (double)q[i].depth / q[i].limit : (q[i].depth ? 1.0 : 0.0);
		if (f > worst)
			worst = f;
	}
	return worst;
}

void sig_class_rates(const struct corral_counter *prev, const struct corral_counter *cur,
		     __u64 dt_ns, double rate[CORRAL_NCLASS])
{
	static const int reasons[] = {
		CORRAL_R_PASS, CORRAL_R_ALLOW, CORRAL_R_RATE, CORRAL_R_SHED,
		CORRAL_R_SYN_DEFER, CORRAL_R_SYN_CAP, CORRAL_R_SYN_COOKIE,
	};

	for (int c = 0; c < CORRAL_NCLASS; c++) {
		__u64 d = 0;

		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
			__u32 k = CORRAL_STAT_KEY(c, reasons[i]);

			/* counters only grow; a smaller value means the maps were recreated */
			if (cur[k].packets > prev[k].packets)
				d += cur[k].packets - prev[k].packets;
		}
		rate[c] = dt_ns ? (double)d * 1e9 / (double)dt_ns : 0;
	}
}
