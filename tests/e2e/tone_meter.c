// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tone_meter: what a phone heard, judged by its frequency.
 *
 *   tone_meter FILE.wav HZ
 *
 * Reads a 16-bit PCM WAV (what a phone recorded of the audio it decoded),
 * cuts it into 50 ms blocks and sorts each: silence (RMS under -40 dBFS), the
 * tone HZ (at least 80% of the block's energy at HZ, by the Goertzel
 * algorithm: a tone within about 5 Hz of HZ, alone), or other sound. Prints
 * one line:
 *
 *   FILE: 7.90 s, 6.10 s of 1200 Hz, 0.00 s of other sound (dominant 0 Hz),
 *   1.80 s of silence
 *
 * "dominant" is the frequency that zero crossings give for the blocks of
 * other sound, for a person reading why. Exit status 0 when the file could be
 * read, 1 otherwise; the test judges the seconds.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MS 50
#define SILENCE_RMS 0.01 /* -40 dBFS */
#define TONE_SHARE 0.8

struct wav {
	unsigned int rate;
	unsigned int channels;
	int16_t *samples; /* the first channel, as many as frames */
	size_t frames;
};

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

/* RIFF chunks in any order; PCM (1) or WAVE_FORMAT_EXTENSIBLE, 16 bits. */
static int wav_read(const char *path, struct wav *w)
{
	unsigned char hdr[12], chunk[8], fmt[40];
	unsigned int bits = 0, format = 0;
	FILE *f = fopen(path, "rb");
	int have_fmt = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "RIFF", 4) || memcmp(hdr + 8, "WAVE", 4)) {
		fprintf(stderr, "%s: not a WAV file\n", path);
		goto fail;
	}
	while (fread(chunk, 1, 8, f) == 8) {
		uint32_t len = le32(chunk + 4);

		if (!memcmp(chunk, "fmt ", 4)) {
			if (len < 16 || len > sizeof(fmt) || fread(fmt, 1, len, f) != len)
				break;
			format = le16(fmt);
			w->channels = le16(fmt + 2);
			w->rate = le32(fmt + 4);
			bits = le16(fmt + 14);
			if (format == 0xfffe && len >= 26)
				format = le16(fmt + 24);
			have_fmt = 1;
		} else if (!memcmp(chunk, "data", 4)) {
			size_t frame = 2 * (size_t)w->channels, n, i;
			unsigned char *raw;

			if (!have_fmt || format != 1 || bits != 16 || !w->channels || !w->rate) {
				fprintf(stderr, "%s: not 16-bit PCM\n", path);
				goto fail;
			}
			raw = malloc(len ? len : 1);
			n = raw ? fread(raw, 1, len, f) : 0;
			w->frames = n / frame;
			w->samples = malloc(sizeof(*w->samples) * (w->frames ? w->frames : 1));
			if (!raw || !w->samples) {
				free(raw);
				goto fail;
			}
			for (i = 0; i < w->frames; i++)
				w->samples[i] = (int16_t)le16(raw + i * frame);
			free(raw);
			fclose(f);
			return 0;
		} else if (fseek(f, len + (len & 1), SEEK_CUR)) {
			break;
		}
	}
	fprintf(stderr, "%s: no audio data\n", path);
fail:
	fclose(f);
	return -1;
}

/* The share of the block's energy at hz (1.0 for a pure tone at a bin centre). */
static double tone_share(const int16_t *x, size_t n, double hz, unsigned int rate, double energy)
{
	double coeff = 2 * cos(2 * M_PI * hz / rate), s1 = 0, s2 = 0, power;
	size_t i;

	for (i = 0; i < n; i++) {
		double s = x[i] / 32768.0 + coeff * s1 - s2;

		s2 = s1;
		s1 = s;
	}
	power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return energy > 0 ? 2 * power / (n * energy) : 0;
}

static unsigned int zero_crossings(const int16_t *x, size_t n)
{
	unsigned int c = 0;
	size_t i;

	for (i = 1; i < n; i++)
		c += (x[i - 1] < 0) != (x[i] < 0);
	return c;
}

int main(int argc, char **argv)
{
	size_t block, i, tone = 0, other = 0, silence = 0;
	double hz, crossings = 0;
	struct wav w = { 0 };

	if (argc != 3 || (hz = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: tone_meter FILE.wav HZ\n");
		return 2;
	}
	if (wav_read(argv[1], &w))
		return 1;
	block = w.rate * BLOCK_MS / 1000;
	for (i = 0; block && i + block <= w.frames; i += block) {
		const int16_t *x = w.samples + i;
		double energy = 0;
		size_t j;

		for (j = 0; j < block; j++)
			energy += (x[j] / 32768.0) * (x[j] / 32768.0);
		if (sqrt(energy / block) < SILENCE_RMS) {
			silence++;
		} else if (tone_share(x, block, hz, w.rate, energy) >= TONE_SHARE) {
			tone++;
		} else {
			other++;
			crossings += zero_crossings(x, block);
		}
	}
	printf("%s: %.2f s, %.2f s of %g Hz, %.2f s of other sound (dominant %.0f Hz), "
	       "%.2f s of silence\n",
	       argv[1], (double)w.frames / w.rate, tone * BLOCK_MS / 1000.0, hz,
	       other * BLOCK_MS / 1000.0, other ? crossings / 2 / (other * BLOCK_MS / 1000.0) : 0.0,
	       silence * BLOCK_MS / 1000.0);
	free(w.samples);
	return 0;
}
