/* gstwanr2vprogress.c: see gstwanr2vprogress.h.
 *
 * p->lock guards every field below it; the tick runs on the system
 * clock's thread and posts with no lock held. */
#include "gstwanr2vprogress.h"

struct _GstWanR2vProgress
{
  GstElement *element;          /* not reffed */

  GMutex lock;
  gchar *code;                  /* the last CONTINUE's code and text */
  gchar *text;
  gint64 started;               /* monotonic, the job's start */
  gboolean resumed;
  GstClockID tick;
};

GstWanR2vProgress *
gst_wanr2v_progress_new (GstElement * element)
{
  GstWanR2vProgress *p = g_new0 (GstWanR2vProgress, 1);

  p->element = element;
  g_mutex_init (&p->lock);
  return p;
}

void
gst_wanr2v_progress_free (GstWanR2vProgress * p)
{
  gst_wanr2v_progress_stop (p);
  g_free (p->code);
  g_free (p->text);
  g_mutex_clear (&p->lock);
  g_free (p);
}

/* The name users know: the wanr2v bin's when inside one. */
static gchar *
user_name (GstWanR2vProgress * p)
{
  GstObject *parent = gst_object_get_parent (GST_OBJECT (p->element));
  gchar *name;

  if (parent && g_str_equal (G_OBJECT_TYPE_NAME (parent), "GstWanR2v"))
    name = gst_object_get_name (parent);
  else
    name = gst_object_get_name (GST_OBJECT (p->element));
  gst_clear_object (&parent);
  return name;
}

static void
post (GstWanR2vProgress * p, GstProgressType type, const gchar * code,
    const gchar * text)
{
  g_autofree gchar *name = user_name (p);
  g_autofree gchar *named = g_strdup_printf ("%s (%s)", text, name);

  gst_element_post_message (p->element,
      gst_message_new_progress (GST_OBJECT (p->element), type, code, named));
}

void
gst_wanr2v_progress_post (GstWanR2vProgress * p, GstProgressType type,
    const gchar * code, const gchar * text)
{
  if (type == GST_PROGRESS_TYPE_CONTINUE) {
    g_mutex_lock (&p->lock);
    g_free (p->code);
    g_free (p->text);
    p->code = g_strdup (code);
    p->text = g_strdup (text);
    g_mutex_unlock (&p->lock);
  }
  post (p, type, code, text);
}

static gchar *
format_elapsed (gint64 usec)
{
  gint64 s = usec / G_USEC_PER_SEC;

  if (s < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT " s", s);
  return g_strdup_printf ("%" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s",
      s / 60, s % 60);
}

static gboolean
on_tick (GstClock * clock, GstClockTime time, GstClockID id, gpointer user_data)
{
  GstWanR2vProgress *p = user_data;
  g_autofree gchar *code = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *elapsed = NULL;
  g_autofree gchar *tick = NULL;
  gboolean resumed;

  g_mutex_lock (&p->lock);
  if (p->tick != id || !p->code) {
    g_mutex_unlock (&p->lock);
    return TRUE;
  }
  code = g_strdup (p->code);
  text = g_strdup (p->text);
  resumed = p->resumed;
  elapsed = format_elapsed (g_get_monotonic_time () - p->started);
  g_mutex_unlock (&p->lock);

  tick = g_strdup_printf ("%s%s, %s elapsed", resumed ? "resumed job: " :
      "", text ? text : code, elapsed);
  post (p, GST_PROGRESS_TYPE_CONTINUE, code, tick);
  return TRUE;
}

static void
release_element (gpointer data)
{
  GstWanR2vProgress *p = data;

  gst_object_unref (p->element);
}

void
gst_wanr2v_progress_start (GstWanR2vProgress * p, guint interval_s)
{
  GstClock *clock = gst_system_clock_obtain ();
  GstClockID id;

  gst_wanr2v_progress_stop (p);
  id = gst_clock_new_periodic_id (clock,
      gst_clock_get_time (clock) + interval_s * GST_SECOND,
      interval_s * GST_SECOND);
  g_mutex_lock (&p->lock);
  p->started = g_get_monotonic_time ();
  p->resumed = FALSE;
  g_clear_pointer (&p->code, g_free);
  g_clear_pointer (&p->text, g_free);
  p->tick = gst_clock_id_ref (id);
  g_mutex_unlock (&p->lock);
  /* the element lives as long as a tick may run: free() comes after */
  gst_object_ref (p->element);
  gst_clock_id_wait_async (id, on_tick, p, release_element);
  gst_clock_id_unref (id);
  gst_object_unref (clock);
}

void
gst_wanr2v_progress_stop (GstWanR2vProgress * p)
{
  GstClockID id;

  g_mutex_lock (&p->lock);
  id = g_steal_pointer (&p->tick);
  g_mutex_unlock (&p->lock);
  if (!id)
    return;
  /* waits for a tick being posted: none can run after this */
  gst_clock_id_unschedule (id);
  gst_clock_id_unref (id);
}

void
gst_wanr2v_progress_set_resumed (GstWanR2vProgress * p)
{
  g_mutex_lock (&p->lock);
  p->resumed = TRUE;
  g_mutex_unlock (&p->lock);
}
