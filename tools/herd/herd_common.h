/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * herd_common.h - pieces shared by herd_service and herd_clients: clocks,
 * strict number parsing, address parsing and the request/response wire
 * format.
 *
 * Wire format (one line each way, ASCII):
 *   request   "HERD <client> <attempt> <deadline_unix_us>\n"
 *   response  "OK <client> <attempt>\n"
 * deadline_unix_us is CLOCK_REALTIME in microseconds: the instant after
 * which the client no longer waits for this response (read together with
 * the monotonic clock that arms the client's timer). Both tools run on the
 * same host, so the service can tell a response that was written to a client
 * that had already given up (wasted work).
 */
#ifndef HERD_COMMON_H
#define HERD_COMMON_H

#include <stdint.h>
#include <stdbool.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define HERD_REQ_MAX 96
#define HERD_BUCKET_NS 100000000ull   /* time-series bucket: 100 ms */

static inline uint64_t herd_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t herd_mono_ns(void) { return herd_now_ns(CLOCK_MONOTONIC); }
static inline uint64_t herd_unix_ms(void) { return herd_now_ns(CLOCK_REALTIME) / 1000000ull; }
static inline uint64_t herd_unix_us(void) { return herd_now_ns(CLOCK_REALTIME) / 1000ull; }

/* Parse a whole decimal unsigned number in [min, max]; 0 or -EINVAL/-ERANGE. */
int herd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a duration: a number with optional unit ms or s (default unit ms). */
int herd_parse_ms(const char *s, uint64_t max_ms, uint64_t *out_ms);

/* An IPv4 or IPv6 address with a port, as a sockaddr ready for bind/connect. */
struct herd_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};
int herd_parse_addr(const char *s, uint16_t port, struct herd_addr *a);
/* a + i: add i to the low bits of the address (IPv4 host order, IPv6 last 64 bits) */
void herd_addr_add(const struct herd_addr *base, uint64_t i, struct herd_addr *out);
void herd_addr_str(const struct herd_addr *a, char *buf, size_t len);

int herd_format_request(char *buf, size_t len, uint32_t client, uint32_t attempt,
			uint64_t deadline_us);
/* 0 and fields filled, or -EINVAL for a malformed request */
int herd_parse_request(const char *buf, uint32_t *client, uint32_t *attempt,
		       uint64_t *deadline_us);

/* ListenOverflows and ListenDrops of the caller's network namespace */
int herd_listen_counters(uint64_t *overflows, uint64_t *drops);

#endif
