/* gstwanr2vanimatic.c: see gstwanr2vanimatic.h. */
#include "gstwanr2vanimatic.h"

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "wr2v-engine.h"

GST_DEBUG_CATEGORY_STATIC (gst_wanr2v_animatic_debug);
#define GST_CAT_DEFAULT gst_wanr2v_animatic_debug

struct _GstWanR2vAnimatic
{
  Wr2vRequest *req;             /* the copy the render reads */
  gchar *path;
  GCancellable *cancellable;
  GThread *thread;
  GstWanR2vAnimaticDone done;
  gpointer user_data;
};

/* What the preview engine reads of a request: the text, the size and
 * length, and the references' files and numbers. */
static Wr2vRequest *
copy_for_preview (const Wr2vRequest * req)
{
  Wr2vRequest *copy = wr2v_request_new ();

  copy->prompt = g_strdup (req->prompt);
  copy->negative_prompt = g_strdup (req->negative_prompt);
  copy->duration = req->duration;
  copy->resolution = req->resolution;
  copy->aspect_ratio = req->aspect_ratio;
  copy->aspect_ratio_set = req->aspect_ratio_set;
  copy->seed = req->seed;
  copy->numbering = req->numbering;
  copy->shot_type = req->shot_type;
  for (guint i = 0; i < req->references->len; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);
    Wr2vReference *r = wr2v_reference_new (ref->kind, ref->pad_index);

    r->number = ref->number;
    r->path = g_strdup (ref->path);
    r->mime = g_strdup (ref->mime);
    r->first_frame = ref->first_frame;
    wr2v_request_add_reference (copy, r);
  }
  return copy;
}

static gpointer
render (gpointer data)
{
  GstWanR2vAnimatic *a = data;
  Wr2vEngineSettings settings = { 0, };
  g_autoptr (GError) err = NULL;
  Wr2vEngine *engine = wr2v_engine_new ("preview", &settings, &err);
  gboolean ok = FALSE;
  Wr2vJob job;

  if (engine) {
    wr2v_job_init (&job, a->req, engine, NULL, a->cancellable);
    ok = engine->klass->generate (engine, &job, a->path, &err);
    wr2v_job_clear (&job);
    wr2v_engine_free (engine);
  }
  if (ok)
    GST_INFO ("animatic ready: %s", a->path);
  else
    GST_WARNING ("no animatic: %s", err ? err->message : "?");
  a->done (ok ? a->path : NULL, a->user_data);
  return NULL;
}

GstWanR2vAnimatic *
gst_wanr2v_animatic_start (const Wr2vRequest * req, const gchar * dir,
    GstWanR2vAnimaticDone done, gpointer user_data)
{
  GstWanR2vAnimatic *a = g_new0 (GstWanR2vAnimatic, 1);
  gint fd;

  GST_DEBUG_CATEGORY_INIT (gst_wanr2v_animatic_debug, "wanr2vanimatic", 0,
      "wanr2v's live placeholder animatic");
  a->req = copy_for_preview (req);
  a->path = g_build_filename (dir, "wanr2v-animatic-XXXXXX.mp4", NULL);
  fd = g_mkstemp (a->path);
  if (fd >= 0)
    g_close (fd, NULL);
  a->cancellable = g_cancellable_new ();
  a->done = done;
  a->user_data = user_data;
  a->thread = g_thread_new ("wanr2v-animatic", render, a);
  return a;
}

void
gst_wanr2v_animatic_free (GstWanR2vAnimatic * a)
{
  g_cancellable_cancel (a->cancellable);
  g_thread_join (a->thread);
  g_unlink (a->path);
  g_free (a->path);
  g_object_unref (a->cancellable);
  wr2v_request_free (a->req);
  g_free (a);
}
