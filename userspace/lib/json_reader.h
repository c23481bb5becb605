/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small JSON reader for the control socket's requests and replies: parses a
 * document into a tree, and writes a tree back through the JSON writer.
 * Numbers keep their text, so what is read is written back unchanged.
 */
#ifndef XTRUNK_JSON_READER_H
#define XTRUNK_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_writer.h"

enum xt_json_type {
	XT_JSON_NULL,
	XT_JSON_BOOL,
	XT_JSON_NUMBER,
	XT_JSON_STRING,
	XT_JSON_ARRAY,
	XT_JSON_OBJECT,
};

struct xt_json {
	enum xt_json_type type;
	char *key;  /* the member's name, inside an object */
	char *text; /* a string's value (unescaped) or a number's text */
	bool boolean;
	struct xt_json *child; /* first element or member */
	struct xt_json *next;
};

/* Parse len bytes holding one JSON value. NULL with err set when it is not JSON. */
struct xt_json *xt_json_parse(const char *text, size_t len, char *err, size_t errlen);
void xt_json_free(struct xt_json *value);

/* An object's member (NULL when value is no object or has none by that name). */
const struct xt_json *xt_json_get(const struct xt_json *object, const char *key);
/* A member's string, or NULL when it is missing or not a string. */
const char *xt_json_get_str(const struct xt_json *object, const char *key);
/* A member's number, or fallback when it is missing or not a number. */
uint64_t xt_json_get_uint(const struct xt_json *object, const char *key, uint64_t fallback);
double xt_json_get_double(const struct xt_json *object, const char *key, double fallback);
bool xt_json_get_bool(const struct xt_json *object, const char *key);
/* Elements of an array (0 for anything else). */
unsigned int xt_json_length(const struct xt_json *array);

/* Write value (with its member name, when it has one and w is in an object). */
void xt_json_write(struct json_writer *w, const struct xt_json *value);

#endif
