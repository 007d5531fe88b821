/* wr2v-remote-file.c: a reference's file as an upload sends it (see
 * wr2v-remote-file.h).
 */
#include "config.h"

#include <string.h>

#include "wr2v-remote-file.h"

gchar *
wr2v_remote_upload_name (const Wr2vReference * ref)
{
  return g_strdup_printf ("%s%u.%s", ref->kind == WR2V_REF_IMAGE ?
      "image" : "video", ref->number, wr2v_remote_ext_for_mime (ref->mime,
          ref->kind));
}

void
wr2v_remote_form_upload (Wr2vRemote * remote, Wr2vJob * job,
    Wr2vHttpRequest * hr, Wr2vHttpFormPart * part, Wr2vRemoteProgress * ps,
    const gchar * url, const gchar * key, const gchar * field,
    const Wr2vReference * ref, const gchar * filename, const gchar * label)
{
  memset (part, 0, sizeof *part);
  part->name = field;
  part->file_path = ref->path;
  part->filename = filename;
  part->content_type = ref->mime;
  wr2v_remote_api_request (remote, job, hr, WR2V_HTTP_POST, url, key);
  /* a file may take long: only a stalled transfer ends it */
  hr->timeout_s = 0;
  hr->low_speed_time_s = 0;
  hr->parts = part;
  hr->n_parts = 1;
  wr2v_remote_watch_progress (hr, ps, job, label);
}
