/* SPDX-License-Identifier: BSD-2-Clause */
/* tun_filter.c - Easy IP's eBPF socket filter on the TUN and its port map (tun_filter.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tun_filter.h"

/* ---- the program ----
 *
 * A socket filter (BPF_PROG_TYPE_SOCKET_FILTER) sees the packet from its IPv4 header on (a
 * TUN has no link-layer header) and returns how many bytes to keep: 0 drops it. Registers:
 * r6 the context (BPF_LD_ABS and BPF_LD_IND read the packet through it and leave the value
 * in r0, host order, clobbering r1-r5), r7 the map's value, r8 the IPv4 header's length,
 * r9 where the protocol's port bits start in the value. A load past the packet's
 * end would end the program with 0, uncounted: the loads of the transport header are
 * checked first (need_bytes), so a TCP/UDP packet for W cut short there is dropped and
 * counted (the engine would drop it as malformed); the IPv4 header's 20 bytes are there in
 * every packet the kernel routes. */

enum filter_label { L_PASS, L_DROP, L_PORTS, L_LABELS };

struct filter_prog {
	struct bpf_insn insn[80];
	int8_t target[80]; /* the label a jump goes to, + 1 (0: not a jump to a label) */
	unsigned n;
	unsigned label[L_LABELS];
};

static void op(struct filter_prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
	       int32_t imm)
{
	p->insn[p->n] = (struct bpf_insn){
	    .code = code, .dst_reg = dst & 0xf, .src_reg = src & 0xf, .off = off, .imm = imm};
	p->target[p->n++] = 0;
}

/* if (dst <jmp> imm) goto l; BPF_JA ignores dst and imm. */
static void jump(struct filter_prog *p, uint8_t jmp, uint8_t dst, int32_t imm, enum filter_label l)
{
	op(p, BPF_JMP | jmp | BPF_K, dst, 0, 0, imm);
	p->target[p->n - 1] = (int8_t)(l + 1);
}

static void place(struct filter_prog *p, enum filter_label l)
{
	p->label[l] = p->n;
}

static void resolve(struct filter_prog *p)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->target[i])
			p->insn[i].off = (int16_t)(p->label[p->target[i] - 1] - (i + 1));
}

#define ALU_K(p, o, dst, imm) op(p, BPF_ALU64 | (o) | BPF_K, dst, 0, 0, imm)
#define ALU_X(p, o, dst, src) op(p, BPF_ALU64 | (o) | BPF_X, dst, src, 0, 0)

/* dst = a 32-bit field of the map's value, at offset off. */
static void load_field(struct filter_prog *p, uint8_t dst, size_t off)
{
	op(p, BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_7, (int16_t)off, 0);
}

/* A packet shorter than its IPv4 header and `need` bytes beyond goes to the drop, counted:
 * the load that needs them would end the program uncounted. */
static void need_bytes(struct filter_prog *p, int32_t need)
{
	op(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6,
	   (int16_t)offsetof(struct __sk_buff, len), 0);
	ALU_X(p, BPF_MOV, BPF_REG_3, BPF_REG_8);
	ALU_K(p, BPF_ADD, BPF_REG_3, need);
	op(p, BPF_JMP | BPF_JLT | BPF_X, BPF_REG_2, BPF_REG_3, 0, 0);
	p->target[p->n - 1] = L_DROP + 1;
}

/* What is not TCP or UDP for W in a packet with ports passes: not IPv4, not for W, a later
 * fragment, or anything at all while the DMZ is set. */
static void emit_header_checks(struct filter_prog *p, int map_fd)
{
	op(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0); /* r6 = ctx */
	/* r7 = &value, the map's one element (BPF_PSEUDO_MAP_VALUE: no lookup call). */
	op(p, BPF_LD | BPF_DW | BPF_IMM, BPF_REG_7, BPF_PSEUDO_MAP_VALUE, 0, map_fd);
	op(p, 0, 0, 0, 0, 0); /* second half of the 64-bit load: offset 0 in the value */
	op(p, BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0); /* r0 = version and IHL */
	ALU_X(p, BPF_MOV, BPF_REG_1, BPF_REG_0);
	ALU_K(p, BPF_RSH, BPF_REG_1, 4);
	jump(p, BPF_JNE, BPF_REG_1, 4, L_PASS); /* not IPv4 */
	ALU_K(p, BPF_AND, BPF_REG_0, 0x0f);
	ALU_K(p, BPF_LSH, BPF_REG_0, 2);
	ALU_X(p, BPF_MOV, BPF_REG_8, BPF_REG_0);      /* r8 = header length in bytes */
	op(p, BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 16); /* r0 = destination */
	load_field(p, BPF_REG_1, offsetof(struct tun_filter_map, wan));
	op(p, BPF_JMP | BPF_JNE | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0); /* not for W */
	p->target[p->n - 1] = L_PASS + 1;
	op(p, BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 6); /* r0 = flags and fragment offset */
	ALU_K(p, BPF_AND, BPF_REG_0, 0x1fff);
	jump(p, BPF_JNE, BPF_REG_0, 0, L_PASS); /* a later fragment: no ports, the engine's */
	load_field(p, BPF_REG_1, offsetof(struct tun_filter_map, flags));
	ALU_X(p, BPF_MOV, BPF_REG_2, BPF_REG_1);
	ALU_K(p, BPF_AND, BPF_REG_2, TUN_FILTER_ALL);
	jump(p, BPF_JNE, BPF_REG_2, 0, L_PASS); /* the DMZ takes every port */
}

/* TCP and UDP to W: the port's bit (a bare SYN first, when unsolicited-syn answers it). */
static void emit_port_checks(struct filter_prog *p)
{
	op(p, BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 9); /* r0 = protocol */
	jump(p, BPF_JEQ, BPF_REG_0, IPPROTO_UDP, L_PORTS);
	jump(p, BPF_JNE, BPF_REG_0, IPPROTO_TCP, L_PASS); /* ICMP and the rest pass */
	load_field(p, BPF_REG_1, offsetof(struct tun_filter_map, flags));
	ALU_K(p, BPF_AND, BPF_REG_1, TUN_FILTER_SYN);
	jump(p, BPF_JEQ, BPF_REG_1, 0, L_PORTS);
	need_bytes(p, 14);
	op(p, BPF_LD | BPF_IND | BPF_B, 0, BPF_REG_8, 0, 13); /* r0 = TCP flags */
	ALU_K(p, BPF_AND, BPF_REG_0, 0x12);
	jump(p, BPF_JEQ, BPF_REG_0, 0x02, L_PASS); /* SYN without ACK: RFC 5382 REQ-4 */
	place(p, L_PORTS);
	need_bytes(p, 4);
	/* r9 = where the protocol's bits start: UDP (17) has bit 4, TCP (6) not. Computed from
	 * the protocol loaded again, not per branch: the map access below must see the same
	 * range of offsets on every path, or the verifier refuses it without CAP_PERFMON (its
	 * Spectre v1 masking of pointer arithmetic takes one limit per instruction). */
	op(p, BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 9);
	ALU_K(p, BPF_RSH, BPF_REG_0, 4);
	ALU_K(p, BPF_AND, BPF_REG_0, 1);
	ALU_K(p, BPF_LSH, BPF_REG_0, 13); /* 65536 / 8 bytes per protocol */
	ALU_K(p, BPF_ADD, BPF_REG_0, (int32_t)offsetof(struct tun_filter_map, open[0]));
	ALU_X(p, BPF_MOV, BPF_REG_9, BPF_REG_0);
	op(p, BPF_LD | BPF_IND | BPF_H, 0, BPF_REG_8, 0, 2); /* r0 = destination port */
	ALU_K(p, BPF_AND, BPF_REG_0, 0xffff);
	ALU_X(p, BPF_MOV, BPF_REG_1, BPF_REG_0);
	ALU_K(p, BPF_RSH, BPF_REG_1, 3);
	ALU_X(p, BPF_ADD, BPF_REG_1, BPF_REG_9);
	ALU_X(p, BPF_MOV, BPF_REG_2, BPF_REG_7);
	ALU_X(p, BPF_ADD, BPF_REG_2, BPF_REG_1);
	op(p, BPF_LDX | BPF_MEM | BPF_B, BPF_REG_1, BPF_REG_2, 0, 0); /* r1 = the port's byte */
	ALU_K(p, BPF_AND, BPF_REG_0, 7);
	ALU_X(p, BPF_RSH, BPF_REG_1, BPF_REG_0);
	ALU_K(p, BPF_AND, BPF_REG_1, 1);
	jump(p, BPF_JNE, BPF_REG_1, 0, L_PASS); /* something holds the port */
}

/* Drop and count; pass whole (the program's answer is the length to keep). */
static void emit_verdicts(struct filter_prog *p)
{
	place(p, L_DROP);
	ALU_K(p, BPF_MOV, BPF_REG_1, 1);
	op(p, BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_7, BPF_REG_1,
	   (int16_t)offsetof(struct tun_filter_map, dropped), BPF_ADD);
	ALU_K(p, BPF_MOV, BPF_REG_0, 0);
	op(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	place(p, L_PASS);
	op(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_6,
	   (int16_t)offsetof(struct __sk_buff, len), 0);
	op(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* The verifier's reason: the line before its closing count ("processed N insns"), which
 * libbpf obtains by asking for the log again after a failure. */
static const char *verifier_reason(char *log)
{
	char *end = strstr(log, "\nprocessed "), *nl;

	if (end)
		*end = '\0';
	nl = strrchr(log, '\n');
	return nl ? nl + 1 : log;
}

static int load_program(int map_fd, char *why, size_t len)
{
	static char log[8192];
	struct filter_prog p = {.n = 0};
	struct bpf_prog_load_opts opts = {
	    .sz = sizeof(opts), .log_buf = log, .log_size = sizeof(log), .log_level = 0};
	int fd;

	emit_header_checks(&p, map_fd);
	emit_port_checks(&p);
	emit_verdicts(&p);
	resolve(&p);
	log[0] = '\0';
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "naptd_tun", "BSD", p.insn, p.n, &opts);
	if (fd < 0)
		snprintf(why, len, "program not loaded: %s%s%.100s", strerror(errno),
			 log[0] ? "; verifier: " : "", verifier_reason(log));
	return fd;
}

/* ---- the map ---- */

static size_t map_bytes(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct tun_filter_map) + page - 1) / page * page;
}

static bool make_map(struct tun_flood_filter *tf)
{
	struct bpf_map_create_opts opts = {.sz = sizeof(opts), .map_flags = BPF_F_MMAPABLE};
	void *mem;

	tf->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "naptd_tun_ports", sizeof(uint32_t),
				    sizeof(struct tun_filter_map), 1, &opts);
	if (tf->map_fd < 0) {
		snprintf(tf->why_off, sizeof(tf->why_off), "map not made: %s", strerror(errno));
		return false;
	}
	mem = mmap(NULL, map_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, tf->map_fd, 0);
	if (mem == MAP_FAILED) {
		snprintf(tf->why_off, sizeof(tf->why_off), "map not mapped: %s", strerror(errno));
		close(tf->map_fd);
		tf->map_fd = -1;
		return false;
	}
	tf->map = mem;
	return true;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0; /* naptd logs the one reason itself */
}

int tun_filter_load(struct tun_flood_filter *tf)
{
	int prog;

	tf->map = NULL;
	tf->map_fd = -1;
	libbpf_set_print(quiet);
	if (!make_map(tf))
		return -1;
	prog = load_program(tf->map_fd, tf->why_off, sizeof(tf->why_off));
	if (prog < 0)
		tun_filter_close(tf, NULL);
	return prog;
}

bool tun_filter_open(struct tun_flood_filter *tf, const struct tun_device *tun)
{
	int prog = tun_filter_load(tf);
	bool on = prog >= 0 && ioctl(tun->fd, TUNSETFILTEREBPF, &prog) == 0;

	if (prog >= 0 && !on) {
		snprintf(tf->why_off, sizeof(tf->why_off), "TUNSETFILTEREBPF: %s", strerror(errno));
		tun_filter_close(tf, NULL);
	}
	if (prog >= 0)
		close(prog); /* attached, the device holds it */
	return on;
}

/* One writer (naptd's thread), one reader (the program, on any CPU): a byte store is seen
 * whole. Before naptd writes the packet that makes a mapping, its bit is set, so the
 * answer cannot come before it. */
void tun_filter_port(void *ctx, uint8_t proto, unsigned ext, uint16_t port, bool open)
{
	struct tun_filter_map *map = ctx;
	uint8_t *byte, bit = (uint8_t)(1u << (port % 8));

	if (ext != 0 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return;
	byte = &map->open[proto == IPPROTO_UDP][port / 8];
	__atomic_store_n(byte, open ? *byte | bit : *byte & (uint8_t)~bit, __ATOMIC_RELEASE);
}

bool tun_filter_port_marked(const struct tun_filter_map *map, uint8_t proto, uint16_t port)
{
	return map->open[proto == IPPROTO_UDP][port / 8] >> (port % 8) & 1;
}

void tun_filter_follow(struct tun_filter_map *map, struct napt *n)
{
	static const uint8_t protos[2] = {IPPROTO_TCP, IPPROTO_UDP};

	for (unsigned p = 0; p < 2; p++)
		for (uint32_t port = 0; port <= 65535; port++)
			tun_filter_port(map, protos[p], 0, (uint16_t)port,
					napt_port_open(n, protos[p], 0, (uint16_t)port));
	napt_port_watch(n, tun_filter_port, map);
}

void tun_filter_sync(struct tun_filter_map *map, const struct napt_config *cfg)
{
	uint32_t flags = (cfg->has_dmz ? TUN_FILTER_ALL : 0) |
			 (cfg->unsolicited_syn != NAPT_UNSOLICITED_DROP ? TUN_FILTER_SYN : 0);
	uint32_t wan = ntohl(cfg->external[0]);

	if (map->flags != flags)
		__atomic_store_n(&map->flags, flags, __ATOMIC_RELEASE);
	if (map->wan != wan)
		__atomic_store_n(&map->wan, wan, __ATOMIC_RELEASE);
}

void tun_filter_close(struct tun_flood_filter *tf, const struct tun_device *tun)
{
	int none = -1;

	/* Off (never made, or made and undone): nothing is open, whatever map_fd says (0 in a
	 * naptd without Easy IP, whose filter was never touched). */
	if (!tf->map)
		return;
	if (tun && tun->fd >= 0)
		ioctl(tun->fd, TUNSETFILTEREBPF, &none);
	munmap(tf->map, map_bytes());
	close(tf->map_fd);
	tf->map = NULL;
	tf->map_fd = -1;
}
