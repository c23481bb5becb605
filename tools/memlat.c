// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * memlat: what one cache miss costs on this machine, to read the flow-table
 * figures against. Chases pointers through a region of the given size, one
 * pointer per 64-byte line, the lines in one random cycle, so each load
 * depends on the one before and no prefetcher can guess the next: the time
 * per load is the latency of a line from wherever a region that large lives
 * (L2, L3, DRAM), TLB misses included. The region is mapped with 4 KiB pages,
 * as the kernel maps a BPF array map (vmalloc), and again with 2 MiB pages
 * when transparent huge pages can be had, to show what the TLB misses cost.
 *
 * Usage: memlat [-n LOADS] SIZE_MIB...
 * Prints per size and page size: "memlat SIZE MiB PAGES NS ns/load".
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LINE 64
#define HUGE_PAGE (2ul << 20)

struct line {
	struct line *next;
	char pad[LINE - sizeof(struct line *)];
};

/* xorshift64*: a fast, good-enough generator for a shuffle */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* Sattolo's shuffle: one cycle through every line. */
static void link_lines(struct line *lines, size_t n, size_t *order)
{
	size_t i;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		size_t j = rng() % i, t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		lines[order[i]].next = &lines[order[(i + 1) % n]];
}

/* kB of this process's anonymous memory on huge pages */
static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/*
 * ns per dependent load over size bytes, or a negative errno; *huge_share:
 * the share of the region that huge pages backed.
 */
static double chase(size_t size, int huge, long loads, double *huge_share)
{
	size_t n = size / LINE, *order;
	struct line *lines, *p;
	double start, ns;
	long i;
	void *map;

	/* aligned to a huge page, so that huge pages can back all of it */
	map = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		return -errno;
	lines = (struct line *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
	if (madvise(lines, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		ns = -errno;
		goto out;
	}
	order = malloc(n * sizeof(*order));
	if (!order) {
		ns = -ENOMEM;
		goto out;
	}
	link_lines(lines, n, order);
	free(order);

	p = &lines[0];
	for (i = 0; i < (long)n; i++) /* warm: every page mapped, the TLB and caches settled */
		p = p->next;
	*huge_share = (double)anon_huge_kb() * 1024 / size;
	start = now_ns();
	for (i = 0; i < loads; i++)
		p = p->next;
	ns = (now_ns() - start) / loads;
	if (!p) /* keeps the chase from being optimised away */
		ns = -EINVAL;
out:
	munmap(map, size + HUGE_PAGE);
	return ns;
}

int main(int argc, char **argv)
{
	long loads = 20000000;
	int opt, i;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n':
			loads = strtol(optarg, NULL, 10);
			if (loads <= 0) {
				fprintf(stderr, "memlat: -n wants a positive count\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "Usage: memlat [-n LOADS] SIZE_MIB...\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "Usage: memlat [-n LOADS] SIZE_MIB...\n");
		return 2;
	}
	for (i = optind; i < argc; i++) {
		long mib = strtol(argv[i], NULL, 10);
		int huge;

		if (mib <= 0 || mib > 65536) {
			fprintf(stderr, "memlat: bad size '%s' (MiB, 1-65536)\n", argv[i]);
			return 2;
		}
		for (huge = 0; huge <= 1; huge++) {
			double share = 0, ns = chase((size_t)mib << 20, huge, loads, &share);

			if (ns < 0) {
				fprintf(stderr, "memlat: %ld MiB on %s pages: %s\n", mib,
					huge ? "2 MiB" : "4 KiB", strerror((int)-ns));
				if (!huge)
					return 1;
				continue;
			}
			if (huge && share < 0.9) {
				printf("memlat %ld MiB 2M unavailable (%.0f%% on huge pages)\n",
				       mib, 100 * share);
				continue;
			}
			printf("memlat %ld MiB %s %.1f ns/load\n", mib, huge ? "2M" : "4K", ns);
			fflush(stdout);
		}
	}
	return 0;
}
