// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The configuration's key table: endpoints ([pbx NAME], [trunk NAME], the old
 * [side NAME]), errors as FILE:LINE: why, and etc/xtrunkd.conf being exactly
 * what the table writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

/* Load text as a file over the defaults; rc, and the error in err. */
static int load_text(const char *text, struct xt_config *config, char *err, size_t errlen)
{
	char path[] = "/tmp/xt-config-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	xt_config_defaults(config);
	err[0] = '\0';
	rc = xt_config_load(config, path, err, errlen);
	/* the message starts with the path: keep what follows it */
	if (!strncmp(err, path, strlen(path)))
		memmove(err, err + strlen(path), strlen(err + strlen(path)) + 1);
	unlink(path);
	return rc;
}

/* The file is refused with want after FILE. */
static void refused(const char *what, const char *text, const char *want)
{
	static struct xt_config config;
	char err[512];
	int rc = load_text(text, &config, err, sizeof(err));

	expect(rc != 0 && !strcmp(err, want), what, err);
}

static void defaults(void)
{
	static struct xt_config config;

	xt_config_defaults(&config);
	expect(config.endpoints == 2 && !strcmp(config.endpoint[0].name, "pbx") &&
		       config.endpoint[0].kind == XT_KIND_PBX &&
		       !strcmp(config.endpoint[1].name, "trunk") &&
		       config.endpoint[1].kind == XT_KIND_TRUNK,
	       "config: the built-in endpoints are pbx (a PBX) and trunk (a trunk)", NULL);
	expect(xt_config_route(&config, 0) == 1 && xt_config_route(&config, 1) == 0,
	       "config: the default route goes from the PBX to the trunk and back", NULL);
	expect(config.endpoint[0].latch == XT_LATCH_AUTO &&
		       config.endpoint[1].latch == XT_LATCH_OFF &&
		       config.endpoint[0].port_min == 20000 &&
		       config.endpoint[1].port_max == 39999 && config.dscp == 46 &&
		       config.media_timeout_s == 60 && config.slots == 8,
	       "config: built-in values are the demo lab's", NULL);
}

/* path holds what write writes; returns the written text (malloc'd) */
static char *generated_matches(void (*write)(FILE *), const char *path, const char *what)
{
	char *text = NULL, *file = NULL;
	size_t len = 0, flen = 0;
	FILE *out = open_memstream(&text, &len), *f = fopen(path, "r");

	write(out);
	fclose(out);
	if (f) {
		file = calloc(1, 65536);
		flen = fread(file, 1, 65535, f);
		fclose(f);
	}
	expect(file && flen == len && !memcmp(file, text, len), what,
	       file ? NULL : "cannot read it (run from the source tree)");
	free(file);
	return text;
}

/* etc/xtrunkd.conf and xtrunkd.conf(5) are the table's own output; the file reads back as the defaults. */
static void template(void)
{
	static struct xt_config a, b;
	char err[512], *text;

	free(generated_matches(xt_config_write_man, "doc/xtrunkd.conf.5",
			       "config: doc/xtrunkd.conf.5 is what xtrunkd --config-man writes "
			       "(regenerate it)"));
	text = generated_matches(
		xt_config_write_template, "etc/xtrunkd.conf",
		"config: etc/xtrunkd.conf is what xtrunkd --config-template writes "
		"(regenerate it)");
	xt_config_defaults(&a);
	expect(load_text(text, &b, err, sizeof(err)) == 0 && !memcmp(&a, &b, sizeof(a)),
	       "config: the template reads back as exactly the built-in configuration", err);
	free(text);
}

static void legacy_sides(void)
{
	static struct xt_config config;
	char err[512];
	int rc = load_text("[side pbx]\nchannels = 7\n[side trunk]\nports = 40000-40099\n", &config,
			   err, sizeof(err));

	expect(rc == 0 && config.endpoints == 2 && config.endpoint[0].channels == 7 &&
		       config.endpoint[1].port_min == 40000 &&
		       !strcmp(config.endpoint[0].interface, "left0"),
	       "config: [side pbx] and [side trunk] still read, over the built-in endpoints", err);
	refused("config: [side NAME] other than pbx or trunk says how to write it now",
		"[side carrier]\n",
		":1: unknown side 'carrier' ([side pbx] and [side trunk] still read; write "
		"[pbx NAME] or [trunk NAME] for any other)");
}

static const char four[] = "[pbx office-a]\ninterface = left0\naddress = 10.1.1.1\n"
			   "ports = 20000-20099\nsip = 10.1.1.1:5060\npeer = 10.1.1.2:5060\n"
			   "channels = 3\n"
			   "[pbx office-b]\ninterface = left0\naddress = 10.1.1.1\n"
			   "ports = 21000-21099\nsip = 10.1.1.1:5070\npeer = 10.1.1.3:5060\n"
			   "[trunk carrier-a]\ninterface = right0\naddress = 10.2.1.1\n"
			   "ports = 30000-30099\nsip = 10.2.1.1:5060\npeer = 10.2.1.2:5060\n"
			   "latch = off\nchannels = 10\n"
			   "[trunk carrier-b]\ninterface = right1\naddress = 10.3.1.1\n"
			   "ports = 30000-30099\nsip = 10.3.1.1:5060\npeer = 10.3.1.2:5060\n";

static void endpoints(void)
{
	static struct xt_config config;
	struct xt_endpoint local = { 0 };
	char err[512];
	int rc = load_text(four, &config, err, sizeof(err));

	expect(rc == 0 && config.endpoints == 4 && !strcmp(config.endpoint[0].name, "office-a") &&
		       !strcmp(config.endpoint[3].name, "carrier-b") &&
		       config.endpoint[1].kind == XT_KIND_PBX &&
		       config.endpoint[2].kind == XT_KIND_TRUNK,
	       "config: two [pbx NAME] and two [trunk NAME] replace the built-in endpoints", err);
	expect(config.endpoint[0].channels == 3 && config.endpoint[1].channels == 0 &&
		       config.endpoint[2].channels == 10 && config.endpoint[1].port_min == 21000 &&
		       config.endpoint[1].latch == XT_LATCH_AUTO &&
		       config.endpoint[2].latch == XT_LATCH_OFF &&
		       config.endpoint[3].sip_rate == XT_DEFAULT_SIP_RATE &&
		       config.endpoint[3].sip_rate_global == XT_DEFAULT_SIP_RATE_GLOBAL &&
		       config.endpoint[3].sip_rate_peer == XT_DEFAULT_SIP_RATE_PEER,
	       "config: each endpoint has its own ports and limits, the rest at the defaults",
	       NULL);
	expect(xt_config_route(&config, 0) == 2 && xt_config_route(&config, 1) == 2 &&
		       xt_config_route(&config, 3) == 0 && xt_config_route(&config, 2) == 0,
	       "config: PBXs' calls go to the first trunk, trunks' to the first PBX", NULL);
	expect(xt_config_endpoint_find(&config, "carrier-b") == 3 &&
		       xt_config_endpoint_find(&config, "pbx") == -1,
	       "config: endpoints are found by name", NULL);
	xt_endpoint_parse("10.1.1.1:21001", &local, err, sizeof(err));
	expect(xt_config_endpoint_of(&config, &local) == 1,
	       "config: a relay port (RTCP at the top of a range) belongs to its endpoint", NULL);
	local.port = 20500;
	expect(xt_config_endpoint_of(&config, &local) == -1,
	       "config: a port outside every range belongs to no endpoint", NULL);
	rc = load_text("[trunk carrier]\ninterface = right0\naddress = 10.2.1.1\n"
		       "ports = 40000-40099\nsip = 10.2.1.1:5080\npeer = 10.2.1.2:5060\n",
		       &config, err, sizeof(err));
	expect(rc == 0 && config.endpoints == 2 && !strcmp(config.endpoint[0].name, "pbx") &&
		       !strcmp(config.endpoint[1].name, "carrier"),
	       "config: a file's trunks replace the built-in trunk, the built-in PBX stays", err);
}

static void errors(void)
{
	refused("config: a new endpoint without a required key is refused, naming both",
		"[trunk b]\ninterface = x0\naddress = 10.9.0.1\nports = 40000-40099\n"
		"sip = 10.9.0.1:5060\n",
		": [trunk b] needs peer = ...");
	refused("config: two endpoints on one address with overlapping ports are refused",
		"[pbx pbx]\nports = 30050-30199\naddress = 10.77.2.1\n",
		": endpoints pbx and trunk share an address and overlapping ports");
	refused("config: two endpoints on one SIP address and port are refused",
		"[pbx pbx]\nsip = 10.77.2.1:5060\n",
		": endpoints pbx and trunk both listen for SIP on the same address and port "
		"(give each its own sip =)");
	refused("config: one name cannot be a PBX and a trunk", "[trunk pbx]\n",
		":1: endpoint 'pbx' is a pbx already, not a trunk");
	refused("config: endpoint names are letters, digits, '-', '_' or '.'", "[pbx a/b]\n",
		":1: endpoint name 'a/b': 1 to 31 letters, digits, '-', '_' or '.'");
	refused("config: a bad number names the key, its range and the value",
		"[relay]\n# comment\ndscp = 99\n",
		":3: dscp must be a number from 0 to 63, not '99'");
	refused("config: an unknown endpoint key lists the keys there are", "[pbx pbx]\nmtu = 1\n",
		":2: unknown key 'mtu' in an endpoint section (interface, address, address6, "
		"advertise, ports, sip, peer, latch, channels, setup_calls, setup_calls_per_source, "
		"streams, allow, media_deny, deny, sip_rate, sip_rate_global, sip_rate_peer)");
	refused("config: an unknown section says which there are", "[carrier x y]\n",
		":1: unknown section [carrier x y] (expected [relay], [pbx NAME] or [trunk "
		"NAME])");
	refused("config: a section word must be pbx, trunk or side, whole", "[p x]\n",
		":1: unknown section [p x] (expected [relay], [pbx NAME] or [trunk NAME])");
	refused("config: enum keys list their choices", "[relay]\nxdp = fast\n",
		":2: xdp must be native, skb or off, not 'fast'");
	refused("config: the metrics address may be off, else needs a port",
		"[relay]\nmetrics = 127.0.0.1\n",
		":2: metrics must be IP:PORT, [IPv6]:PORT or off");
}

void test_config(void)
{
	defaults();
	template();
	legacy_sides();
	endpoints();
	errors();
}
