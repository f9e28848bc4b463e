/* SPDX-License-Identifier: BSD-2-Clause */
/* test_runtime_state.c - the state file: round trip, atomic replacement, errors named
 * path:line, and merging into the config file's settings. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime_state.h"
#include "unit_run.h"

static char dir[64];
static char path[128];
static char tmp_path[160];
static char err[512];
static struct runtime_state st, back;

/* fsync() of a directory fails while fail_dir_fsync is set: a disk error after the rename.
 * The program's own definition comes before the C library's for runtime_state.c too. */
static bool fail_dir_fsync;

int fsync(int fd)
{
	struct stat sb;
	if (fail_dir_fsync && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;
	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_runtime_state.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", path);
	memset(&st, 0, sizeof(st));
	memset(&back, 0xa5, sizeof(back));
	err[0] = '\0';
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The whole file, for comparing before and after a failed save. */
static char *read_file(const char *p)
{
	static char buf[1 << 22]; /* salvage_sets_aside_many_lines: about 0.5 MiB */
	FILE *f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void add_forward(struct runtime_state *s, uint8_t protos, uint16_t lo, uint16_t hi,
			const char *addr, uint16_t in_lo)
{
	struct napt_forward *f = &s->forwards[s->n_forwards++];
	f->protos = protos;
	f->ext_lo = lo;
	f->ext_hi = hi;
	f->in_addr = ip(addr);
	f->in_lo = in_lo;
}

static void assert_same_forwards(const struct runtime_state *a, const struct runtime_state *b)
{
	ck_assert_uint_eq(a->n_forwards, b->n_forwards);
	for (unsigned i = 0; i < a->n_forwards; i++) {
		ck_assert_uint_eq(a->forwards[i].protos, b->forwards[i].protos);
		ck_assert_uint_eq(a->forwards[i].ext_lo, b->forwards[i].ext_lo);
		ck_assert_uint_eq(a->forwards[i].ext_hi, b->forwards[i].ext_hi);
		ck_assert_uint_eq(a->forwards[i].in_addr, b->forwards[i].in_addr);
		ck_assert_uint_eq(a->forwards[i].in_lo, b->forwards[i].in_lo);
	}
}

START_TEST(missing_file_is_empty)
{
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_forwards, 0);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_FROM_CONFIG);
}
END_TEST

START_TEST(round_trip_forwards_and_dmz)
{
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
	add_forward(&st, NAPT_FWD_UDP, 5000, 5010, "192.168.1.20", 6000);
	add_forward(&st, NAPT_FWD_TCP | NAPT_FWD_UDP, 7000, 7000, "192.168.1.30", 7000);
	st.dmz_mode = RUNTIME_DMZ_SET;
	st.dmz = ip("192.168.1.50");
	ck_assert_msg(runtime_state_save(path, &st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	assert_same_forwards(&st, &back);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_SET);
	ck_assert_uint_eq(back.dmz, ip("192.168.1.50"));
	/* Config syntax (runtime_state.h), readable by an administrator. */
	const char *text = read_file(path);
	ck_assert_ptr_nonnull(strstr(text, "\nforward tcp 8080 192.168.1.10:80\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nforward udp 5000-5010 192.168.1.20:6000-6010\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ndmz 192.168.1.50\n"));
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
}
END_TEST

START_TEST(round_trip_dmz_cleared_and_untouched)
{
	st.dmz_mode = RUNTIME_DMZ_CLEARED;
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(read_file(path), "\ndmz none\n"));
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_CLEARED);
	st.dmz_mode = RUNTIME_DMZ_FROM_CONFIG;
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(read_file(path), "dmz"));
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_FROM_CONFIG);
	ck_assert_uint_eq(back.n_forwards, 0);
}
END_TEST

START_TEST(save_leaves_no_temporary)
{
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(access(tmp_path, F_OK), -1);
	st.n_forwards = 0;
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(access(tmp_path, F_OK), -1);
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_forwards, 0);
}
END_TEST

/* A crash after the temporary was written but before the rename: the state file is the old
 * one, the half-written temporary is ignored and replaced by the next save. */
START_TEST(crash_before_rename_keeps_old_file)
{
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	write_file(tmp_path, "forward tcp 9000 192.168.1.99:9\nforward garbage, cut sh");
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), 0);
	assert_same_forwards(&st, &back);
	add_forward(&st, NAPT_FWD_UDP, 53, 53, "192.168.1.11", 53);
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(access(tmp_path, F_OK), -1);
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), 0);
	assert_same_forwards(&st, &back);
}
END_TEST

/* The temporary cannot be written: the old file stays as it was. */
START_TEST(failed_write_keeps_old_file)
{
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
	char before[4096];
	snprintf(before, sizeof(before), "%s", read_file(path));
	ck_assert_int_eq(mkdir(tmp_path, 0700), 0);
	add_forward(&st, NAPT_FWD_UDP, 53, 53, "192.168.1.11", 53);
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, tmp_path));
	ck_assert_str_eq(read_file(path), before);
}
END_TEST

/* The rename fails: the error is reported and no temporary is left behind. */
START_TEST(failed_rename_removes_temporary)
{
	char inner[200];
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(inner, sizeof(inner), "%s/keep", path);
	write_file(inner, "x");
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "renaming"));
	ck_assert_int_eq(access(tmp_path, F_OK), -1);
	ck_assert_int_eq(access(inner, F_OK), 0);
}
END_TEST

static void load_fails(const char *text, unsigned line, const char *why)
{
	char want[300];
	write_file(path, text);
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%u: ", path, line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got '%s'", err);
	ck_assert_msg(strstr(err, why) != NULL, "got '%s'", err);
	/* A refused file leaves nothing half-loaded. */
	ck_assert_uint_eq(back.n_forwards, 0);
}

START_TEST(bad_lines_named_path_line)
{
	load_fails("# c\nforward tcp 8080 192.168.1.10:80\nbogus 1\n", 3, "bogus");
	load_fails("dmz 1.2.3\n", 1, "1.2.3");
	load_fails("\n\nforward tcp 80\n", 3, "");
	load_fails("forward tcp 8080 192.168.1.10:80\nforward both 8000-8100 192.168.1.11:1\n", 2,
		   "overlaps");
}
END_TEST

/* Also a file written before leases existed: forwards and DMZ only. */
START_TEST(comments_and_blank_lines)
{
	write_file(path, "# header\n\n  forward tcp 8080 192.168.1.10:80   # note\n"
			 "dmz 192.168.1.50\n");
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_forwards, 1);
	ck_assert_uint_eq(back.forwards[0].ext_lo, 8080);
	ck_assert_uint_eq(back.forwards[0].in_addr, ip("192.168.1.10"));
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_SET);
	ck_assert_uint_eq(back.n_leases, 0);
	ck_assert_int_eq(back.epoch_start, 0);
}
END_TEST

static struct runtime_lease *add_lease(struct runtime_state *s, uint8_t proto, uint16_t port,
				       const char *addr, uint16_t in_port, int64_t expires)
{
	struct runtime_lease *l = &s->leases[s->n_leases++];
	l->fwd = (struct napt_forward){
	    .protos = proto, .ext_lo = port, .ext_hi = port, .in_addr = ip(addr), .in_lo = in_port};
	l->expires = expires;
	return l;
}

/* NAT-PMP, PCP and UPnP leases (runtime_state.h): "forward ... expires T [nonce HEX]
 * [upnp]" and "pcp-epoch T" come back as they were saved. */
START_TEST(round_trip_leases)
{
	static const uint8_t nonce[RUNTIME_NONCE_LEN] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
							 0x66, 0x77, 0x88, 0x99, 0xaa, 0xff};
	int64_t later = (int64_t)time(NULL) + 3600;
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
	add_lease(&st, NAPT_FWD_UDP, 50000, "192.168.1.20", 5000, later);
	memcpy(add_lease(&st, NAPT_FWD_TCP, 50001, "192.168.1.21", 22, later + 1)->nonce, nonce,
	       sizeof(nonce));
	add_lease(&st, NAPT_FWD_TCP, 50002, "192.168.1.22", 3074, later + 2)->upnp = true;
	st.epoch_start = 1700000000;
	ck_assert_msg(runtime_state_save(path, &st, err, sizeof(err)) == 0, "%s", err);
	char want[160];
	const char *text = read_file(path);
	snprintf(want, sizeof(want), "\nforward udp 50000 192.168.1.20:5000 expires %lld\n",
		 (long long)later);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	snprintf(
	    want, sizeof(want),
	    "\nforward tcp 50001 192.168.1.21:22 expires %lld nonce 00112233445566778899aaff\n",
	    (long long)later + 1);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	snprintf(want, sizeof(want), "\nforward tcp 50002 192.168.1.22:3074 expires %lld upnp\n",
		 (long long)later + 2);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "\npcp-epoch 1700000000\n"));
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	assert_same_forwards(&st, &back);
	ck_assert_uint_eq(back.n_leases, 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(back.leases[i].fwd.protos, st.leases[i].fwd.protos);
		ck_assert_uint_eq(back.leases[i].fwd.ext_lo, st.leases[i].fwd.ext_lo);
		ck_assert_uint_eq(back.leases[i].fwd.in_addr, st.leases[i].fwd.in_addr);
		ck_assert_uint_eq(back.leases[i].fwd.in_lo, st.leases[i].fwd.in_lo);
		ck_assert_int_eq(back.leases[i].expires, st.leases[i].expires);
		ck_assert_mem_eq(back.leases[i].nonce, st.leases[i].nonce, RUNTIME_NONCE_LEN);
		ck_assert_int_eq(back.leases[i].upnp, i == 2);
	}
	ck_assert_int_eq(back.epoch_start, 1700000000);
}
END_TEST

/* A lease that ended while naptd was down does not come back; a live one does. */
START_TEST(expired_lease_dropped_at_load)
{
	char text[256];
	long long now = (long long)time(NULL);
	snprintf(text, sizeof(text),
		 "forward tcp 50000 192.168.1.10:80 expires %lld\n"
		 "forward udp 50001 192.168.1.11:53 expires %lld\n"
		 "forward tcp 50002 192.168.1.12:22 expires %lld\n",
		 now - 5, now + 600, now - 86400);
	write_file(path, text);
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_leases, 1);
	ck_assert_uint_eq(back.leases[0].fwd.ext_lo, 50001);
	ck_assert_int_eq(back.leases[0].expires, now + 600);
	ck_assert_uint_eq(back.n_forwards, 0);
}
END_TEST

/* PCP FILTER: "filter ADDR/LEN:PORT" words after the lifetime, before the nonce and origin,
 * come back in order. */
START_TEST(round_trip_lease_filters)
{
	int64_t later = (int64_t)time(NULL) + 3600;
	struct runtime_lease *l = add_lease(&st, NAPT_FWD_UDP, 50000, "192.168.1.20", 5000, later);
	char want[200];

	l->fwd.n_filters = 2;
	l->fwd.filters[0] = (struct napt_peer_filter){.addr = ip("198.51.100.7"), .len = 32};
	l->fwd.filters[1] =
	    (struct napt_peer_filter){.addr = ip("192.0.2.0"), .port = 3478, .len = 24};
	l->nonce[0] = 0xab;
	ck_assert_msg(runtime_state_save(path, &st, err, sizeof(err)) == 0, "%s", err);
	snprintf(want, sizeof(want),
		 "\nforward udp 50000 192.168.1.20:5000 expires %lld filter 198.51.100.7/32:0 "
		 "filter 192.0.2.0/24:3478 nonce ab0000000000000000000000\n",
		 (long long)later);
	ck_assert_msg(strstr(read_file(path), want) != NULL, "%s", read_file(path));
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_leases, 1);
	ck_assert_uint_eq(back.leases[0].fwd.n_filters, 2);
	/* Field by field: the struct's padding byte is whatever the stack held. */
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(back.leases[0].fwd.filters[i].addr, l->fwd.filters[i].addr);
		ck_assert_uint_eq(back.leases[0].fwd.filters[i].port, l->fwd.filters[i].port);
		ck_assert_uint_eq(back.leases[0].fwd.filters[i].len, l->fwd.filters[i].len);
	}
	ck_assert_uint_eq(back.leases[0].nonce[0], 0xab);
}
END_TEST

/* Strict: a bad filter names file:line and why. */
START_TEST(bad_lease_filters)
{
	static const char *const head = "forward udp 50000 192.168.1.20:5000 expires 4000000000";
	static const struct {
		const char *tail, *why;
	} bad[] = {
	    {" filter 198.51.100.7/24:0", "host bits"},
	    {" filter 198.51.100.7/33:0", "prefix length"},
	    {" filter 198.51.100.7/32", "ADDR/LEN:PORT"},
	    {" filter 198.51.100.7/32:70000", "port"},
	    {" filter", "lifetime"},
	    {" filter 198.51.100.7/32:0 extra", "'extra' among the filters"},
	    {" filter 198.51.100.7/32:0 filter", "'filter' among the filters"},
	    {" filter 1.1.1.1/32:0 filter 1.1.1.2/32:0 filter 1.1.1.3/32:0 filter 1.1.1.4/32:0 "
	     "filter 1.1.1.5/32:0",
	     "more than 4 filters"},
	};
	char text[400];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# c\n%s%s\n", head, bad[i].tail);
		load_fails(text, 2, bad[i].why);
	}
}
END_TEST

/* UPnP descriptions: printable ASCII without '"', '\\' and '#', at most 64 bytes, no spaces at the
 * ends; "desc TEXT" ends the lease's line and comes back as it was. */
START_TEST(lease_descriptions)
{
	static const struct {
		const char *in, *kept;
	} cases[] = {
	    {"libminiupnpc", "libminiupnpc"},
	    {"  Skype UDP at 192.168.1.5:1234 (1234)  ", "Skype UDP at 192.168.1.5:1234 (1234)"},
	    {"a\"b\\c\td\x01\xc3\xa9", "a?b?c?d???"},
	    {"# not a comment", "? not a comment"},
	    {"", ""},
	    {"0123456789012345678901234567890123456789012345678901234567890123456789",
	     "0123456789012345678901234567890123456789012345678901234567890123"},
	};
	int64_t later = (int64_t)time(NULL) + 3600;
	char kept[RUNTIME_DESC_MAX + 1], want[200];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		runtime_desc_set(kept, cases[i].in);
		ck_assert_str_eq(kept, cases[i].kept);
	}
	runtime_desc_set(kept, NULL);
	ck_assert_str_eq(kept, "");
	struct runtime_lease *l = add_lease(&st, NAPT_FWD_TCP, 50002, "192.168.1.22", 3074, later);
	l->upnp = true;
	runtime_desc_set(l->desc, "Xbox  desc upnp nonce 1 x ");
	ck_assert_msg(runtime_state_save(path, &st, err, sizeof(err)) == 0, "%s", err);
	snprintf(want, sizeof(want),
		 "\nforward tcp 50002 192.168.1.22:3074 expires %lld upnp desc Xbox  desc upnp "
		 "nonce 1 x\n",
		 (long long)later);
	ck_assert_msg(strstr(read_file(path), want) != NULL, "%s", read_file(path));
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_leases, 1);
	ck_assert_str_eq(back.leases[0].desc, "Xbox  desc upnp nonce 1 x");
	ck_assert(back.leases[0].upnp);
	load_fails("forward tcp 50000 192.168.1.10:80 expires 4000000000 desc a\"b\n", 1,
		   "bad description");
	load_fails("forward tcp 50000 192.168.1.10:80 expires 4000000000 desc "
		   "01234567890123456789012345678901234567890123456789012345678901234\n",
		   1, "bad description");
}
END_TEST

START_TEST(bad_lease_lines)
{
	load_fails("forward tcp 50000 192.168.1.10:80 expires soon\n", 1, "lifetime");
	load_fails("forward tcp 50000 192.168.1.10:80 expires 4000000000 nonce 12\n", 1, "nonce");
	load_fails("pcp-epoch -1\n", 1, "pcp-epoch");
}
END_TEST

static struct napt_config cfg;

static void parse_cfg(const char *text)
{
	ck_assert_msg(napt_config_parse_text(&cfg, text, "t.conf", err, sizeof(err)) == 0, "%s",
		      err);
}

START_TEST(apply_merges_over_config)
{
	parse_cfg("inside 192.168.1.0/24\nexternal 203.0.113.10\n"
		  "forward tcp 8080 192.168.1.10:80\ndmz 192.168.1.50\n");
	add_forward(&st, NAPT_FWD_UDP, 8080, 8080, "192.168.1.20", 53);
	st.dmz_mode = RUNTIME_DMZ_CLEARED;
	ck_assert_msg(runtime_state_apply(&st, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.n_forwards, 2);
	ck_assert_uint_eq(cfg.forwards[1].protos, NAPT_FWD_UDP);
	ck_assert(!cfg.has_dmz);
	st.dmz_mode = RUNTIME_DMZ_SET;
	st.dmz = ip("192.168.1.60");
	st.n_forwards = 0;
	ck_assert_int_eq(runtime_state_apply(&st, &cfg, err, sizeof(err)), 0);
	ck_assert(cfg.has_dmz);
	ck_assert_uint_eq(cfg.dmz, ip("192.168.1.60"));
}
END_TEST

START_TEST(apply_refuses_overlap_with_config)
{
	parse_cfg("inside 192.168.1.0/24\nexternal 203.0.113.10\n"
		  "forward both 8000-8100 192.168.1.10:8000\n");
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.20", 80);
	ck_assert_int_eq(runtime_state_apply(&st, &cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "config file") != NULL, "got '%s'", err);
}
END_TEST

START_TEST(apply_refuses_dmz_outside)
{
	parse_cfg("inside 192.168.1.0/24\nexternal 203.0.113.10\n");
	st.dmz_mode = RUNTIME_DMZ_SET;
	st.dmz = ip("10.9.9.9");
	ck_assert_int_eq(runtime_state_apply(&st, &cfg, err, sizeof(err)), -1);
}
END_TEST

/* The config file the salvage checks entries against. */
static const struct napt_config *base_cfg(void)
{
	parse_cfg("inside 192.168.1.0/24\nexternal 203.0.113.10\n"
		  "forward tcp 9000 192.168.1.40:9000\n");
	return &cfg;
}

/* The directory's fsync fails after the rename: the new file is in place, so the save says
 * so (1), not "failed" (-1): a caller that undid its change would disagree with the file. */
START_TEST(dir_fsync_failure_after_rename_is_not_a_failure)
{
	add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
	fail_dir_fsync = true;
	ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 1);
	fail_dir_fsync = false;
	ck_assert_msg(strstr(err, "fsync of its directory") != NULL, "got '%s'", err);
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	assert_same_forwards(&st, &back);
}
END_TEST

static char told[4][300];
static unsigned n_told;

static void note_reject(const char *why, const char *kept_in)
{
	snprintf(told[n_told++ % 4], sizeof(told[0]), "%s -> %s", why, kept_in ? kept_in : "-");
}

/* The state file from format (two %lld: both `later`), salvaged against base_cfg(). */
static int salvage_file(const char *format, long long later)
{
	char text[512];
	snprintf(text, sizeof(text), format, later, later);
	write_file(path, text);
	n_told = 0;
	return runtime_state_salvage(path, &back, base_cfg(), note_reject, err, sizeof(err));
}

/* Lines that cannot be loaded do not stop the start (issue 11 item 3): they go to
 * STATE.rejected with path:line and why, the rest loads, the file is written again without
 * them. A forward to port 0 is one (an older naptd saved such NAT-PMP leases). */
START_TEST(salvage_sets_bad_lines_aside)
{
	char text[512], rejected[200], want[300];
	long long later = (long long)time(NULL) + 600;
	ck_assert_int_eq(salvage_file("forward tcp 8080 192.168.1.10:80\n"
				      "forward tcp 50000 192.168.1.10:0 expires %lld\n"
				      "bogus 1\n"
				      "forward udp 50001 192.168.1.11:53 expires %lld\n"
				      "dmz 1.2.3\n",
				      later),
			 3);
	ck_assert_uint_eq(n_told, 3);
	snprintf(rejected, sizeof(rejected), "%s.rejected", path);
	snprintf(want, sizeof(want), "%s:2: ", path);
	ck_assert_msg(strncmp(told[0], want, strlen(want)) == 0, "got '%s'", told[0]);
	ck_assert_msg(strstr(told[0], rejected) != NULL, "got '%s'", told[0]);
	ck_assert_uint_eq(back.n_forwards, 1);
	ck_assert_uint_eq(back.n_leases, 1);
	ck_assert_uint_eq(back.leases[0].fwd.ext_lo, 50001);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_FROM_CONFIG);
	/* Kept aside whole, each after the reason. */
	snprintf(text, sizeof(text), "# %s:3: unknown keyword 'bogus'", path);
	const char *aside = read_file(rejected);
	ck_assert_msg(strstr(aside, text) != NULL, "%s", aside);
	snprintf(text, sizeof(text), "\nforward tcp 50000 192.168.1.10:0 expires %lld\n", later);
	ck_assert_msg(strstr(aside, text) != NULL, "%s", aside);
	ck_assert_msg(strstr(aside, "\nbogus 1\n") != NULL, "%s", aside);
	ck_assert_msg(strstr(aside, "\ndmz 1.2.3\n") != NULL, "%s", aside);
	/* The state file loads whole now. */
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_leases, 1);
}
END_TEST

/* break12c: leases outside port-range (e9eac90) saved, then the config makes their ports the
 * router's (Easy IP's local-ports 32768-49151, the DHCP client's UDP 68, a local-service):
 * the start sets those aside with the reason and keeps the rest (a lease on TCP 68 or below
 * local-ports). */
START_TEST(salvage_sets_aside_leases_on_router_ports)
{
	char text[600];
	long long later = (long long)time(NULL) + 600;

	parse_cfg("inside 192.168.1.0/24\nexternal interface wan0\nexternal 203.0.113.10\n"
		  "local-service tcp 8443\n");
	snprintf(text, sizeof(text),
		 "forward udp 40000 192.168.1.10:5000 expires %lld\n"
		 "forward udp 68 192.168.1.10:68 expires %lld\n"
		 "forward tcp 68 192.168.1.10:68 expires %lld\n"
		 "forward tcp 8443 192.168.1.10:443 expires %lld\n"
		 "forward udp 5000 192.168.1.10:5000 expires %lld\n",
		 later, later, later, later, later);
	write_file(path, text);
	n_told = 0;
	ck_assert_int_eq(runtime_state_salvage(path, &back, &cfg, note_reject, err, sizeof(err)),
			 3);
	ck_assert_uint_eq(n_told, 3);
	ck_assert_msg(strstr(told[0], "local-ports") != NULL, "got '%s'", told[0]);
	ck_assert_msg(strstr(told[1], "DHCP") != NULL, "got '%s'", told[1]);
	ck_assert_uint_eq(back.n_leases, 2);
	ck_assert_uint_eq(back.leases[0].fwd.ext_lo, 68);
	ck_assert_uint_eq(back.leases[0].fwd.protos, NAPT_FWD_TCP);
	ck_assert_uint_eq(back.leases[1].fwd.ext_lo, 5000);
}
END_TEST

/* A line of 100 000 bytes without a newline before the good lines after it (a damaged or
 * sparse file): the strict load refuses it naming the line, the start sets aside its first
 * 1022 bytes and loads the lines after it. getline() took the line whole: memory without
 * bound for a file with no newline at all. */
/* Many bad lines (a state file filled by a hostile or broken writer): every one is set aside
 * whole, in order, and the file loads clean next time. STATE.rejected is opened once for all
 * of them, not once a line. */
START_TEST(salvage_sets_aside_many_lines)
{
	enum { BAD = 5000 };
	static char text[BAD * 16 + 64];
	char rejected[200], want[64];
	size_t len = 0;
	const char *aside, *p;

	for (unsigned i = 0; i < BAD; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "bogus %u\n", i);
	snprintf(text + len, sizeof(text) - len, "forward tcp 8080 192.168.1.10:80\n");
	write_file(path, text);
	n_told = 0;
	ck_assert_int_eq(runtime_state_salvage(path, &back, base_cfg(), NULL, err, sizeof(err)),
			 BAD);
	ck_assert_uint_eq(back.n_forwards, 1);
	snprintf(rejected, sizeof(rejected), "%s.rejected", path);
	aside = read_file(rejected);
	p = aside;
	for (unsigned i = 0; i < BAD; i++) {
		snprintf(want, sizeof(want), "\nbogus %u\n", i);
		p = strstr(p, want);
		ck_assert_msg(p != NULL, "line %u not set aside in order", i);
	}
	ck_assert_int_eq(runtime_state_salvage(path, &back, base_cfg(), NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_forwards, 1);
}
END_TEST

START_TEST(long_line_set_aside_and_skipped)
{
	size_t n = 100000;
	char *text = malloc(n + 100), want[300];

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', n);
	snprintf(text + n, 100, "\nforward tcp 8080 192.168.1.10:80\ndmz 192.168.1.50\n");
	write_file(path, text);
	free(text);
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: line longer than 1022 bytes", path);
	ck_assert_str_eq(err, want);
	n_told = 0;
	ck_assert_int_eq(
	    runtime_state_salvage(path, &back, base_cfg(), note_reject, err, sizeof(err)), 1);
	ck_assert_msg(strncmp(told[0], want, strlen(want)) == 0, "got '%s'", told[0]);
	ck_assert_uint_eq(back.n_forwards, 1);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_SET);
}
END_TEST

/* A FIFO in the state file's place (nobody writes to it): the load and the start's salvage
 * return at once, the file unreadable; fopen() waited for a writer for ever. */
START_TEST(fifo_is_unreadable_not_a_wait)
{
	char want[200];

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(runtime_state_load(path, &back, err, sizeof(err)),
			 RUNTIME_STATE_UNREADABLE);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_lt(
	    runtime_state_salvage(path, &back, base_cfg(), note_reject, err, sizeof(err)), 0);
	ck_assert_str_eq(err, want);
}
END_TEST

/* Lines that load but that the config file refuses (it changed since they were saved) are
 * set aside too, in the file's order, and what is left starts. */
START_TEST(salvage_sets_aside_what_the_config_refuses)
{
	char rejected[200];
	long long later = (long long)time(NULL) + 600;
	ck_assert_int_eq(salvage_file("forward tcp 9000 192.168.1.20:22\n"
				      "forward udp 9000 192.168.1.20:53\n"
				      "forward tcp 50000 10.0.0.5:80 expires %lld\n"
				      "forward tcp 50001 192.168.1.21:80 expires %lld\n"
				      "dmz 10.9.9.9\n",
				      later),
			 3);
	ck_assert_msg(strstr(told[0], "overlaps") != NULL, "got '%s'", told[0]);
	ck_assert_uint_eq(back.n_forwards, 1);
	ck_assert_uint_eq(back.forwards[0].protos, NAPT_FWD_UDP);
	ck_assert_uint_eq(back.n_leases, 1);
	ck_assert_uint_eq(back.leases[0].fwd.ext_lo, 50001);
	ck_assert_int_eq(back.dmz_mode, RUNTIME_DMZ_FROM_CONFIG);
	ck_assert_msg(runtime_state_apply(&back, &cfg, err, sizeof(err)) == 0, "%s", err);
	snprintf(rejected, sizeof(rejected), "%s.rejected", path);
	const char *aside = read_file(rejected);
	ck_assert_msg(strstr(aside, "\nforward tcp 9000 192.168.1.20:22\n") != NULL, "%s", aside);
	ck_assert_msg(strstr(aside, "\ndmz 10.9.9.9\n") != NULL, "%s", aside);
}
END_TEST

/* When the rejected file cannot be written, the bad line stays in the state file: never
 * lost, only skipped. */
START_TEST(salvage_keeps_what_it_cannot_set_aside)
{
	char rejected[200];
	snprintf(rejected, sizeof(rejected), "%s.rejected", path);
	ck_assert_int_eq(mkdir(rejected, 0700), 0);
	write_file(path, "forward tcp 8080 192.168.1.10:80\nbogus 1\n");
	n_told = 0;
	ck_assert_int_eq(
	    runtime_state_salvage(path, &back, base_cfg(), note_reject, err, sizeof(err)), 1);
	ck_assert_msg(strstr(told[0], "-> -") != NULL, "got '%s'", told[0]);
	ck_assert_uint_eq(back.n_forwards, 1);
	ck_assert_ptr_nonnull(strstr(read_file(path), "bogus 1"));
}
END_TEST

START_TEST(salvage_of_a_whole_file_writes_nothing)
{
	write_file(path, "forward tcp 8080 192.168.1.10:80\n");
	ck_assert_int_eq(
	    runtime_state_salvage(path, &back, base_cfg(), note_reject, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_forwards, 1);
	ck_assert_str_eq(read_file(path), "forward tcp 8080 192.168.1.10:80\n");
	snprintf(err, sizeof(err), "%s.rejected", path);
	ck_assert_int_eq(access(err, F_OK), -1);
}
END_TEST

/* The lease writer: what was submitted is on disk once it stops. */
START_TEST(writer_writes_pending_text_on_stop)
{
	uint64_t writes;
	struct runtime_state_writer *w = runtime_state_writer_start(path, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	add_lease(&st, NAPT_FWD_TCP, 50000, "192.168.1.10", 80, (int64_t)time(NULL) + 600);
	ck_assert_int_eq(runtime_state_writer_submit(w, &st), 0);
	add_lease(&st, NAPT_FWD_UDP, 50001, "192.168.1.11", 53, (int64_t)time(NULL) + 600);
	ck_assert_int_eq(runtime_state_writer_submit(w, &st), 0);
	ck_assert_int_eq(runtime_state_writer_stop(w, err, sizeof(err)), 0);
	ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_leases, 2);
	w = runtime_state_writer_start(path, err, sizeof(err));
	ck_assert_int_eq(runtime_state_writer_status(w, &writes, err, sizeof(err)), 0);
	ck_assert_uint_eq(writes, 0);
	ck_assert_int_eq(runtime_state_writer_stop(w, err, sizeof(err)), 0);
}
END_TEST

/* A naptctl change saved at once is never overwritten by leases submitted before it, however
 * the writer thread and the save interleave. */
START_TEST(writer_never_writes_over_a_newer_save)
{
	for (int round = 0; round < 50; round++) {
		struct runtime_state_writer *w = runtime_state_writer_start(path, err, sizeof(err));
		ck_assert_msg(w != NULL, "%s", err);
		memset(&st, 0, sizeof(st));
		add_lease(&st, NAPT_FWD_TCP, 50000, "192.168.1.10", 80, (int64_t)time(NULL) + 600);
		ck_assert_int_eq(runtime_state_writer_submit(w, &st), 0);
		add_forward(&st, NAPT_FWD_TCP, 8080, 8080, "192.168.1.10", 80);
		ck_assert_int_eq(runtime_state_save(path, &st, err, sizeof(err)), 0);
		ck_assert_int_eq(runtime_state_writer_stop(w, err, sizeof(err)), 0);
		ck_assert_msg(runtime_state_load(path, &back, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(back.n_forwards, 1);
	}
}
END_TEST

/* A write that fails is told, once. */
START_TEST(writer_tells_a_failed_write)
{
	uint64_t writes;
	ck_assert_int_eq(mkdir(tmp_path, 0700), 0);
	struct runtime_state_writer *w = runtime_state_writer_start(path, err, sizeof(err));
	ck_assert_int_eq(runtime_state_writer_submit(w, &st), 0);
	ck_assert_int_eq(runtime_state_writer_stop(w, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, tmp_path) != NULL, "got '%s'", err);
	w = runtime_state_writer_start(path, err, sizeof(err));
	ck_assert_int_eq(runtime_state_writer_submit(w, &st), 0);
	for (int i = 0; i < 1000; i++) {
		int rc = runtime_state_writer_status(w, &writes, err, sizeof(err));
		if (rc == -1)
			break;
		ck_assert_int_eq(rc, 0);
		usleep(1000);
	}
	ck_assert_int_eq(runtime_state_writer_status(w, &writes, err, sizeof(err)), 0);
	ck_assert_int_eq(runtime_state_writer_stop(w, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runtime_state");
	TCase *tc = tcase_create("state file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_file_is_empty);
	tcase_add_test(tc, round_trip_forwards_and_dmz);
	tcase_add_test(tc, round_trip_dmz_cleared_and_untouched);
	tcase_add_test(tc, save_leaves_no_temporary);
	tcase_add_test(tc, crash_before_rename_keeps_old_file);
	tcase_add_test(tc, failed_write_keeps_old_file);
	tcase_add_test(tc, failed_rename_removes_temporary);
	tcase_add_test(tc, bad_lines_named_path_line);
	tcase_add_test(tc, round_trip_leases);
	tcase_add_test(tc, expired_lease_dropped_at_load);
	tcase_add_test(tc, bad_lease_lines);
	tcase_add_test(tc, round_trip_lease_filters);
	tcase_add_test(tc, bad_lease_filters);
	tcase_add_test(tc, lease_descriptions);
	tcase_add_test(tc, comments_and_blank_lines);
	tcase_add_test(tc, apply_merges_over_config);
	tcase_add_test(tc, apply_refuses_overlap_with_config);
	tcase_add_test(tc, apply_refuses_dmz_outside);
	tcase_add_test(tc, dir_fsync_failure_after_rename_is_not_a_failure);
	tcase_add_test(tc, salvage_sets_bad_lines_aside);
	tcase_add_test(tc, salvage_sets_aside_leases_on_router_ports);
	tcase_add_test(tc, salvage_sets_aside_many_lines);
	tcase_add_test(tc, salvage_keeps_what_it_cannot_set_aside);
	tcase_add_test(tc, salvage_sets_aside_what_the_config_refuses);
	tcase_add_test(tc, long_line_set_aside_and_skipped);
	tcase_add_test(tc, fifo_is_unreadable_not_a_wait);
	tcase_add_test(tc, salvage_of_a_whole_file_writes_nothing);
	tcase_add_test(tc, writer_writes_pending_text_on_stop);
	tcase_add_test(tc, writer_never_writes_over_a_newer_save);
	tcase_add_test(tc, writer_tells_a_failed_write);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
