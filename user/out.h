/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * out.h - one print path for text and JSON output.
 *
 * Every value is printed once with a key (its JSON name) and a printf
 * format (its text form). PRINT_ANY goes to both, PRINT_TEXT only to the
 * text output, PRINT_JSON only to the JSON document. In JSON mode the
 * document is built with json-c and written by out_end() with a top-level
 * "schema": CORRAL_JSON_SCHEMA. Errors never go through here (stderr).
 */
#ifndef CORRAL_OUT_H
#define CORRAL_OUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define CORRAL_JSON_SCHEMA 1

enum print_type {
	PRINT_ANY = 0,
	PRINT_TEXT,
	PRINT_JSON,
};

extern bool out_json;     /* -j */
extern bool out_pretty;   /* -p */

void out_set_file(FILE *f);   /* default stdout */
void out_begin(void);         /* top-level object */
int  out_end(void);           /* writes the JSON document, resets */
bool out_is_json(void);

void out_open_object(const char *key);   /* key NULL inside an array */
void out_close_object(void);
void out_open_array(const char *key);
void out_close_array(void);

void print_string(enum print_type t, const char *key, const char *fmt, const char *v);
void print_u64(enum print_type t, const char *key, const char *fmt, __u64 v);
void print_s64(enum print_type t, const char *key, const char *fmt, long long v);
void print_double(enum print_type t, const char *key, const char *fmt, double v);
void print_bool(enum print_type t, const char *key, const char *fmt, bool v);
void print_null(enum print_type t, const char *key, const char *fmt);
/* text only */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_nl(void);

/* JSON output of an already-built json-c object under key (text: nothing) */
struct json_object;
void print_json_obj(const char *key, struct json_object *o);

#endif /* CORRAL_OUT_H */
