/*
 * The bundled descriptor set (gw_descset_add_bundled, core/descset.c): the
 * FileDescriptorSet protoc writes from proto/ at build time, linked in
 * read-only. The Makefile passes the file's path as GW_BUNDLED_PB.
 */
    .section .rodata
    .balign 16
    .global gw_bundled_pb
    .type gw_bundled_pb, @object
gw_bundled_pb:
    .incbin GW_BUNDLED_PB
gw_bundled_pb_end:
    .size gw_bundled_pb, gw_bundled_pb_end - gw_bundled_pb

    .balign 8
    .global gw_bundled_pb_len
    .type gw_bundled_pb_len, @object
gw_bundled_pb_len:
    .quad gw_bundled_pb_end - gw_bundled_pb
    .size gw_bundled_pb_len, 8

    .section .note.GNU-stack, "", @progbits
