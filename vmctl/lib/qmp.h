/* qmp: a small synchronous QMP client.
 *
 * QMP is newline-delimited JSON. The client owns one connected socket (a
 * socketpair end whose peer QEMU got with -chardev socket,fd=N), reads the
 * greeting, negotiates capabilities, and runs one command at a time,
 * matching the reply by its "id". Asynchronous events that arrive in the
 * meantime are kept (up to a bound) for qmp_client_take_events().
 *
 * Every call takes a timeout: a wedged QEMU must never hang a runtime
 * call. Errors: CK_ERROR_TIMEOUT, CK_ERROR_DISCONNECTED (QEMU went away),
 * CK_ERROR_FAILED with QEMU's "desc" for a command QEMU rejected.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "base/ck-json.h"

G_BEGIN_DECLS

typedef struct QmpClient QmpClient;

/* Takes ownership of fd. */
QmpClient *qmp_client_new(int fd);
void qmp_client_free(QmpClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_free)

/* Reads the greeting and sends qmp_capabilities. */
gboolean qmp_client_handshake(QmpClient *c, int timeout_ms, GError **error);

/* Runs `command` with `arguments` (a generator holding one complete JSON
 * object, built with ck_json_*: never text pasted together; or NULL for
 * none). On success, *out_return (if non-NULL) receives the parsed reply
 * tree; its "return" member holds the result. */
gboolean qmp_client_execute(QmpClient *c, const char *command, CkJsonGen *arguments, int timeout_ms,
			    yajl_val *out_return, GError **error);

/* Events received so far, as parsed trees (caller frees the array, whose
 * free function frees the trees). */
/* Hands QEMU a copy of `fd` under `name` (QMP getfd), for a later
 * command that names it (e.g. migrate to "fd:<name>"). */
gboolean qmp_client_pass_fd(QmpClient *c, int fd, const char *name, int timeout_ms, GError **error);

GPtrArray *qmp_client_take_events(QmpClient *c);

int qmp_client_get_fd(QmpClient *c);

G_END_DECLS
