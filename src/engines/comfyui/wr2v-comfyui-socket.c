/* wr2v-comfyui-socket.c: ComfyUI's progress websocket per job (see the
 * header). */
#include "config.h"

#include "wr2v-comfyui.h"
#include "wr2v-comfyui-socket.h"
#include "wr2v-comfyui-wire.h"

#define GST_CAT_DEFAULT wr2v_comfyui_debug

/* the most the opening may take, and the most message bytes taken from
 * the socket per poll */
#define WS_TIMEOUT_S 5
#define WS_DRAIN_BYTES (8 * 1024 * 1024)

/* One job's websocket: ComfyUI sends its steps only there. */
typedef struct
{
  Wr2vWebsocket *ws;            /* NULL once lost: the steps stay */
  gint step, steps;             /* the latest progress of the prompt */
} JobSocket;

static void
job_socket_free (JobSocket * js)
{
  if (!js)
    return;
  wr2v_websocket_free (js->ws);
  g_free (js);
}

void
wr2v_comfyui_sockets_init (Wr2vComfyuiSockets * s)
{
  g_mutex_init (&s->lock);
  s->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) job_socket_free);
  s->tried = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
wr2v_comfyui_sockets_clear (Wr2vComfyuiSockets * s)
{
  /* a job that timed out still has its websocket */
  g_hash_table_unref (s->sockets);
  g_hash_table_unref (s->tried);
  g_mutex_clear (&s->lock);
}

Wr2vWebsocket *
wr2v_comfyui_socket_open (const gchar * base, const gchar * client_id,
    GCancellable * cancellable)
{
  gchar *esc, *url;
  GError *err = NULL;
  Wr2vWebsocket *ws;

  if (!base)
    return NULL;
  esc = g_uri_escape_string (client_id, NULL, FALSE);
  url = g_strconcat (base, "/ws?clientId=", esc, NULL);
  g_free (esc);
  ws = wr2v_websocket_connect (url, WS_TIMEOUT_S, cancellable, &err);
  if (!ws) {
    GST_INFO ("no progress websocket (%s): steps will not be known",
        err->message);
    g_error_free (err);
  }
  g_free (url);
  return ws;
}

void
wr2v_comfyui_sockets_keep (Wr2vComfyuiSockets * s, const gchar * prompt_id,
    Wr2vWebsocket * ws)
{
  JobSocket *js = g_new0 (JobSocket, 1);

  js->ws = ws;
  g_mutex_lock (&s->lock);
  g_hash_table_add (s->tried, g_strdup (prompt_id));
  g_hash_table_replace (s->sockets, g_strdup (prompt_id), js);
  g_mutex_unlock (&s->lock);
}

void
wr2v_comfyui_sockets_drop (Wr2vComfyuiSockets * s, const gchar * prompt_id)
{
  g_mutex_lock (&s->lock);
  g_hash_table_remove (s->sockets, prompt_id);
  g_mutex_unlock (&s->lock);
}

gboolean
wr2v_comfyui_sockets_wanted (Wr2vComfyuiSockets * s, const gchar * prompt_id)
{
  gboolean wanted;

  g_mutex_lock (&s->lock);
  wanted = g_hash_table_add (s->tried, g_strdup (prompt_id));
  g_mutex_unlock (&s->lock);
  return wanted;
}

/* Everything the socket has now; drops it when it is lost. */
static void
drain (JobSocket * js, const gchar * prompt_id)
{
  gsize budget = WS_DRAIN_BYTES;
  GError *err = NULL;
  GBytes *msg;

  while ((msg = wr2v_websocket_read (js->ws, &budget, &err))) {
    if (wr2v_comfyui_parse_ws_message (msg, prompt_id, &js->step,
            &js->steps) == WR2V_COMFYUI_WS_FINISHED)
      GST_DEBUG ("prompt %s: ComfyUI finished executing it", prompt_id);
    g_bytes_unref (msg);
  }
  if (err) {
    GST_INFO ("job %s: progress websocket lost (%s); polling the history "
        "only", prompt_id, err->message);
    g_error_free (err);
    g_clear_pointer (&js->ws, wr2v_websocket_free);
  }
}

void
wr2v_comfyui_sockets_follow (Wr2vComfyuiSockets * s, const gchar * prompt_id,
    Wr2vPollResult * res)
{
  JobSocket *js = NULL;
  gchar *key = NULL;

  /* taken out while read, so that the lock is not held over I/O */
  g_mutex_lock (&s->lock);
  if (!g_hash_table_steal_extended (s->sockets, prompt_id,
          (gpointer *) & key, (gpointer *) & js))
    js = NULL;
  g_mutex_unlock (&s->lock);
  if (!js)
    return;

  if (js->ws)
    drain (js, prompt_id);
  if (js->steps > 0 && res->steps == 0) {
    res->step = js->step;
    res->steps = js->steps;
  }

  g_mutex_lock (&s->lock);
  g_hash_table_replace (s->sockets, key, js);
  g_mutex_unlock (&s->lock);
}
