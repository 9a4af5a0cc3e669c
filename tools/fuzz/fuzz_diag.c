// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_diag.c - libFuzzer harness for the sock_diag reply parser
 * (sig_diag_parse in user/signals.h): one chunk of a NETLINK_SOCK_DIAG
 * dump as the kernel would hand it to recv().
 *
 * Input: byte 0 = number of watched ports (mod 9), then 2 bytes per port
 * (big endian), then the netlink chunk. The chunk is copied into an
 * exact-size heap buffer (aligned like the receive buffer), so ASan sees
 * any read past its end. Checks beyond ASan/UBSan: the return value is 1, 0
 * or a negative errno; no port gets more listeners than messages fit in
 * the chunk; counters only grow.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>

#include "signals.h"

#define MAXP 8

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_diag: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sig_queue q[MAXP];
	__u16 ports[MAXP];
	unsigned n, i;
	size_t off, blen;
	void *buf;
	int ret;

	if (len < 1)
		return 0;
	n = data[0] % (MAXP + 1);
	off = 1 + 2 * (size_t)n;
	if (len < off)
		return 0;
	for (i = 0; i < n; i++) {
		ports[i] = (__u16)(data[1 + 2 * i] << 8 | data[2 + 2 * i]);
		memset(&q[i], 0, sizeof(q[i]));
		q[i].port = ports[i];
	}
	blen = len - off;
	buf = malloc(blen ? blen : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + off, blen);
	ret = sig_diag_parse(buf, blen, ports, n, q);
	CHECK(ret == 0 || ret == 1 || (ret < 0 && ret > -4096), "returned %d", ret);
	for (i = 0; i < n; i++) {
		CHECK(q[i].port == ports[i], "port %u changed", i);
		CHECK(q[i].listeners <= blen / NLMSG_LENGTH(sizeof(struct inet_diag_msg)),
		      "%u listeners in %zu bytes", q[i].listeners, blen);
	}
	/* a second pass adds to the same counters */
	if (n) {
		struct sig_queue again[MAXP];

		memcpy(again, q, sizeof(q[0]) * n);
		(void)sig_diag_parse(buf, blen, ports, n, again);
		for (i = 0; i < n; i++)
			CHECK(again[i].listeners >= q[i].listeners, "counter went down");
	}
	free(buf);
	return 0;
}
