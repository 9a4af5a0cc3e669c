// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pkt.c - test packet builder (see pkt.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "pkt.h"

#define ETH_HLEN_ 14
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define ARP_LEN 28

static const __u8 mac_src[6] = { 0x02, 0x77, 0x00, 0x00, 0x00, 0x01 };
static const __u8 mac_dst[6] = { 0x02, 0x77, 0x00, 0x00, 0x00, 0x02 };

void pkt_spec_init(struct pkt_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->ttl = 64;
	memcpy(s->eth_src, mac_src, 6);
	memcpy(s->eth_dst, mac_dst, 6);
}

static void spec_l4(struct pkt_spec *s, __u8 proto, __u16 sport, __u16 dport)
{
	s->l4proto = proto;
	s->sport = sport;
	s->dport = dport;
	s->seq = 1;
	if (proto == PKT_TCP)
		s->tcp_flags = PKT_ACK;
	if (proto == PKT_ICMP)
		s->icmp_type = 8;       /* echo request */
	if (proto == PKT_ICMPV6)
		s->icmp_type = 128;     /* echo request */
}

void pkt_spec_v4(struct pkt_spec *s, __u32 src, __u32 dst, __u8 proto, __u16 sport,
		 __u16 dport)
{
	pkt_spec_init(s);
	s->family = 4;
	s->src4 = src;
	s->dst4 = dst;
	spec_l4(s, proto, sport, dport);
}

void pkt_spec_v6(struct pkt_spec *s, const __u8 src[16], const __u8 dst[16], __u8 proto,
		 __u16 sport, __u16 dport)
{
	pkt_spec_init(s);
	s->family = 6;
	memcpy(s->src6, src, 16);
	memcpy(s->dst6, dst, 16);
	spec_l4(s, proto, sport, dport);
}

void pkt_spec_nonip(struct pkt_spec *s, __u16 ethertype)
{
	pkt_spec_init(s);
	s->ethertype = ethertype;
	if (ethertype == PKT_ETH_ARP)
		s->payload_len = ARP_LEN;
	else
		s->payload_len = 46;
}

int pkt_spec_add_ext(struct pkt_spec *s, __u8 type, __u16 len)
{
	if (s->next_ext >= PKT_MAX_EXT)
		return -E2BIG;
	s->ext[s->next_ext].type = type;
	s->ext[s->next_ext].len = len;
	s->next_ext++;
	return 0;
}

void pkt_ip6(__u8 out[16], __u16 a, __u16 b, __u16 c, __u16 d, __u16 e, __u16 f, __u16 g,
	     __u16 h)
{
	__u16 w[8] = { a, b, c, d, e, f, g, h };
	int i;

	for (i = 0; i < 8; i++) {
		out[2 * i] = w[i] >> 8;
		out[2 * i + 1] = w[i] & 0xff;
	}
}

static __u32 csum_add(const void *data, size_t len, __u32 sum)
{
	const __u8 *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

__u16 pkt_csum(const void *data, size_t len, __u32 sum)
{
	return csum_fold(csum_add(data, len, sum));
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static int ext_size(const struct pkt_ext *e)
{
	switch (e->type) {
	case PKT_HOPOPTS:
	case PKT_ROUTING:
	case PKT_DSTOPTS:
		if (!e->len)
			return 8;
		if (e->len % 8 || e->len > 8 * 256)
			return -EINVAL;
		return e->len;
	case PKT_AH:
		if (!e->len)
			return 12;
		if (e->len % 4 || e->len < 12 || e->len > 4 * 257)
			return -EINVAL;
		return e->len;
	case PKT_FRAGMENT:
		return 8;
	}
	return -EINVAL;
}

static int l4_hdr_size(const struct pkt_spec *s)
{
	if (s->no_l4)
		return 0;
	switch (s->l4proto) {
	case PKT_TCP:
		if (s->tcp_opt_len % 4 || s->tcp_opt_len > 40)
			return -EINVAL;
		return TCP_HLEN + s->tcp_opt_len;
	case PKT_UDP:
		return UDP_HLEN;
	case PKT_ICMP:
	case PKT_ICMPV6:
		return ICMP_HLEN;
	}
	return 0;
}

/* PadN option filling an extension header's option area */
static void fill_padn(__u8 *p, int n)
{
	if (n <= 0)
		return;
	if (n == 1) {
		p[0] = 0;       /* Pad1 */
		return;
	}
	p[0] = 1;
	p[1] = n - 2;
	memset(p + 2, 0, n - 2);
}

static void build_ext(const struct pkt_spec *s, const struct pkt_ext *e, __u8 *p, int size,
		      __u8 next)
{
	memset(p, 0, size);
	p[0] = next;
	switch (e->type) {
	case PKT_HOPOPTS:
	case PKT_DSTOPTS:
		p[1] = size / 8 - 1;
		fill_padn(p + 2, size - 2);
		break;
	case PKT_ROUTING:
		p[1] = size / 8 - 1;
		p[2] = 0;               /* routing type */
		p[3] = 0;               /* segments left */
		break;
	case PKT_FRAGMENT:
		put16(p + 2, (__u16)(s->frag_off << 3) | (s->mf ? 1 : 0));
		put32(p + 4, 0x7700aa55);
		break;
	case PKT_AH:
		p[1] = size / 4 - 2;
		put32(p + 4, 0x100);    /* SPI */
		put32(p + 8, 1);        /* sequence */
		break;
	}
}

int pkt_build(const struct pkt_spec *s, void *buf, size_t cap, struct pkt_layout *lay)
{
	struct pkt_layout l = { 0 };
	__u8 *b = buf;
	int off = 0, i, l4h, l4len, ext_total = 0, size;
	__u16 etype;
	__u32 sum;

	if (s->nvlan < 0 || s->nvlan > PKT_MAX_VLAN || s->next_ext < 0 ||
	    s->next_ext > PKT_MAX_EXT)
		return -EINVAL;
	if (s->family != 0 && s->family != 4 && s->family != 6)
		return -EINVAL;
	if (s->family == 4 && (s->ip_opt_len % 4 || s->ip_opt_len > 40))
		return -EINVAL;
	if (s->family != 6 && s->next_ext)
		return -EINVAL;
	l4h = s->family ? l4_hdr_size(s) : 0;
	if (l4h < 0)
		return l4h;
	for (i = 0; i < s->next_ext; i++) {
		size = ext_size(&s->ext[i]);
		if (size < 0)
			return size;
		ext_total += size;
	}

	/* total size check first, so nothing is written out of bounds */
	size = ETH_HLEN_ + 4 * s->nvlan + s->payload_len + l4h;
	if (s->family == 4)
		size += IP4_HLEN + s->ip_opt_len;
	else if (s->family == 6)
		size += IP6_HLEN + ext_total;
	if ((size_t)size > cap)
		return -E2BIG;
	memset(b, 0, size);

	/* Ethernet and VLAN tags */
	memcpy(b, s->eth_dst, 6);
	memcpy(b + 6, s->eth_src, 6);
	etype = s->ethertype;
	if (!etype)
		etype = s->family == 6 ? PKT_ETH_IPV6 : s->family == 4 ? PKT_ETH_IP : PKT_ETH_ARP;
	off = 12;
	for (i = 0; i < s->nvlan; i++) {
		__u16 tpid = s->vlan_tpid[i] ? s->vlan_tpid[i] : PKT_ETH_8021Q;

		put16(b + off, tpid);
		put16(b + off + 2, s->vlan_tci[i] ? s->vlan_tci[i] : (__u16)(100 + i));
		l.vlan[i] = off + 2;    /* the kernel's struct vlan_hdr (TCI, proto) */
		off += 4;
	}
	l.nvlan = s->nvlan;
	put16(b + off, etype);
	off += 2;
	l.l3 = off;

	if (s->family == 0) {
		__u8 *p = b + off;

		if (etype == PKT_ETH_ARP && s->payload_len >= ARP_LEN) {
			put16(p, 1);            /* Ethernet */
			put16(p + 2, PKT_ETH_IP);
			p[4] = 6;
			p[5] = 4;
			put16(p + 6, 1);        /* request */
			memcpy(p + 8, s->eth_src, 6);
			memcpy(p + 14, &s->src4, 4);
			memcpy(p + 24, &s->dst4, 4);
		} else {
			for (i = 0; i < (int)s->payload_len; i++)
				p[i] = s->payload_byte ? s->payload_byte : (__u8)i;
		}
		l.l4 = l.payload = off;
		l.len = off + s->payload_len;
		if (lay)
			*lay = l;
		return l.len;
	}

	l4len = l4h + s->payload_len;
	if (s->family == 4) {
		__u8 *ip = b + off;
		int hlen = IP4_HLEN + s->ip_opt_len;
		int ihl = s->ihl_override > 0 ? s->ihl_override : hlen / 4;
		int ver = s->version_override > 0 ? s->version_override : 4;
		__u16 frag = (s->frag_off & 0x1fff) | (s->mf ? 0x2000 : 0) | (s->df ? 0x4000 : 0);

		ip[0] = (ver << 4) | (ihl & 0xf);
		ip[1] = (s->dscp << 2) | (s->ecn & 3);
		put16(ip + 2, (__u16)(hlen + l4len + s->iplen_delta));
		put16(ip + 4, 0x77aa);
		put16(ip + 6, frag);
		ip[8] = s->ttl ? s->ttl : 64;
		ip[9] = s->l4proto;
		memcpy(ip + 12, &s->src4, 4);
		memcpy(ip + 16, &s->dst4, 4);
		if (s->ip_opt_len) {
			memset(ip + IP4_HLEN, 1, s->ip_opt_len);   /* NOP */
			ip[hlen - 1] = 0;                          /* EOL */
		}
		put16(ip + 10, pkt_csum(ip, hlen, 0));
		l.l3_hlen = hlen;
		off += hlen;
	} else {
		__u8 *ip6 = b + off;
		int ver = s->version_override > 0 ? s->version_override : 6;
		__u8 tc = (s->dscp << 2) | (s->ecn & 3);

		ip6[0] = (ver << 4) | (tc >> 4);
		ip6[1] = (tc & 0xf) << 4;
		put16(ip6 + 4, (__u16)(ext_total + l4len + s->iplen_delta));
		ip6[6] = s->next_ext ? s->ext[0].type : s->l4proto;
		ip6[7] = s->ttl ? s->ttl : 64;
		memcpy(ip6 + 8, s->src6, 16);
		memcpy(ip6 + 24, s->dst6, 16);
		l.l3_hlen = IP6_HLEN;
		off += IP6_HLEN;
		for (i = 0; i < s->next_ext; i++) {
			__u8 next = i + 1 < s->next_ext ? s->ext[i + 1].type : s->l4proto;

			size = ext_size(&s->ext[i]);
			build_ext(s, &s->ext[i], b + off, size, next);
			l.ext[i] = off;
			l.ext_len[i] = size;
			off += size;
		}
		l.next = s->next_ext;
	}

	/* transport header and payload */
	l.l4 = off;
	l.l4_hlen = l4h;
	l.payload = off + l4h;
	for (i = 0; i < (int)s->payload_len; i++)
		b[l.payload + i] = s->payload_byte ? s->payload_byte : (__u8)i;
	if (l4h) {
		__u8 *t = b + off;

		if (s->family == 4) {
			sum = csum_add(&s->src4, 4, 0);
			sum = csum_add(&s->dst4, 4, sum);
			sum += s->l4proto + l4len;
		} else {
			sum = csum_add(s->src6, 16, 0);
			sum = csum_add(s->dst6, 16, sum);
			sum += l4len + s->l4proto;
		}
		switch (s->l4proto) {
		case PKT_TCP: {
			int doff = s->doff_override > 0 ? s->doff_override : l4h / 4;

			put16(t, s->sport);
			put16(t + 2, s->dport);
			put32(t + 4, s->seq);
			put32(t + 8, s->ack_seq);
			t[12] = (doff & 0xf) << 4;
			t[13] = s->tcp_flags;
			put16(t + 14, 65535);
			if (s->tcp_opt_len) {
				memset(t + TCP_HLEN, 1, s->tcp_opt_len);   /* NOP */
				t[TCP_HLEN] = 2;                            /* MSS 1460 */
				t[TCP_HLEN + 1] = 4;
				put16(t + TCP_HLEN + 2, 1460);
			}
			put16(t + 16, pkt_csum(t, l4len, sum));
			break;
		}
		case PKT_UDP:
			put16(t, s->sport);
			put16(t + 2, s->dport);
			put16(t + 4, (__u16)l4len);
			put16(t + 6, pkt_csum(t, l4len, sum) ?: 0xffff);
			break;
		case PKT_ICMP:
		case PKT_ICMPV6:
			t[0] = s->icmp_type;
			t[1] = s->icmp_code;
			put16(t + 4, s->sport);         /* identifier */
			put16(t + 6, s->dport);         /* sequence */
			put16(t + 2, pkt_csum(t, l4len, s->l4proto == PKT_ICMPV6 ? sum : 0));
			break;
		}
	}
	l.len = l.payload + s->payload_len;
	if (lay)
		*lay = l;
	return l.len;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int pkt_boundaries(const struct pkt_layout *lay, int *offs, int max)
{
	int tmp[8 + PKT_MAX_VLAN + PKT_MAX_EXT], n = 0, i, out = 0;

	tmp[n++] = 0;
	tmp[n++] = ETH_HLEN_;
	for (i = 0; i < lay->nvlan; i++)
		tmp[n++] = lay->vlan[i] + 4;
	tmp[n++] = lay->l3;
	for (i = 0; i < lay->next; i++)
		tmp[n++] = lay->ext[i];
	tmp[n++] = lay->l4;
	tmp[n++] = lay->payload;
	tmp[n++] = lay->len;
	qsort(tmp, n, sizeof(int), cmp_int);
	for (i = 0; i < n && out < max; i++)
		if (!out || offs[out - 1] != tmp[i])
			offs[out++] = tmp[i];
	return out;
}
