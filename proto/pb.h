/*
 * The one way our code includes the protobuf-c headers generated from
 * the .proto files in this folder (into build/gen at build time).
 *
 * protoc-c 1.4.1 names a service's method slots after the methods, and
 * auth.AuthService has a method called Register: the generated header
 * declares a struct member named `register`, a C keyword. The member is
 * never used (we do not use protobuf-c's RPC layer), so it is renamed here
 * for the include; the Makefile compiles the generated .c files with the
 * same rename.
 */
#ifndef GW_PROTO_PB_H
#define GW_PROTO_PB_H

#define register register_
#include "auth.pb-c.h"
#include "health.pb-c.h"
#include "tenant.pb-c.h"
#include "user.pb-c.h"
#undef register

#endif
