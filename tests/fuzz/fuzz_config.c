/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config - libFuzzer target: the config parser.
 *
 * Oracle, beyond "no crash": a config that parses has only valid forwards, and every
 * forward survives a round trip through napt_forward_format and napt_forward_parse (the
 * daemon writes its state file that way, so a forward that did not round-trip would be
 * lost on restart). A deterministic layout that validates maps its first, middle and last
 * inside address to a range that maps back to it from both ends (det_nat.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_nat.h"
#include "napt_config.h"

#include <arpa/inet.h>

static struct napt_config cfg;

static void check_det_position(const struct det_layout *d, uint64_t k)
{
	struct det_range r, lo, hi;

	if (!det_forward(d, htonl(d->in_base + (uint32_t)k), &r) ||
	    !det_reverse(d, r.ext_addr, r.lo, &lo) || !det_reverse(d, r.ext_addr, r.hi, &hi) ||
	    lo.in_addr != r.in_addr || hi.in_addr != r.in_addr || r.hi < r.lo ||
	    r.lo < cfg.port_lo || r.hi > cfg.port_hi)
		abort();
}

static void check_det(void)
{
	struct det_layout d;
	char err[256];

	if (!cfg.det.on)
		return;
	if (det_layout_make(&cfg, &d, err, sizeof(err)) < 0)
		abort(); /* validated, so it must make */
	check_det_position(&d, 0);
	check_det_position(&d, d.in_count / 2);
	check_det_position(&d, d.in_count - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[512];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (napt_config_parse_text(&cfg, text, "fuzz", err, sizeof(err)) == 0) {
		for (unsigned i = 0; i < cfg.n_forwards; i++) {
			struct napt_forward back;
			char line[128];

			if (napt_forward_format(&cfg.forwards[i], line, sizeof(line)) < 0 ||
			    napt_forward_parse(&back, line, err, sizeof(err)) < 0 ||
			    memcmp(&back, &cfg.forwards[i], sizeof(back)) != 0)
				abort();
		}
		check_det();
	}
	free(text);
	return 0;
}
