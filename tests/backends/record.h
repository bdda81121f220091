/*
 * demo-backend: the --record call log (one JSON object per line, written
 * with a single write(2) so readers see whole lines immediately) and the
 * generic protobuf → JSON rendering used for the "request" field.
 */
#ifndef DEMO_RECORD_H
#define DEMO_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

int record_open(const char *path);
void record_close(void);
bool record_enabled(void);

/* {"ts": <unix seconds>, "method": method}; add fields, then record_write. */
json_t *record_entry_new(const char *method);
/* Appends entry as one line and releases it. */
void record_write(json_t *entry);

/* A JSON string of s[0..n); bytes that are not valid UTF-8 become '?'. */
json_t *json_str_safe(const char *s, size_t n);
json_t *json_base64(const unsigned char *data, size_t n);
/* Renders every field (proto names, defaults included, maps as objects). */
json_t *pb_to_json(const ProtobufCMessage *m);

#endif
