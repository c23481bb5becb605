// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Replays a fuzz target's corpus without libFuzzer, for make check: each
 * file (or every file of each directory) goes through LLVMFuzzerTestOneInput
 * in a child process of its own, so one crash names its input and the rest
 * still run. Prints "ok - TARGET: FILE" or "not ok - ..." per input and
 * exits non-zero when any failed.
 *
 * replay TARGET PATH...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int passed, failed;

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, len = 0, n;
	uint8_t *buf = malloc(cap);

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	*data = buf;
	*size = len;
	return 0;
}

static void replay_one(const char *target, const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint8_t *data;
		size_t size;

		if (read_file(path, &data, &size))
			_exit(2);
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		exit(0); /* exit, not _exit: LeakSanitizer runs at exit */
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("not ok - %s: %s (%s %d)\n", target, name,
		       pid > 0 && WIFSIGNALED(status) ? "signal" : "exit",
		       pid > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		failed++;
		return;
	}
	printf("ok - %s: %s\n", target, name);
	passed++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s TARGET PATH...\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int n;

		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			replay_one(argv[1], argv[i]);
			continue;
		}
		n = scandir(argv[i], &names, NULL, by_name);
		for (int j = 0; j < n; j++) {
			char path[4096];

			if (names[j]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
				replay_one(argv[1], path);
			}
			free(names[j]);
		}
		if (n >= 0)
			free(names);
	}
	printf("%s: %u passed, %u failed\n", argv[1], passed, failed);
	return failed ? 1 : 0;
}
