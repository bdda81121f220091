/*
 * libFuzzer target for the descriptor set (core/descset*.c): the input is a
 * FileDescriptorSet, added, linked and freed (LeakSanitizer checks every
 * error path frees what it took).
 *
 * Checks, besides the sanitizers: an error is one non-empty line; a linked
 * set's services have methods with input and output descriptors and rules
 * with a verb and a path; and the messages the set built (the first 16)
 * survive protobuf-c unpacking the input bytes themselves (and pack + free of the result), so a
 * descriptor that disagrees with its own struct layout shows up as an ASan
 * report.
 *
 * Seeds: tests/fuzz/corpus/descset (hand-made sets with google.api.http
 * rules) plus, copied in by `make fuzz`, the bundled set and one set per
 * .proto file of proto/ (tests/fuzz/run.sh, $BUILD/fuzz/seeds/descset).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/descset.h"
#include "core/descset_int.h"

static void check_err(const char *err)
{
    if (err[0] == '\0' || strchr(err, '\n') != NULL)
        abort();
}

static void exercise(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t size)
{
    if (d == NULL || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        abort();
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size, data);
    if (m == NULL)
        return;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf != NULL && protobuf_c_message_pack(m, buf) != n)
        abort();
    free(buf);
    protobuf_c_message_free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    gw_descset_t *set = gw_descset_new();
    if (set == NULL)
        return 0;
    if (gw_descset_add(set, data, size, "fuzz", err, sizeof(err)) != 0 ||
        gw_descset_link(set, err, sizeof(err)) != 0) {
        check_err(err);
        gw_descset_free(set);
        return 0;
    }
    for (size_t i = 0; i < 16; i++) {
        const ProtobufCMessageDescriptor *d = gw_ds_message_at(set, i);
        if (d == NULL)
            break;
        if (gw_descset_message(set, d->name) != d)
            abort();
        exercise(d, data, size);
    }
    for (size_t i = 0; i < gw_descset_nservices(set); i++) {
        const gw_desc_service_t *s = gw_descset_service(set, i);
        if (s == NULL || s->full_name == NULL || s->file == NULL)
            abort();
        for (size_t j = 0; j < s->nmethods; j++) {
            const gw_desc_method_t *m = &s->methods[j];
            if (m->rpc == NULL || m->rpc[0] != '/' || m->full_name == NULL)
                abort();
            for (size_t k = 0; k < m->nrules; k++)
                if (m->rules[k].verb == NULL || m->rules[k].path == NULL || m->rules[k].path[0] == '\0')
                    abort();
            if (m->input == NULL || m->output == NULL)
                abort();
        }
    }
    gw_descset_free(set);
    return 0;
}
