// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

#define JSON_MAX_DEPTH 32

struct parser {
	const char *p, *end, *start;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *ps, const char *what)
{
	if (ps->failed)
		return;
	ps->failed = true;
	snprintf(ps->err, ps->errlen, "%s at byte %zu", what, (size_t)(ps->p - ps->start));
}

static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return false;
	ps->p += n;
	return true;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at ps->p (on its opening quote), unescaped into a malloc'd buffer. */
static char *parse_string(struct parser *ps)
{
	const char *p = ps->p + 1, *close = p;
	char *out, *o;

	/*
	 * The unescaped text is never longer than the escaped one: allocate
	 * that, up to the closing quote (not the rest of the document: a long
	 * reply's every string would cost its length, quadratic).
	 */
	while (close < ps->end && *close != '"')
		close += *close == '\\' && close + 1 < ps->end ? 2 : 1;
	out = malloc((size_t)(close - p) + 1);
	if (!out) {
		fail(ps, "out of memory");
		return NULL;
	}
	o = out;
	while (p < ps->end && *p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20) {
			ps->p = p;
			fail(ps, "control character in a string");
			goto bad;
		}
		if (c != '\\') {
			*o++ = (char)c;
			p++;
			continue;
		}
		if (++p >= ps->end)
			break;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			*o++ = *p;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u': {
			int cp = ps->end - p > 4 ? hex4(p + 1) : -1;

			if (cp < 0) {
				ps->p = p;
				fail(ps, "bad \\u escape");
				goto bad;
			}
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && ps->end - p > 6 && p[1] == '\\' &&
			    p[2] == 'u') {
				int lo = hex4(p + 3);

				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			o += put_utf8(o, (unsigned int)cp);
			break;
		}
		default:
			ps->p = p;
			fail(ps, "bad escape in a string");
			goto bad;
		}
		p++;
	}
	if (p >= ps->end) {
		ps->p = p;
		fail(ps, "unterminated string");
		goto bad;
	}
	*o = '\0';
	ps->p = p + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static char *parse_number(struct parser *ps)
{
	const char *s = ps->p, *p = s;
	char *out;

	if (p < ps->end && *p == '-')
		p++;
	if (p >= ps->end || *p < '0' || *p > '9') {
		fail(ps, "expected a value");
		return NULL;
	}
	while (p < ps->end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
			       *p == '+' || *p == '-'))
		p++;
	out = strndup(s, (size_t)(p - s));
	if (!out) {
		fail(ps, "out of memory");
		return NULL;
	}
	/* the whole token must be a number */
	{
		char *end;

		strtod(out, &end);
		if (*end) {
			free(out);
			fail(ps, "malformed number");
			return NULL;
		}
	}
	ps->p = p;
	return out;
}

static struct xt_json *parse_value(struct parser *ps, int depth);

static struct xt_json *new_value(struct parser *ps, enum xt_json_type type)
{
	struct xt_json *v = calloc(1, sizeof(*v));

	if (!v)
		fail(ps, "out of memory");
	else
		v->type = type;
	return v;
}

/* Elements (or members, with names) of a container at ps->p, up to close. */
static struct xt_json *parse_container(struct parser *ps, int depth, enum xt_json_type type)
{
	char close = type == XT_JSON_OBJECT ? '}' : ']';
	struct xt_json *c = new_value(ps, type), **tail;

	if (!c)
		return NULL;
	if (depth >= JSON_MAX_DEPTH) {
		fail(ps, "nested too deep");
		goto bad;
	}
	tail = &c->child;
	ps->p++;
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return c;
	}
	for (;;) {
		char *key = NULL;
		struct xt_json *v;

		skip_blanks(ps);
		if (type == XT_JSON_OBJECT) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "expected a member name");
				goto bad;
			}
			key = parse_string(ps);
			if (!key)
				goto bad;
			skip_blanks(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				fail(ps, "expected ':'");
				goto bad;
			}
			ps->p++;
		}
		v = parse_value(ps, depth + 1);
		if (!v) {
			free(key);
			goto bad;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return c;
		}
		fail(ps, type == XT_JSON_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
		goto bad;
	}
bad:
	xt_json_free(c);
	return NULL;
}

static struct xt_json *parse_value(struct parser *ps, int depth)
{
	struct xt_json *v;

	skip_blanks(ps);
	if (ps->p >= ps->end) {
		fail(ps, "unexpected end");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		return parse_container(ps, depth, XT_JSON_OBJECT);
	case '[':
		return parse_container(ps, depth, XT_JSON_ARRAY);
	case '"':
		v = new_value(ps, XT_JSON_STRING);
		if (v && !(v->text = parse_string(ps))) {
			free(v);
			v = NULL;
		}
		return v;
	case 't':
	case 'f':
	case 'n':
		if (literal(ps, "true") || literal(ps, "false")) {
			v = new_value(ps, XT_JSON_BOOL);
			if (v)
				v->boolean = ps->p[-1] == 'e' && ps->p[-2] == 'u';
			return v;
		}
		if (literal(ps, "null"))
			return new_value(ps, XT_JSON_NULL);
		fail(ps, "expected a value");
		return NULL;
	default:
		v = new_value(ps, XT_JSON_NUMBER);
		if (v && !(v->text = parse_number(ps))) {
			free(v);
			v = NULL;
		}
		return v;
	}
}

struct xt_json *xt_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = {
		.p = text, .end = text + len, .start = text, .err = err, .errlen = errlen
	};
	struct xt_json *v = parse_value(&ps, 0);

	if (!v)
		return NULL;
	skip_blanks(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "trailing characters after the value");
		xt_json_free(v);
		return NULL;
	}
	return v;
}

void xt_json_free(struct xt_json *value)
{
	while (value) {
		struct xt_json *next = value->next;

		xt_json_free(value->child);
		free(value->key);
		free(value->text);
		free(value);
		value = next;
	}
}

const struct xt_json *xt_json_get(const struct xt_json *object, const char *key)
{
	if (!object || object->type != XT_JSON_OBJECT)
		return NULL;
	for (const struct xt_json *m = object->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

const char *xt_json_get_str(const struct xt_json *object, const char *key)
{
	const struct xt_json *v = xt_json_get(object, key);

	return v && v->type == XT_JSON_STRING ? v->text : NULL;
}

uint64_t xt_json_get_uint(const struct xt_json *object, const char *key, uint64_t fallback)
{
	const struct xt_json *v = xt_json_get(object, key);

	return v && v->type == XT_JSON_NUMBER ? strtoull(v->text, NULL, 10) : fallback;
}

double xt_json_get_double(const struct xt_json *object, const char *key, double fallback)
{
	const struct xt_json *v = xt_json_get(object, key);

	return v && v->type == XT_JSON_NUMBER ? strtod(v->text, NULL) : fallback;
}

bool xt_json_get_bool(const struct xt_json *object, const char *key)
{
	const struct xt_json *v = xt_json_get(object, key);

	return v && v->type == XT_JSON_BOOL && v->boolean;
}

unsigned int xt_json_length(const struct xt_json *array)
{
	unsigned int n = 0;

	if (!array || array->type != XT_JSON_ARRAY)
		return 0;
	for (const struct xt_json *e = array->child; e; e = e->next)
		n++;
	return n;
}

void xt_json_write(struct json_writer *w, const struct xt_json *value)
{
	if (value->key)
		jsonw_name(w, value->key);
	switch (value->type) {
	case XT_JSON_NULL:
		jsonw_null(w);
		break;
	case XT_JSON_BOOL:
		jsonw_bool(w, value->boolean);
		break;
	case XT_JSON_NUMBER:
		jsonw_raw(w, value->text);
		break;
	case XT_JSON_STRING:
		jsonw_string(w, value->text);
		break;
	case XT_JSON_ARRAY:
	case XT_JSON_OBJECT:
		if (value->type == XT_JSON_ARRAY)
			jsonw_start_array(w);
		else
			jsonw_start_object(w);
		for (const struct xt_json *e = value->child; e; e = e->next)
			xt_json_write(w, e);
		if (value->type == XT_JSON_ARRAY)
			jsonw_end_array(w);
		else
			jsonw_end_object(w);
		break;
	}
}
