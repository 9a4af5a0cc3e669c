// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * out.c - one print path for text and JSON (json-c).
 */
#include <stdarg.h>
#include <string.h>
#include <json-c/json.h>

#include "out.h"

#define OUT_DEPTH 16

bool out_json;
bool out_pretty;

static FILE *out_f;
static struct json_object *stack[OUT_DEPTH];
static int depth = -1;

void out_set_file(FILE *f)
{
	out_f = f;
}

static FILE *of(void)
{
	return out_f ? out_f : stdout;
}

bool out_is_json(void)
{
	return out_json || out_pretty;
}

static bool want_text(enum print_type t)
{
	return !out_is_json() && t != PRINT_JSON;
}

static bool want_json(enum print_type t)
{
	return out_is_json() && t != PRINT_TEXT && depth >= 0;
}

void out_begin(void)
{
	while (depth >= 0)
		json_object_put(stack[depth--]) ;
	if (!out_is_json())
		return;
	stack[0] = json_object_new_object();
	depth = 0;
	json_object_object_add(stack[0], "schema", json_object_new_int(CORRAL_JSON_SCHEMA));
}

int out_end(void)
{
	int flags = out_pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			       : JSON_C_TO_STRING_PLAIN;

	if (!out_is_json() || depth < 0) {
		fflush(of());
		return 0;
	}
	fprintf(of(), "%s\n", json_object_to_json_string_ext(stack[0], flags));
	json_object_put(stack[0]);
	depth = -1;
	return fflush(of());
}

static void attach(const char *key, struct json_object *o)
{
	struct json_object *cur = stack[depth];

	if (json_object_is_type(cur, json_type_array))
		json_object_array_add(cur, o);
	else
		json_object_object_add(cur, key ? key : "?", o);
}

static void open_container(const char *key, struct json_object *o)
{
	if (!want_json(PRINT_JSON) || depth + 1 >= OUT_DEPTH) {
		json_object_put(o);
		return;
	}
	attach(key, o);
	stack[++depth] = o;
}

void out_open_object(const char *key)
{
	if (out_is_json())
		open_container(key, json_object_new_object());
}

void out_open_array(const char *key)
{
	if (out_is_json())
		open_container(key, json_object_new_array());
}

void out_close_object(void)
{
	if (out_is_json() && depth > 0)
		depth--;
}

void out_close_array(void)
{
	out_close_object();
}

void print_string(enum print_type t, const char *key, const char *fmt, const char *v)
{
	if (want_json(t))
		attach(key, json_object_new_string(v ? v : ""));
	else if (want_text(t) && fmt)
		fprintf(of(), fmt, v ? v : "");
}

void print_u64(enum print_type t, const char *key, const char *fmt, __u64 v)
{
	if (want_json(t))
		attach(key, json_object_new_uint64(v));
	else if (want_text(t) && fmt)
		fprintf(of(), fmt, (unsigned long long)v);
}

void print_s64(enum print_type t, const char *key, const char *fmt, long long v)
{
	if (want_json(t))
		attach(key, json_object_new_int64(v));
	else if (want_text(t) && fmt)
		fprintf(of(), fmt, v);
}

void print_double(enum print_type t, const char *key, const char *fmt, double v)
{
	if (want_json(t))
		attach(key, json_object_new_double(v));
	else if (want_text(t) && fmt)
		fprintf(of(), fmt, v);
}

void print_bool(enum print_type t, const char *key, const char *fmt, bool v)
{
	if (want_json(t))
		attach(key, json_object_new_boolean(v));
	else if (want_text(t) && fmt)
		fprintf(of(), fmt, v ? "yes" : "no");
}

void print_null(enum print_type t, const char *key, const char *fmt)
{
	if (want_json(t))
		attach(key, NULL);
	else if (want_text(t) && fmt)
		fputs(fmt, of());
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (out_is_json())
		return;
	va_start(ap, fmt);
	vfprintf(of(), fmt, ap);
	va_end(ap);
}

void print_nl(void)
{
	if (!out_is_json())
		fputc('\n', of());
}

void print_json_obj(const char *key, struct json_object *o)
{
	if (want_json(PRINT_JSON))
		attach(key, json_object_get(o));
}
