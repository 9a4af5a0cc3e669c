/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * signals.h - the load signals the controller reads each tick.
 *
 * Parsers take text buffers (testable on recorded samples); readers fetch
 * the text from /proc or the kernel. All return 0 or a negative errno.
 */
#ifndef CORRAL_SIGNALS_H
#define CORRAL_SIGNALS_H

#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"

/* the aggregate "cpu" line of /proc/stat, in clock ticks */
struct sig_cpu {
	__u64 total;    /* user+nice+system+idle+iowait+irq+softirq+steal */
	__u64 idle;     /* idle + iowait */
	__u64 softirq;
};

int sig_parse_stat(const char *buf, struct sig_cpu *out);
/* busy (incl. softirq) and softirq shares between two samples; -EAGAIN
 * when no time passed */
int sig_cpu_share(const struct sig_cpu *a, const struct sig_cpu *b, double *busy, double *softirq);

/* /proc/pressure/cpu: "some avg10=" as a fraction 0..1 */
int sig_parse_psi(const char *buf, double *some_avg10);

/*
 * One counter of a /proc/net/snmp or /proc/net/netstat table: the header
 * line "Table: Name ..." followed by the value line "Table: 1 ...".
 * -ENOENT when the table or field is missing, -EINVAL when malformed.
 */
int sig_parse_mib(const char *buf, const char *table, const char *field, __u64 *v);
/* /proc/net/netstat: TcpExt ListenOverflows and ListenDrops */
int sig_parse_netstat(const char *buf, __u64 *overflows, __u64 *drops);

/* accept queue of the listeners on one port (all addresses, v4 and v6) */
struct sig_queue {
	__u16 port;
	__u32 listeners;  /* listening sockets found on the port */
	__u32 depth;      /* sum of idiag_rqueue: connections waiting for accept() */
	__u32 limit;      /* sum of idiag_wqueue: backlogs */
};

/* NETLINK_SOCK_DIAG socket; close() it when done */
int sig_diag_open(void);
/*
 * Accept queues of TCP listeners on ports[0..n) in the caller's network
 * namespace, IPv4 and IPv6. out[i] is for ports[i]; a port nobody listens
 * on gets listeners == 0.
 */
int sig_listen_queues(int fd, const __u16 *ports, unsigned n, struct sig_queue *out);
/*
 * Add the inet_diag messages of one netlink dump chunk to out[]. Returns 1
 * when the dump is done, 0 when more follows, negative errno on an error
 * message or a malformed chunk.
 */
int sig_diag_parse(const void *buf, size_t len, const __u16 *ports, unsigned n,
		   struct sig_queue *out);
/* fill of the worst listener group: depth / limit, max over ports */
double sig_queue_fill(const struct sig_queue *q, unsigned n);

/*
 * Offered packet rate per class between two counter snapshots: every
 * packet that reached the shed stage (pass, allow, rate, shed, SYN defer
 * and cap), per second of dt_ns.
 */
void sig_class_rates(const struct corral_counter *prev, const struct corral_counter *cur,
		     __u64 dt_ns, double rate[CORRAL_NCLASS]);

/* read a whole small file into buf (NUL-terminated); bytes read or -errno */
int sig_read_file(const char *path, char *buf, size_t len);

#endif /* CORRAL_SIGNALS_H */
