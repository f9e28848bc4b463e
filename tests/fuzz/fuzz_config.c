/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config - libFuzzer target: the config parser.
 *
 * Oracle, beyond "no crash": a config that parses has only valid forwards, and every
 * forward survives a round trip through napt_forward_format and napt_forward_parse (the
 * daemon writes its state file that way, so a forward that did not round-trip would be
 * lost on restart).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "napt_config.h"

static struct napt_config cfg;

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
	}
	free(text);
	return 0;
}
