/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_sessions - libFuzzer target: the sessions file a start reads (session_file.c) and
 * the engine's restore of each record (session_save.c), without files.
 *
 * The input is a control byte, then the file's bytes. Control bit 0 reseals the file: the
 * record count is made to match the length and every check is made right, so the fuzzer
 * reaches the engine's checks instead of stopping at the checksums; bit 1 picks the config
 * (endpoint-independent mapping with two external addresses, a forward and a DMZ; or
 * address-and-port-dependent mapping with port blocks, ports-per-host and a deterministic
 * prefix).
 *
 * Oracle, beyond "no crash, no sanitizer report":
 *  - a refused file restores nothing; otherwise every record has exactly one fate, and the
 *    new instance holds exactly the sessions counted as restored;
 *  - what was restored, saved again in the file's layout and read into a third instance
 *    with the same config, is restored whole: a restore never leaves a table that cannot
 *    be saved and restored again (the next restart's);
 *  - no two mappings share an external endpoint, and no host holds more port blocks than
 *    ports-per-host allows (the second config: 256 / 64).
 */
#include "../../src/naptd/session_file.c"
#include "fuzz_tmpdir.h"
#include "napt_instance.h"

#define NOW_MS  10000000u
#define WALL_MS 1800000000000ull

static const char *const configs[2] = {
    "inside 192.168.1.0/24\nexternal 203.0.113.10\nexternal 203.0.113.11\n"
    "forward tcp 8080 192.168.1.10:80\ndmz 192.168.1.50\nmax-sessions 64\n",
    "inside 192.168.1.0/24\nexternal 203.0.113.10\nexternal 203.0.113.16\n"
    "mapping address-and-port-dependent\nport-block-size 64\nports-per-host 256\n"
    "deterministic 192.168.1.0/28 203.0.113.16/32\nmax-sessions 64\n",
};
static struct napt_config cfg[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	(void)argc;
	(void)argv;
	for (int i = 0; i < 2; i++)
		if (napt_config_parse_text(&cfg[i], configs[i], "fuzz.conf", err, sizeof(err)) < 0)
			fuzz_die("config", err);
	return 0;
}

static struct napt *instance(int which)
{
	char err[512];
	struct napt *n = napt_create(&cfg[which], 42, err, sizeof(err));

	if (!n)
		fuzz_die("napt_create", err);
	return n;
}

/* Count and checks made to match: the records the length holds, each sealed. */
static size_t reseal(uint8_t *f, size_t len)
{
	size_t records;

	if (len < SESSION_FILE_HEADER)
		return len;
	records = (len - SESSION_FILE_HEADER) / SESSION_FILE_RECORD;
	if (records > 64)
		records = 64;
	len = SESSION_FILE_HEADER + records * SESSION_FILE_RECORD;
	put32(f + 12, (uint32_t)records);
	put32(f + 24, fnv1a(f, 24));
	put32(f + 28, 0);
	for (uint8_t *r = f + SESSION_FILE_HEADER; r < f + len; r += SESSION_FILE_RECORD)
		put32(r + RECORD_DATA, fnv1a(r, RECORD_DATA));
	return len;
}

static void check_counts(const struct napt *n, const struct session_restore *r, size_t len)
{
	uint64_t sum = 0;

	for (int i = 0; i < NAPT_RESTORE_RESULTS; i++)
		sum += r->result[i];
	if (r->file_rejected ? sum != 0 : sum != (len - SESSION_FILE_HEADER) / SESSION_FILE_RECORD)
		fuzz_die("counts", "records and fates do not add up");
	if (napt_get_counters(n)->sessions_current != r->result[NAPT_RESTORED])
		fuzz_die("counts", "sessions in the table differ from those restored");
}

struct seen_mappings {
	const struct napt *n;
	unsigned count;
	struct napt_mapping_info m[64];
};

static int check_mapping(const struct napt_mapping_info *m, void *ctx)
{
	struct seen_mappings *seen = ctx;

	for (unsigned i = 0; i < seen->count; i++)
		if (seen->m[i].proto == m->proto && seen->m[i].ext_addr == m->ext_addr &&
		    seen->m[i].ext_port == m->ext_port)
			fuzz_die("mappings", "two mappings on one external endpoint");
	if (seen->n->hosts && host_limits_get(seen->n->hosts, m->in_addr).blocks > 256 / 64)
		fuzz_die("blocks", "a host holds more blocks than ports-per-host allows");
	if (seen->count < 64)
		seen->m[seen->count++] = *m;
	return 0;
}

/* The restored table, through the file's layout into a new instance: restored whole. */
static void check_round_trip(const struct napt *n, int which)
{
	size_t cap = (size_t)napt_get_counters(n)->sessions_current;
	size_t len = SESSION_FILE_HEADER + cap * SESSION_FILE_RECORD;
	uint8_t *buf = malloc(len);
	struct save_buffer b;
	struct session_restore again;
	struct napt *m = instance(which);

	if (!buf)
		fuzz_die("malloc", "out of memory");
	b = (struct save_buffer){buf + SESSION_FILE_HEADER, buf + len, 0};
	napt_save_sessions(n, NOW_MS, put_record, &b);
	put_header(buf, b.count, WALL_MS);
	session_file_restore(m, buf, (size_t)(b.at - buf), WALL_MS, NOW_MS, &again);
	if ((size_t)b.count != cap || again.result[NAPT_RESTORED] != cap)
		fuzz_die("round trip", "a restored table did not save and restore whole");
	napt_destroy(m);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_restore r;
	uint8_t *file;
	size_t len;
	int which;
	struct napt *n;

	if (size < 1)
		return 0;
	which = data[0] >> 1 & 1;
	len = size - 1;
	file = malloc(len ? len : 1);
	if (!file)
		fuzz_die("malloc", "out of memory");
	memcpy(file, data + 1, len);
	if (data[0] & 1)
		len = reseal(file, len);
	n = instance(which);
	session_file_restore(n, file, len, WALL_MS, NOW_MS, &r);
	check_counts(n, &r, len);
	napt_foreach_mapping(n, check_mapping, &(struct seen_mappings){.n = n});
	check_round_trip(n, which);
	napt_destroy(n);
	free(file);
	return 0;
}
