/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_state - libFuzzer target: the state file loader (runtime_state.c).
 *
 * The input is a state file. Oracle, beyond "no crash, no sanitizer report":
 *  - the start's loader (runtime_state_salvage) never fails on a readable file, and sets
 *    aside no more lines than the file has; what it keeps starts on top of the config file
 *    (runtime_state_apply); on a file the strict loader takes whole and that starts, it sets
 *    nothing aside and loads the same state;
 *  - after it, the file (written again without the lines set aside) loads whole and gives
 *    the state the salvage gave: a bad line never stops the next start either;
 *  - that state survives a round trip through runtime_state_save and runtime_state_load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmpdir.h"
#include "runtime_state.h"

static char path[128], rejected[160];
static struct runtime_state strict, salvaged, back;
static struct napt_config cfg, run;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_make_dir("fuzz_state", path, sizeof(path), "state");
	snprintf(rejected, sizeof(rejected), "%s.rejected", path);
	char err[512];
	if (napt_config_parse_text(&cfg,
				   "inside 192.168.1.0/24\n"
				   "external 203.0.113.10\n"
				   "forward tcp 9000 192.168.1.40:9000\n",
				   "fuzz.conf", err, sizeof(err)) < 0)
		fuzz_die("config", err);
	return 0;
}

/* Field by field: the structs have padding. */
static bool same_filters(const struct napt_forward *a, const struct napt_forward *b)
{
	if (a->n_filters != b->n_filters)
		return false;
	for (unsigned i = 0; i < a->n_filters; i++)
		if (a->filters[i].addr != b->filters[i].addr ||
		    a->filters[i].port != b->filters[i].port ||
		    a->filters[i].len != b->filters[i].len)
			return false;
	return true;
}

static bool same_forward(const struct napt_forward *a, const struct napt_forward *b)
{
	return a->protos == b->protos && a->ext_lo == b->ext_lo && a->ext_hi == b->ext_hi &&
	       a->in_addr == b->in_addr && a->in_lo == b->in_lo && same_filters(a, b);
}

static bool same_state(const struct runtime_state *a, const struct runtime_state *b)
{
	if (a->n_forwards != b->n_forwards || a->n_leases != b->n_leases ||
	    a->dmz_mode != b->dmz_mode || a->dmz != b->dmz || a->epoch_start != b->epoch_start)
		return false;
	for (unsigned i = 0; i < a->n_forwards; i++)
		if (!same_forward(&a->forwards[i], &b->forwards[i]))
			return false;
	for (unsigned i = 0; i < a->n_leases; i++)
		if (!same_forward(&a->leases[i].fwd, &b->leases[i].fwd) ||
		    a->leases[i].expires != b->leases[i].expires ||
		    memcmp(a->leases[i].nonce, b->leases[i].nonce, RUNTIME_NONCE_LEN) != 0 ||
		    strcmp(a->leases[i].desc, b->leases[i].desc) != 0)
			return false;
	return true;
}

static void write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		fuzz_die("write", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	unlink(rejected);
	write_input(data, size);
	int whole = runtime_state_load(path, &strict, err, sizeof(err));
	if (whole == 0) {
		run = cfg;
		whole = runtime_state_apply(&strict, &run, err, sizeof(err));
	}
	int aside = runtime_state_salvage(path, &salvaged, &cfg, NULL, err, sizeof(err));
	if (aside < 0)
		fuzz_die("salvage failed on a readable file", err);
	if ((size_t)aside > lines)
		fuzz_die("salvage", "more lines set aside than the file has");
	run = cfg;
	if (runtime_state_apply(&salvaged, &run, err, sizeof(err)) != 0)
		fuzz_die("what the salvage kept would not start", err);
	if (whole == 0 && (aside != 0 || !same_state(&strict, &salvaged)))
		fuzz_die("salvage", "a whole file was not loaded as the strict loader loads it");
	if (runtime_state_load(path, &back, err, sizeof(err)) != 0)
		fuzz_die("the file written again does not load whole", err);
	if (aside && !same_state(&back, &salvaged))
		fuzz_die("salvage", "the file written again holds another state");
	if (runtime_state_save(path, &salvaged, err, sizeof(err)) != 0 ||
	    runtime_state_load(path, &back, err, sizeof(err)) != 0)
		fuzz_die("round trip", err);
	if (!same_state(&back, &salvaged))
		fuzz_die("round trip", "the state changed");
	return 0;
}
