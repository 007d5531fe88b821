/* wr2v-comfyui-socket.h: the sampler steps of ComfyUI jobs, from its
 * progress websocket.
 *
 * ComfyUI's history says nothing until a job is done; its steps come only
 * as "progress" messages on GET /ws?clientId=<the submit's client_id>. The
 * websocket is opened right before the submit (ComfyUI takes it before the
 * prompt exists, so no message is missed), kept per prompt id, and read
 * without waiting at each poll: no thread of its own. Whatever goes wrong
 * with it, the job goes on with the history alone.
 */
#pragma once

#include "wr2v-engine.h"
#include "wr2v-websocket.h"

G_BEGIN_DECLS

/* The websockets of the jobs being polled; @lock guards both tables. */
typedef struct
{
  GMutex lock;
  GHashTable *sockets;          /* prompt id -> its socket and steps */
  GHashTable *tried;            /* prompt ids whose socket was opened (or
                                 * tried) once already */
} Wr2vComfyuiSockets;

void wr2v_comfyui_sockets_init (Wr2vComfyuiSockets * s);
void wr2v_comfyui_sockets_clear (Wr2vComfyuiSockets * s);

/* Opens ComfyUI's websocket at @base (api-url, checked) for @client_id;
 * NULL (logged) when it can't be: steps will not be known. */
Wr2vWebsocket *wr2v_comfyui_socket_open (const gchar * base,
    const gchar * client_id, GCancellable * cancellable);

/* Keeps @ws (may be NULL) as @prompt_id's. */
void wr2v_comfyui_sockets_keep (Wr2vComfyuiSockets * s,
    const gchar * prompt_id, Wr2vWebsocket * ws);

/* Closes @prompt_id's websocket: the job ended, failed or was stopped. */
void wr2v_comfyui_sockets_drop (Wr2vComfyuiSockets * s,
    const gchar * prompt_id);

/* TRUE, once per prompt id, when no websocket was opened for it yet. */
gboolean wr2v_comfyui_sockets_wanted (Wr2vComfyuiSockets * s,
    const gchar * prompt_id);

/* Reads what the websocket of @prompt_id has so far, without waiting, and
 * puts the latest steps in @res when the history has none. */
void wr2v_comfyui_sockets_follow (Wr2vComfyuiSockets * s,
    const gchar * prompt_id, Wr2vPollResult * res);

G_END_DECLS
