/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A small streaming JSON writer in the shape of bpftool's. */
#ifndef XTRUNK_JSON_WRITER_H
#define XTRUNK_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

struct json_writer *jsonw_new(FILE *out, bool pretty);
void jsonw_destroy(struct json_writer **self);
/*
 * Write on to out from here: a document written in parts, each to its own
 * stream (the control socket's long lists); nesting and commas carry over.
 */
void jsonw_set_output(struct json_writer *self, FILE *out);

void jsonw_start_object(struct json_writer *self);
void jsonw_end_object(struct json_writer *self);
void jsonw_start_array(struct json_writer *self);
void jsonw_end_array(struct json_writer *self);
void jsonw_name(struct json_writer *self, const char *name);

void jsonw_string(struct json_writer *self, const char *value);
void jsonw_uint(struct json_writer *self, uint64_t value);
void jsonw_int(struct json_writer *self, int64_t value);
void jsonw_bool(struct json_writer *self, bool value);
void jsonw_null(struct json_writer *self);
/* A value written as it is: for numbers already formatted (e.g. fixed decimals). */
void jsonw_raw(struct json_writer *self, const char *value);

void jsonw_string_field(struct json_writer *self, const char *name, const char *value);
void jsonw_uint_field(struct json_writer *self, const char *name, uint64_t value);
void jsonw_int_field(struct json_writer *self, const char *name, int64_t value);
void jsonw_bool_field(struct json_writer *self, const char *name, bool value);
void jsonw_null_field(struct json_writer *self, const char *name);
/* A decimal number with a fixed count of decimals ("jitter_ms": 1.250). */
void jsonw_fixed_field(struct json_writer *self, const char *name, int decimals, double value);

#endif
