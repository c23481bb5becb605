// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rtpgen: RTP traffic for N streams, generated in the kernel and counted in
 * the kernel (bpf/traffic.bpf.c), for throughput and capacity benchmarks.
 *
 *   rtpgen --gen NS:DEV --dst-mac MAC --src IP --dst IP --dst-port P
 *          --sink NS:DEV [--streams N] [--rate PPS] [--seconds S]
 *          [--port-step S] [--ports-per-addr K] [--smooth] [--forward NS:IN:OUT]
 *
 * Frames are sent out of DEV in namespace NS by BPF_PROG_TEST_RUN in
 * live-frames mode; stream i goes to address dst + i / K, port
 * dst-port + S * (i % K) (S 2: RTP ports, the default; K: every stream on one
 * address by default). The sink program on the receiving device counts and
 * drops them, telling streams apart by their SSRC. --rate paces every stream
 * (packets/s, 50 for G.711 20 ms); without it the generator runs flat out.
 * --smooth: a paced stream that fell behind catches up at most 8 packets in a
 * burst and skips the rest (for receivers with small queues; it then sends
 * under its rate: what counts is what was sent and received).
 * --forward attaches the bare redirect forwarder (the baseline relay) from IN
 * to OUT in namespace NS.
 *
 * Prints one line: sent, received, loss and packets/s received.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xtrunk_abi.h"
#include "traffic.skel.h"

#define FRAME_LEN 214		/* Ethernet + IPv4 + UDP + 172 bytes of RTP: G.711 20 ms */
#define FRAMES_PER_CALL 4000000 /* each call costs ~25 ms of set-up: make it count */
#define LIVE_BATCH 256
#define MAX_STREAMS 1048576 /* the maps' size in bpf/traffic.bpf.c */

struct place {
	char ns[64];
	char dev[IF_NAMESIZE];
	char dev2[IF_NAMESIZE];
	int ns_fd;
	int ifindex, ifindex2;
};

struct options {
	struct place gen, sink, forward;
	bool forwarding, smooth;
	unsigned char dst_mac[ETH_ALEN];
	struct in_addr src, dst;
	unsigned int dst_port, streams, port_step, ports_per_addr;
	double rate, seconds;
};

static int die(const char *what, int err)
{
	fprintf(stderr, "rtpgen: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* NS:DEV or NS:IN:OUT */
static int parse_place(const char *text, struct place *place, bool two_devs)
{
	char buf[64], *dev, *dev2 = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	dev = strchr(buf, ':');
	if (!dev)
		return -EINVAL;
	*dev++ = '\0';
	if (two_devs) {
		dev2 = strchr(dev, ':');
		if (!dev2)
			return -EINVAL;
		*dev2++ = '\0';
	}
	snprintf(place->ns, sizeof(place->ns), "%s", buf);
	snprintf(place->dev, sizeof(place->dev), "%s", dev);
	if (dev2)
		snprintf(place->dev2, sizeof(place->dev2), "%s", dev2);
	return 0;
}

/* Enter the place's network namespace and find its devices there. */
static int enter(struct place *place)
{
	char path[128];

	if (place->ns_fd <= 0) {
		snprintf(path, sizeof(path), "/run/netns/%s", place->ns);
		place->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (place->ns_fd < 0)
			return -errno;
	}
	if (setns(place->ns_fd, CLONE_NEWNET))
		return -errno;
	place->ifindex = (int)if_nametoindex(place->dev);
	if (!place->ifindex)
		return -ENODEV;
	if (place->dev2[0]) {
		place->ifindex2 = (int)if_nametoindex(place->dev2);
		if (!place->ifindex2)
			return -ENODEV;
	}
	return 0;
}

static int attach(struct place *place, int prog_fd)
{
	int err = enter(place);

	if (err)
		return err;
	return bpf_xdp_attach(place->ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
}

static void detach(struct place *place)
{
	if (!enter(place))
		bpf_xdp_detach(place->ifindex, XDP_FLAGS_DRV_MODE, NULL);
}

static void build_frame(const struct options *o, unsigned char *frame)
{
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	unsigned char *rtp = (void *)(udp + 1);

	memset(frame, 0, FRAME_LEN);
	memcpy(eth->h_dest, o->dst_mac, ETH_ALEN);
	memset(eth->h_source, 0x02, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	udp->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));
	rtp[0] = 0x80;						/* RTP version 2 */
	rtp[1] = 0;						/* PCMU */
	memset(rtp + 12, 0xff, FRAME_LEN - (rtp + 12 - frame)); /* G.711 silence */
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = { { "gen", required_argument, NULL, 'g' },
					      { "sink", required_argument, NULL, 'k' },
					      { "forward", required_argument, NULL, 'f' },
					      { "dst-mac", required_argument, NULL, 'm' },
					      { "src", required_argument, NULL, 's' },
					      { "dst", required_argument, NULL, 'd' },
					      { "dst-port", required_argument, NULL, 'p' },
					      { "port-step", required_argument, NULL, 'S' },
					      { "ports-per-addr", required_argument, NULL, 'K' },
					      { "smooth", no_argument, NULL, 'Z' },
					      { "streams", required_argument, NULL, 'n' },
					      { "rate", required_argument, NULL, 'r' },
					      { "seconds", required_argument, NULL, 't' },
					      { 0 } };
	unsigned int mac[ETH_ALEN];
	int opt;

	memset(o, 0, sizeof(*o));
	o->streams = 1;
	o->seconds = 2;
	o->port_step = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (opt) {
		case 'g':
			if (parse_place(optarg, &o->gen, false))
				return -EINVAL;
			break;
		case 'k':
			if (parse_place(optarg, &o->sink, false))
				return -EINVAL;
			break;
		case 'f':
			if (parse_place(optarg, &o->forward, true))
				return -EINVAL;
			o->forwarding = true;
			break;
		case 'm':
			if (sscanf(optarg, "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3],
				   &mac[4], &mac[5]) != 6)
				return -EINVAL;
			for (int i = 0; i < ETH_ALEN; i++)
				o->dst_mac[i] = (unsigned char)mac[i];
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &o->src) != 1)
				return -EINVAL;
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &o->dst) != 1)
				return -EINVAL;
			break;
		case 'p':
			o->dst_port = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			o->port_step = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'Z':
			o->smooth = true;
			break;
		case 'K':
			o->ports_per_addr = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o->streams = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->rate = strtod(optarg, NULL);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		default:
			return -EINVAL;
		}
	}
	if (!o->ports_per_addr || o->ports_per_addr > o->streams)
		o->ports_per_addr = o->streams;
	if (!o->gen.ns[0] || !o->sink.ns[0] || !o->dst_port || !o->streams ||
	    o->streams > MAX_STREAMS || !o->port_step ||
	    o->dst_port + (unsigned long)o->port_step * (o->ports_per_addr - 1) > 65535 ||
	    o->seconds <= 0)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char frame[FRAME_LEN];
	struct traffic_bpf *skel;
	struct options o;
	__u64 received = 0, streams_complete = 0;
	double start, elapsed;
	int err, rc = 1;

	if (parse_options(argc, argv, &o)) {
		fprintf(stderr,
			"usage: rtpgen --gen NS:DEV --dst-mac MAC --src IP --dst IP "
			"--dst-port P --sink NS:DEV [--streams N] [--rate PPS] [--seconds S] "
			"[--port-step S] [--ports-per-addr K] [--smooth] [--forward NS:IN:OUT]\n");
		return 2;
	}
	skel = traffic_bpf__open();
	if (!skel)
		return die("open", errno);
	skel->rodata->gen_streams = o.streams;
	skel->rodata->gen_interval_ns = o.rate > 0 ? (__u32)(1e9 / o.rate) : 0;
	skel->rodata->gen_src_addr = o.src.s_addr;
	skel->rodata->gen_dst_addr = o.dst.s_addr;
	skel->rodata->gen_src_port = 40000;
	skel->rodata->gen_dst_port_base = (__u16)o.dst_port;
	skel->rodata->gen_port_step = o.port_step;
	skel->rodata->gen_ports_per_addr = o.ports_per_addr;
	skel->rodata->gen_smooth = o.smooth;
	bpf_map__set_max_entries(skel->maps.gen_state, o.streams);
	bpf_map__set_max_entries(skel->maps.sink_counts, o.streams);
	err = traffic_bpf__load(skel);
	if (err) {
		rc = die("load", err);
		goto out;
	}

	err = attach(&o.sink, bpf_program__fd(skel->progs.rtpsink));
	if (err) {
		rc = die("attaching the sink", err);
		goto out;
	}
	if (o.forwarding) {
		__u32 key = 0;

		err = enter(&o.forward);
		if (!err) {
			__u32 out = (__u32)o.forward.ifindex2;

			err = bpf_map_update_elem(bpf_map__fd(skel->maps.fwd_port), &key, &out, 0);
		}
		if (!err)
			err = attach(&o.forward, bpf_program__fd(skel->progs.bare_fwd));
		if (err) {
			rc = die("attaching the forwarder", err);
			goto out_sink;
		}
	}

	err = enter(&o.gen);
	if (err) {
		rc = die("entering the generator's namespace", err);
		goto out_forward;
	}
	build_frame(&o, frame);
	start = now_s();
	do {
		struct xdp_md ctx = { .data_end = FRAME_LEN, .ingress_ifindex = o.gen.ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = FRAME_LEN,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = LIVE_BATCH);
		double left = o.seconds - (now_s() - start);

		/* flat out: a call's frames take ~0.5-1 s; paced: frames are turns */
		run.repeat = o.rate > 0 ? FRAMES_PER_CALL / 4 : FRAMES_PER_CALL;

		if (left < 0.5 && o.rate <= 0)
			run.repeat = (__u32)(FRAMES_PER_CALL * left * 2) + 1;
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.rtpgen_tx), &run);
		if (err) {
			rc = die("BPF_PROG_TEST_RUN live frames", err);
			goto out_forward;
		}
	} while (now_s() - start < o.seconds);
	elapsed = now_s() - start;
	usleep(200000); /* let the last frames arrive */

	if (o.rate > 0) {
		for (__u32 i = 0; i < o.streams; i++) {
			struct {
				__u64 packets;
				__u32 last_seq, pad;
			} count;

			if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sink_counts), &i, &count))
				continue;
			received += count.packets;
			streams_complete += count.packets > 0;
		}
	} else {
		/* flat out the sink keeps one total per CPU, not one per stream */
		int ncpus = libbpf_num_possible_cpus();
		__u64 *totals = calloc(ncpus > 0 ? ncpus : 1, sizeof(*totals));
		__u32 zero = 0;

		if (totals && ncpus > 0 &&
		    !bpf_map_lookup_elem(bpf_map__fd(skel->maps.sink_total), &zero, totals))
			for (int c = 0; c < ncpus; c++)
				received += totals[c];
		free(totals);
	}
	printf("rtpgen streams %u sent %llu received %llu loss %.3f%% received_pps %.0f "
	       "streams_heard %llu seconds %.2f other %llu\n",
	       o.streams, (unsigned long long)skel->bss->gen_sent, (unsigned long long)received,
	       skel->bss->gen_sent ? 100.0 * (double)(skel->bss->gen_sent - received) /
					     (double)skel->bss->gen_sent :
				     0.0,
	       received / elapsed, (unsigned long long)streams_complete, elapsed,
	       (unsigned long long)skel->bss->sink_other);
	rc = 0;
out_forward:
	if (o.forwarding)
		detach(&o.forward);
out_sink:
	detach(&o.sink);
out:
	traffic_bpf__destroy(skel);
	return rc;
}
