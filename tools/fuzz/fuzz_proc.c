// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_proc.c - libFuzzer harness for the controller's /proc parsers
 * (user/signals.h): /proc/stat, /proc/pressure/cpu, /proc/net/netstat.
 *
 * Input: up to two text samples separated by a NUL byte. Each sample goes
 * to every parser (as an exact-size NUL-terminated buffer, so ASan sees a
 * read past its end). When both parse as /proc/stat, their CPU shares are
 * computed. Checks beyond ASan/UBSan: pressure in [0, 1], shares in [0, 1].
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signals.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_proc: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static int parse_sample(const uint8_t *d, size_t n, struct sig_cpu *cpu)
{
	char *s = malloc(n + 1);
	__u64 ovf = 0, drops = 0;
	double psi;
	int ret;

	if (!s)
		return -1;
	memcpy(s, d, n);
	s[n] = 0;
	ret = sig_parse_stat(s, cpu);
	if (!sig_parse_psi(s, &psi))
		CHECK(psi >= 0 && psi <= 1 && !isnan(psi), "pressure %f", psi);
	if (!sig_parse_netstat(s, &ovf, &drops)) {
		__u64 o = ~0ull, d = ~0ull;

		/* the two-field reader is the one-field reader twice */
		CHECK(!sig_parse_mib(s, "TcpExt", "ListenOverflows", &o) && o == ovf,
		      "ListenOverflows %llu vs %llu", (unsigned long long)o, (unsigned long long)ovf);
		CHECK(!sig_parse_mib(s, "TcpExt", "ListenDrops", &d) && d == drops,
		      "ListenDrops %llu vs %llu", (unsigned long long)d, (unsigned long long)drops);
	}
	{
		__u64 po;
		int r = sig_parse_mib(s, "Tcp", "PassiveOpens", &po);

		CHECK(r == 0 || r == -EINVAL || r == -ENOENT || r == -ERANGE, "mib returned %d", r);
	}
	free(s);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t *nul = memchr(data, 0, len);
	size_t la = nul ? (size_t)(nul - data) : len;
	struct sig_cpu a, b;
	int ra, rb = -1;

	ra = parse_sample(data, la, &a);
	if (nul)
		rb = parse_sample(nul + 1, len - la - 1, &b);
	if (!ra && !rb) {
		double busy = -1, soft = -1;

		if (!sig_cpu_share(&a, &b, &busy, &soft)) {
			CHECK(busy >= 0 && busy <= 1, "busy %f", busy);
			CHECK(soft >= 0 && soft <= 1, "softirq %f", soft);
		}
	}
	return 0;
}
