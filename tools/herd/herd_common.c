/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * herd_common.c - clocks, parsing and wire format shared by the herd tools.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "herd_common.h"

int herd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int herd_parse_ms(const char *s, uint64_t max_ms, uint64_t *out_ms)
{
	char num[32];
	size_t n = strlen(s), digits = 0;
	uint64_t mult = 1, v;
	int err;

	while (digits < n && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (digits == 0 || digits >= sizeof(num))
		return -EINVAL;
	if (strcmp(s + digits, "s") == 0)
		mult = 1000;
	else if (s[digits] && strcmp(s + digits, "ms") != 0)
		return -EINVAL;
	memcpy(num, s, digits);
	num[digits] = 0;
	err = herd_parse_u64(num, 0, max_ms / mult, &v);
	if (err)
		return err;
	*out_ms = v * mult;
	return 0;
}

int herd_parse_addr(const char *s, uint16_t port, struct herd_addr *a)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		a->len = sizeof(*v4);
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		a->len = sizeof(*v6);
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void herd_addr_add(const struct herd_addr *base, uint64_t i, struct herd_addr *out)
{
	*out = *base;
	if (base->family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;

		v4->sin_addr.s_addr = htonl(ntohl(v4->sin_addr.s_addr) + (uint32_t)i);
	} else {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
		uint8_t *b = v6->sin6_addr.s6_addr;
		uint64_t lo = 0;
		int k;

		for (k = 8; k < 16; k++)
			lo = (lo << 8) | b[k];
		lo += i;
		for (k = 15; k >= 8; k--) {
			b[k] = lo & 0xff;
			lo >>= 8;
		}
	}
}

void herd_addr_str(const struct herd_addr *a, char *buf, size_t len)
{
	const void *p = a->family == AF_INET
		? (const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr
		: (const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;

	if (!inet_ntop(a->family, p, buf, len))
		snprintf(buf, len, "?");
}

int herd_format_request(char *buf, size_t len, uint32_t client, uint32_t attempt,
			uint64_t deadline_us)
{
	int n = snprintf(buf, len, "HERD %" PRIu32 " %" PRIu32 " %" PRIu64 "\n",
			 client, attempt, deadline_us);

	return (n < 0 || (size_t)n >= len) ? -EOVERFLOW : n;
}

int herd_parse_request(const char *buf, uint32_t *client, uint32_t *attempt,
		       uint64_t *deadline_us)
{
	char tail;

	if (sscanf(buf, "HERD %" SCNu32 " %" SCNu32 " %" SCNu64 "%c",
		   client, attempt, deadline_us, &tail) != 4 || tail != '\n')
		return -EINVAL;
	return 0;
}

int herd_listen_counters(uint64_t *overflows, uint64_t *drops)
{
	char hdr[4096], val[4096];
	FILE *f = fopen("/proc/net/netstat", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	*overflows = *drops = 0;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		char *hs, *vs, *h, *v;

		if (strncmp(hdr, "TcpExt:", 7) != 0)
			continue;
		h = strtok_r(hdr + 7, " \n", &hs);
		v = strtok_r(val + 7, " \n", &vs);
		while (h && v) {
			if (strcmp(h, "ListenOverflows") == 0)
				*overflows = strtoull(v, NULL, 10);
			else if (strcmp(h, "ListenDrops") == 0)
				*drops = strtoull(v, NULL, 10);
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
		err = 0;
		break;
	}
	fclose(f);
	return err;
}
