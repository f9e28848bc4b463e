/* SPDX-License-Identifier: BSD-2-Clause */
/* control_protocol.h - the framing of naptd's control socket, shared by naptd and naptctl.
 *
 * One request per connection: the client sends one line of printable ASCII ending in "\n"
 * (an optional leading "json " asks for a JSON answer); the server answers with a first line
 * "ok" or "error: REASON", then the body, then closes the connection. docs/control-protocol.md
 * describes the commands.
 */
#ifndef CONTROL_PROTOCOL_H
#define CONTROL_PROTOCOL_H

#define CONTROL_DEFAULT_SOCKET "/run/naptd.sock"
/* Longest request, the final "\n" included. */
#define CONTROL_REQUEST_MAX 1024
/* Prefix that asks for a JSON body instead of a table. */
#define CONTROL_JSON_PREFIX  "json "
#define CONTROL_ANSWER_OK    "ok"
#define CONTROL_ANSWER_ERROR "error: "
/* A client that neither finishes its request nor reads its answer for this long is dropped. */
#define CONTROL_CLIENT_TIMEOUT_MS 5000
/* Clients served at once; more are answered "error: too many clients" and closed. */
#define CONTROL_MAX_CLIENTS 64

#endif
