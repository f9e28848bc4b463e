/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_tmpdir.h - for the fuzz targets that write files: a directory on tmpfs (writes and
 * fsyncs cost nothing there, so the fuzzer keeps its pace), emptied and removed at exit, and
 * the abort of a failed oracle. Each target is one program: the functions are its own. */
#ifndef FUZZ_TMPDIR_H
#define FUZZ_TMPDIR_H

#include <dirent.h>
#include <errno.h> /* program_invocation_short_name (_GNU_SOURCE) */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[64];

static void fuzz_die(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, detail);
	abort();
}

static void fuzz_remove_dir(void)
{
	DIR *dir = opendir(fuzz_dir);
	struct dirent *e;
	char file[sizeof(fuzz_dir) + 256];

	while (dir && (e = readdir(dir)) != NULL) {
		snprintf(file, sizeof(file), "%s/%s", fuzz_dir, e->d_name);
		if (e->d_name[0] != '.')
			unlink(file);
	}
	if (dir)
		closedir(dir);
	rmdir(fuzz_dir);
}

/* /dev/shm/NAME.XXXXXX; in receives DIR/FILE for the target's state file. */
static void fuzz_make_dir(const char *name, char *in, size_t len, const char *file)
{
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/dev/shm/%s.XXXXXX", name);
	if (!mkdtemp(fuzz_dir))
		fuzz_die("mkdtemp", fuzz_dir);
	atexit(fuzz_remove_dir);
	snprintf(in, len, "%s/%s", fuzz_dir, file);
}

#endif
