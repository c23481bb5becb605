// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <inttypes.h>
#include <stdlib.h>

#include "json_writer.h"

#define JSONW_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	bool pretty;
	int depth;
	bool first[JSONW_MAX_DEPTH]; /* nothing written yet at this depth */
	bool after_name;	     /* a value follows "name": */
};

struct json_writer *jsonw_new(FILE *out, bool pretty)
{
	struct json_writer *self = calloc(1, sizeof(*self));

	if (!self)
		return NULL;
	self->out = out;
	self->pretty = pretty;
	self->first[0] = true;
	return self;
}

void jsonw_destroy(struct json_writer **self)
{
	if (!*self)
		return;
	fputc('\n', (*self)->out);
	fflush((*self)->out);
	free(*self);
	*self = NULL;
}

void jsonw_set_output(struct json_writer *self, FILE *out)
{
	self->out = out;
}

static void indent(struct json_writer *self)
{
	if (!self->pretty)
		return;
	fputc('\n', self->out);
	for (int i = 0; i < self->depth; i++)
		fputs("    ", self->out);
}

/* Separator and indentation before a new element (a value or a name). */
static void element_start(struct json_writer *self)
{
	if (self->after_name) {
		self->after_name = false;
		return;
	}
	if (!self->first[self->depth])
		fputc(',', self->out);
	self->first[self->depth] = false;
	if (self->depth > 0)
		indent(self);
}

static void open_container(struct json_writer *self, char c)
{
	element_start(self);
	fputc(c, self->out);
	if (self->depth < JSONW_MAX_DEPTH - 1)
		self->depth++;
	self->first[self->depth] = true;
}

static void close_container(struct json_writer *self, char c)
{
	bool empty = self->first[self->depth];

	if (self->depth > 0)
		self->depth--;
	if (!empty)
		indent(self);
	fputc(c, self->out);
}

void jsonw_start_object(struct json_writer *self)
{
	open_container(self, '{');
}

void jsonw_end_object(struct json_writer *self)
{
	close_container(self, '}');
}

void jsonw_start_array(struct json_writer *self)
{
	open_container(self, '[');
}

void jsonw_end_array(struct json_writer *self)
{
	close_container(self, ']');
}

static void write_escaped(struct json_writer *self, const char *s)
{
	fputc('"', self->out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", self->out);
			break;
		case '\\':
			fputs("\\\\", self->out);
			break;
		case '\n':
			fputs("\\n", self->out);
			break;
		case '\t':
			fputs("\\t", self->out);
			break;
		case '\r':
			fputs("\\r", self->out);
			break;
		default:
			if (c < 0x20)
				fprintf(self->out, "\\u%04x", c);
			else
				fputc(c, self->out);
		}
	}
	fputc('"', self->out);
}

void jsonw_name(struct json_writer *self, const char *name)
{
	element_start(self);
	write_escaped(self, name);
	fputs(self->pretty ? ": " : ":", self->out);
	self->after_name = true;
}

void jsonw_string(struct json_writer *self, const char *value)
{
	element_start(self);
	write_escaped(self, value);
}

void jsonw_uint(struct json_writer *self, uint64_t value)
{
	element_start(self);
	fprintf(self->out, "%" PRIu64, value);
}

void jsonw_int(struct json_writer *self, int64_t value)
{
	element_start(self);
	fprintf(self->out, "%" PRId64, value);
}

void jsonw_bool(struct json_writer *self, bool value)
{
	element_start(self);
	fputs(value ? "true" : "false", self->out);
}

void jsonw_null(struct json_writer *self)
{
	element_start(self);
	fputs("null", self->out);
}

void jsonw_raw(struct json_writer *self, const char *value)
{
	element_start(self);
	fputs(value, self->out);
}

void jsonw_string_field(struct json_writer *self, const char *name, const char *value)
{
	jsonw_name(self, name);
	jsonw_string(self, value);
}

void jsonw_uint_field(struct json_writer *self, const char *name, uint64_t value)
{
	jsonw_name(self, name);
	jsonw_uint(self, value);
}

void jsonw_int_field(struct json_writer *self, const char *name, int64_t value)
{
	jsonw_name(self, name);
	jsonw_int(self, value);
}

void jsonw_bool_field(struct json_writer *self, const char *name, bool value)
{
	jsonw_name(self, name);
	jsonw_bool(self, value);
}

void jsonw_null_field(struct json_writer *self, const char *name)
{
	jsonw_name(self, name);
	jsonw_null(self);
}

void jsonw_fixed_field(struct json_writer *self, const char *name, int decimals, double value)
{
	char number[32];

	snprintf(number, sizeof(number), "%.*f", decimals, value);
	jsonw_name(self, name);
	jsonw_raw(self, number);
}
