/* wr2v-job.c: runs a request on an engine, the same way for every engine.
 *
 * The order of writes is what makes a paid job safe:
 *   1. a stored result for the request's hash is served as is;
 *   2. a journal entry with a job id is resumed (polled), never resubmitted;
 *   3. otherwise the journal says "submitting" before the submit is sent
 *      and gets the job id as soon as it is known;
 *   4. the clip is downloaded to tmp/, checked (a walk of its MP4 boxes,
 *      not a decode), and renamed into results/ before anything decodes
 *      it; only then is the journal entry removed.
 */
#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_job_debug);
#define GST_CAT_DEFAULT wr2v_job_debug


void
wr2v_poll_result_clear (Wr2vPollResult * res)
{
  g_free (res->status);
  g_free (res->output_url);
  g_free (res->error_code);
  g_free (res->error_message);
  memset (res, 0, sizeof *res);
}

void
wr2v_job_init (Wr2vJob * job, Wr2vRequest * req, Wr2vEngine * engine,
    Wr2vStore * store, GCancellable * cancellable)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_job_debug, "wanr2vjob", 0,
        "wanr2v job driver");
    g_once_init_leave (&once, 1);
  }
  memset (job, 0, sizeof *job);
  job->request = req;
  job->engine = engine;
  job->store = store;
  job->cancellable = cancellable;
}

void
wr2v_job_clear (Wr2vJob * job)
{
  g_free (job->hash);
  g_free (job->job_id);
  g_free (job->source_url);
  if (job->error_details)
    gst_structure_free (job->error_details);
  memset (job, 0, sizeof *job);
}

void
wr2v_job_phase (Wr2vJob * job, Wr2vPhase phase, const gchar * format, ...)
{
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  GST_DEBUG ("phase %s: %s", wr2v_phase_name (phase), text);
  if (job->observer.phase)
    job->observer.phase (job->observer.user_data, phase, text);
}

void
wr2v_job_post (Wr2vJob * job, GstStructure * facts)
{
  GST_DEBUG ("%" GST_PTR_FORMAT, facts);
  if (job->observer.message)
    job->observer.message (job->observer.user_data, facts);
  else
    gst_structure_free (facts);
}

static GstStructure *
details (Wr2vJob * job)
{
  if (!job->error_details)
    job->error_details = gst_structure_new_empty ("wanr2v-error");
  return job->error_details;
}

void
wr2v_job_detail_string (Wr2vJob * job, const gchar * field, const gchar * value)
{
  if (value)
    gst_structure_set (details (job), field, G_TYPE_STRING, value, NULL);
}

void
wr2v_job_detail_int (Wr2vJob * job, const gchar * field, gint value)
{
  gst_structure_set (details (job), field, G_TYPE_INT, value, NULL);
}

/* --- the clip check ---
 *
 * What the store accepts: a whole MP4 (ISO BMFF or QuickTime) file with a
 * video track. The file is walked box by box instead of being decoded: a
 * decode (GstDiscoverer) cost 100-400 ms between the download and the
 * first frame, the time users wait for most. The walk reads the top-level
 * box headers and the moov box, about 10-100 kB for a clip, and refuses:
 *   - anything that is not a chain of MP4 boxes (an HTML error page, JSON,
 *     another container);
 *   - a truncated file: a box that runs past the end of the file, bytes
 *     left over after the last box, a missing moov or mdat;
 *   - a clip without a video track, or whose video samples point past the
 *     end of the file.
 * Whether the codec can be decoded here is left to the decoder: a clip
 * that was paid for is kept even when a plugin is missing. */

#define MAX_MOOV_BYTES (64 * 1024 * 1024)

#define FOURCC_ftyp GST_MAKE_FOURCC ('f', 't', 'y', 'p')
#define FOURCC_moov GST_MAKE_FOURCC ('m', 'o', 'o', 'v')
#define FOURCC_mdat GST_MAKE_FOURCC ('m', 'd', 'a', 't')
#define FOURCC_moof GST_MAKE_FOURCC ('m', 'o', 'o', 'f')
#define FOURCC_mvex GST_MAKE_FOURCC ('m', 'v', 'e', 'x')
#define FOURCC_trak GST_MAKE_FOURCC ('t', 'r', 'a', 'k')
#define FOURCC_mdia GST_MAKE_FOURCC ('m', 'd', 'i', 'a')
#define FOURCC_hdlr GST_MAKE_FOURCC ('h', 'd', 'l', 'r')
#define FOURCC_minf GST_MAKE_FOURCC ('m', 'i', 'n', 'f')
#define FOURCC_stbl GST_MAKE_FOURCC ('s', 't', 'b', 'l')
#define FOURCC_stsd GST_MAKE_FOURCC ('s', 't', 's', 'd')
#define FOURCC_stsz GST_MAKE_FOURCC ('s', 't', 's', 'z')
#define FOURCC_stz2 GST_MAKE_FOURCC ('s', 't', 'z', '2')
#define FOURCC_stco GST_MAKE_FOURCC ('s', 't', 'c', 'o')
#define FOURCC_co64 GST_MAKE_FOURCC ('c', 'o', '6', '4')
#define FOURCC_vide GST_MAKE_FOURCC ('v', 'i', 'd', 'e')

/* Box types a top-level MP4 / QuickTime file may start with. */
static gboolean
is_first_box (guint32 type)
{
  static const gchar *types[] = { "ftyp", "moov", "mdat", "free", "skip",
    "wide", "pdin", "styp", "sidx", "uuid", "pnot", "junk", NULL
  };

  for (guint i = 0; types[i]; i++)
    if (type == GST_STR_FOURCC (types[i]))
      return TRUE;
  return FALSE;
}

static gboolean
printable_fourcc (guint32 type)
{
  for (guint i = 0; i < 4; i++) {
    guint8 c = (type >> (8 * i)) & 0xff;

    if (c < 0x20 || c > 0x7e)
      return FALSE;
  }
  return TRUE;
}

typedef struct
{
  const guint8 *data;
  gsize len;
} Span;

/* Byte-wise reads: the boxes sit at any offset, and GST_READ_UINT32_BE()
 * is a word load on x86, a misaligned access that UBSan reports. */
static inline guint32
read_u32_be (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | (guint32) p[3];
}

static inline guint32
read_u32_le (const guint8 * p)
{
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) |
      ((guint32) p[1] << 8) | (guint32) p[0];
}

static inline guint64
read_u64_be (const guint8 * p)
{
  return ((guint64) read_u32_be (p) << 32) | read_u32_be (p + 4);
}

/* The next box of @in (advanced past it); FALSE when no whole box is
 * left. */
static gboolean
next_box (Span * in, guint32 * type, Span * payload)
{
  guint64 size;
  guint header = 8;

  if (in->len < 8)
    return FALSE;
  size = read_u32_be (in->data);
  *type = read_u32_le (in->data + 4);
  if (size == 1) {
    if (in->len < 16)
      return FALSE;
    size = read_u64_be (in->data + 8);
    header = 16;
  } else if (size == 0) {
    size = in->len;
  }
  if (size < header || size > in->len)
    return FALSE;
  payload->data = in->data + header;
  payload->len = size - header;
  in->data += size;
  in->len -= size;
  return TRUE;
}

/* The first child of @parent of type @type. */
static gboolean
find_box (Span parent, guint32 type, Span * out)
{
  guint32 t;

  while (next_box (&parent, &t, out))
    if (t == type)
      return TRUE;
  return FALSE;
}

/* A video track's samples: some, described, and inside the file.
 * @fragmented: the samples may live in movie fragments instead. */
static const gchar *
check_video_track (Span stbl, guint64 file_size, gboolean fragmented)
{
  Span box;
  guint64 samples = 0;
  guint32 n;

  if (!find_box (stbl, FOURCC_stsd, &box) || box.len < 8 ||
      read_u32_be (box.data + 4) == 0)
    return "its video track has no sample description";
  if (find_box (stbl, FOURCC_stsz, &box) || find_box (stbl, FOURCC_stz2, &box)) {
    if (box.len < 12)
      return "its video track's sample table is damaged";
    samples = read_u32_be (box.data + 8);
  }
  if (samples == 0)
    return fragmented ? NULL : "its video track has no frames";

  if (find_box (stbl, FOURCC_stco, &box)) {
    n = box.len >= 8 ? read_u32_be (box.data + 4) : G_MAXUINT32;
    if (n == G_MAXUINT32 || (box.len - 8) / 4 < n)
      return "its video track's chunk table is damaged";
    for (guint32 i = 0; i < n; i++)
      if (read_u32_be (box.data + 8 + 4 * i) >= file_size)
        return "its video frames point past the end of the file";
  } else if (find_box (stbl, FOURCC_co64, &box)) {
    n = box.len >= 8 ? read_u32_be (box.data + 4) : G_MAXUINT32;
    if (n == G_MAXUINT32 || (box.len - 8) / 8 < n)
      return "its video track's chunk table is damaged";
    for (guint32 i = 0; i < n; i++)
      if (read_u64_be (box.data + 8 + 8 * i) >= file_size)
        return "its video frames point past the end of the file";
  } else {
    return "its video track has no chunk table";
  }
  return NULL;
}

/* NULL when @moov has a usable video track, else why not. */
static const gchar *
check_moov (Span moov, guint64 file_size, gboolean have_moof)
{
  gboolean fragmented = have_moof && find_box (moov, FOURCC_mvex,
      &(Span) { 0, });
  const gchar *why = "it has no video track";
  Span trak, mdia, hdlr, minf, stbl;
  guint32 type;

  while (next_box (&moov, &type, &trak)) {
    const gchar *track_why;

    if (type != FOURCC_trak)
      continue;
    if (!find_box (trak, FOURCC_mdia, &mdia) ||
        !find_box (mdia, FOURCC_hdlr, &hdlr) || hdlr.len < 12 ||
        read_u32_le (hdlr.data + 8) != FOURCC_vide)
      continue;
    if (!find_box (mdia, FOURCC_minf, &minf) ||
        !find_box (minf, FOURCC_stbl, &stbl)) {
      why = "its video track has no sample table";
      continue;
    }
    track_why = check_video_track (stbl, file_size, fragmented);
    if (!track_why)
      return NULL;
    why = track_why;
  }
  return why;
}

static gboolean
read_at (gint fd, guint64 offset, gpointer buf, gsize len)
{
  gsize done = 0;

  while (done < len) {
    gssize n = pread (fd, (guint8 *) buf + done, len - done, offset + done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    done += n;
  }
  return TRUE;
}

/* Some muxers pad a file with zeros after its last box. */
static gboolean
zero_tail (gint fd, guint64 offset, guint64 left)
{
  guint8 buf[4096];

  if (left > 64 * 1024)
    return FALSE;
  while (left > 0) {
    gsize n = MIN (left, sizeof buf);

    if (!read_at (fd, offset, buf, n))
      return FALSE;
    for (gsize i = 0; i < n; i++)
      if (buf[i])
        return FALSE;
    offset += n;
    left -= n;
  }
  return TRUE;
}

/* NULL when @fd holds a whole MP4 with a video track, else why not. */
static const gchar *
check_mp4 (gint fd, guint64 file_size)
{
  g_autofree guint8 *moov = NULL;
  gsize moov_len = 0;
  gboolean have_mdat = FALSE, have_moof = FALSE;
  guint64 offset = 0;

  if (file_size < 16)
    return "it is too short to be an MP4 file";
  while (offset < file_size) {
    guint8 head[16];
    guint64 left = file_size - offset, size;
    guint header = 8;
    guint32 type;

    if (!read_at (fd, offset, head, MIN (left, 16)))
      return "it could not be read back";
    if (moov && have_mdat && zero_tail (fd, offset, left))
      break;
    if (left < 8)
      return "it ends in the middle of a box (truncated)";
    size = read_u32_be (head);
    type = read_u32_le (head + 4);
    if (!printable_fourcc (type) || (offset == 0 && !is_first_box (type)))
      return "it is not an MP4 file";
    if (size == 1) {
      if (left < 16)
        return "it ends in the middle of a box (truncated)";
      size = read_u64_be (head + 8);
      header = 16;
    } else if (size == 0) {
      size = left;
    }
    if (size < header)
      return "it is not an MP4 file";
    if (size > left)
      return "a box runs past the end of the file (truncated)";

    if (type == FOURCC_moov) {
      if (moov)
        return "it has two moov boxes";
      if (size > MAX_MOOV_BYTES)
        return "its moov box is unreasonably large";
      moov_len = size - header;
      moov = g_malloc (MAX (moov_len, 1));
      if (!read_at (fd, offset + header, moov, moov_len))
        return "it could not be read back";
    } else if (type == FOURCC_mdat) {
      have_mdat = TRUE;
    } else if (type == FOURCC_moof) {
      have_moof = TRUE;
    }
    offset += size;
  }
  if (!moov)
    return "it has no moov box (truncated?)";
  if (!have_mdat)
    return "it has no media data (truncated?)";
  return check_moov ((Span) {
      moov, moov_len}
      , file_size, have_moof);
}

gboolean
wr2v_clip_check (const gchar * path, GCancellable * cancellable,
    GError ** error)
{
  const gchar *why;
  GStatBuf st;
  gint fd;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0 || fstat (fd, &st) != 0) {
    int e = errno;

    if (fd >= 0)
      close (fd);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot read the delivered file %s: %s", path, g_strerror (e));
    return FALSE;
  }
  why = check_mp4 (fd, st.st_size);
  close (fd);
  if (why) {
    GST_WARNING ("%s refused: %s", path, why);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "The delivered file is not a playable video clip (%s)", why);
    return FALSE;
  }
  return TRUE;
}

static gchar *
engine_identity (Wr2vEngine * engine)
{
  g_autofree gchar *id = engine->klass->identity ?
      engine->klass->identity (engine) : NULL;

  return g_strdup_printf ("%s:%s", engine->klass->name, id ? id : "");
}

static void
post_result (Wr2vJob * job, const gchar * path)
{
  wr2v_job_post (job, gst_structure_new ("wanr2v/result",
          "engine", G_TYPE_STRING, job->engine->klass->name,
          "job-id", G_TYPE_STRING, job->job_id ? job->job_id : "",
          "location", G_TYPE_STRING, path,
          "source-url", G_TYPE_STRING, job->source_url ? job->source_url : "",
          "cached", G_TYPE_BOOLEAN, job->from_cache, NULL));
}

/* Moves a finished tmp file into the store, after checking it is a whole
 * clip.
 *
 * Between the check and the rename, the store writes the clip's bytes to
 * the disk (fsync, 15-20 ms for 20 MB here, more on a slow disk). The
 * observer hears "wanr2v/clip-checked" with the checked file's location
 * first, so that whoever waits for the clip may open it and start
 * decoding meanwhile: an open file follows the rename, and the bytes it
 * reads are the checked ones. Nothing is decoded before the check, and
 * the journal still keeps the job until the clip is in results/. The
 * element handles this fact itself; it is not posted. */
static gchar *
store_clip (Wr2vJob * job, gchar * tmp, GError ** error)
{
  Wr2vResultMeta meta = {
    .engine = (gchar *) job->engine->klass->name,
    .job_id = job->job_id,
    .source_url = job->source_url,
  };
  gchar *path;

  if (!wr2v_clip_check (tmp, job->cancellable, error)) {
    g_unlink (tmp);
    return NULL;
  }
  wr2v_job_post (job, gst_structure_new ("wanr2v/clip-checked",
          "location", G_TYPE_STRING, tmp, NULL));
  path = wr2v_store_commit (job->store, job->hash, tmp, &meta, error);
  if (!path)
    g_unlink (tmp);
  return path;
}

static gchar *
run_local (Wr2vJob * job, GError ** error)
{
  g_autofree gchar *tmp = wr2v_store_new_temp (job->store, ".mp4", error);

  if (!tmp)
    return NULL;
  wr2v_job_phase (job, WR2V_PHASE_GENERATING, "rendering with %s",
      job->engine->klass->name);
  if (!job->engine->klass->generate (job->engine, job, tmp, error)) {
    g_unlink (tmp);
    return NULL;
  }
  return store_clip (job, tmp, error);
}

static guint
timeout_s (Wr2vJob * job)
{
  guint t = job->engine->settings.request_timeout_s;

  return t ? t : WR2V_DEFAULT_HOSTED_TIMEOUT_S;
}

/* request-timeout covers the whole job, from the start of wr2v_job_run():
 * checked before each phase and between polls. A transfer under way is
 * bounded by its own timeouts, not by this. */
static gboolean
before_deadline (Wr2vJob * job, gint64 deadline, GError ** error)
{
  if (g_get_monotonic_time () < deadline)
    return TRUE;
  if (!job->job_id) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_TIMEOUT,
        "request-timeout (%u s) passed before the job was submitted, so "
        "nothing was submitted or paid for. Raise request-timeout (it "
        "counts the uploads too) and run again.", timeout_s (job));
    return FALSE;
  }
  /* submitted: the journal has the job, the next run resumes it */
  wr2v_job_detail_string (job, "job-id", job->job_id);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_TIMEOUT,
      "Job %s did not finish within request-timeout (%u s). It may "
      "still finish: run the same pipeline again to resume waiting for "
      "it (it will not be submitted or paid for again), or raise "
      "request-timeout.", job->job_id, timeout_s (job));
  return FALSE;
}

static gboolean
submit_once (Wr2vJob * job, gint64 deadline, GError ** error)
{
  const Wr2vEngineClass *klass = job->engine->klass;
  Wr2vEngineSettings *s = &job->engine->settings;
  gdouble cost = wr2v_engine_estimate_cost (job->engine, job->request);
  GError *err = NULL;
  gchar *id;

  if (s->max_cost > 0 && cost > s->max_cost) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_COST,
        "This job is estimated at USD %.2f, above max-cost (USD %.2f). "
        "Raise max-cost, or lower the duration or resolution.", cost,
        s->max_cost);
    return FALSE;
  }
  if (!before_deadline (job, deadline, error))
    return FALSE;
  if (klass->prepare) {
    if (!klass->prepare (job->engine, job, error))
      return FALSE;
  }
  /* the uploads may have taken it all: then nothing is submitted */
  if (!before_deadline (job, deadline, error))
    return FALSE;
  if (!wr2v_store_journal_begin (job->store, job->hash, klass->name, error))
    return FALSE;
  id = klass->submit (job->engine, job, &err);
  if (!id) {
    /* Only a submit that surely created nothing may be forgotten; one
     * that may have created a paid job keeps its journal entry so that
     * the next run does not pay again. */
    if (!g_error_matches (err, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED))
      wr2v_store_journal_clear (job->store, job->hash);
    g_propagate_error (error, err);
    return FALSE;
  }
  job->job_id = id;
  if (!wr2v_store_journal_set_job (job->store, job->hash, klass->name, id,
          error))
    return FALSE;
  wr2v_job_post (job, gst_structure_new ("wanr2v/submitted",
          "engine", G_TYPE_STRING, klass->name,
          "job-id", G_TYPE_STRING, id, NULL));
  return TRUE;
}

static gboolean
poll_until_done (Wr2vJob * job, gint64 deadline, gchar ** url, GError ** error)
{
  const Wr2vEngineClass *klass = job->engine->klass;
  Wr2vEngineSettings *s = &job->engine->settings;
  gint64 interval = (s->poll_interval_ms ? s->poll_interval_ms :
      WR2V_DEFAULT_POLL_INTERVAL_MS) * (gint64) 1000;
  gint64 cap = (s->poll_interval_max_ms ? s->poll_interval_max_ms :
      WR2V_DEFAULT_POLL_INTERVAL_MAX_MS) * (gint64) 1000;
  g_autofree gchar *last_status = NULL;
  gint last_step = -1;

  cap = MAX (cap, interval);
  for (;;) {
    Wr2vPollResult res = { 0, };
    gint64 now;

    if (!klass->poll (job->engine, job, job->job_id, &res, error)) {
      wr2v_poll_result_clear (&res);
      return FALSE;
    }
    if (g_strcmp0 (res.status, last_status) != 0 || res.step != last_step) {
      Wr2vPhase phase = res.state == WR2V_POLL_QUEUED ?
          WR2V_PHASE_QUEUED : WR2V_PHASE_GENERATING;

      if (res.steps > 0)
        wr2v_job_phase (job, phase, "job %s: %s (step %d of %d)",
            job->job_id, res.status ? res.status : "running", res.step,
            res.steps);
      else
        wr2v_job_phase (job, phase, "job %s: %s", job->job_id,
            res.status ? res.status : "running");
      wr2v_job_post (job, gst_structure_new ("wanr2v/status",
              "job-id", G_TYPE_STRING, job->job_id,
              "status", G_TYPE_STRING, res.status ? res.status : "",
              "step", G_TYPE_INT, res.step,
              "steps", G_TYPE_INT, res.steps, NULL));
      g_free (last_status);
      last_status = g_strdup (res.status);
      last_step = res.step;
    }
    if (res.state == WR2V_POLL_SUCCEEDED) {
      *url = g_steal_pointer (&res.output_url);
      wr2v_poll_result_clear (&res);
      return TRUE;
    }
    wr2v_poll_result_clear (&res);

    if (!before_deadline (job, deadline, error))
      return FALSE;
    now = g_get_monotonic_time ();
    if (!wr2v_cancellable_sleep (job->cancellable, MIN (interval,
                deadline - now), error))
      return FALSE;
    interval = MIN (interval * 2, cap);
  }
}

static gchar *
run_remote (Wr2vJob * job, gint64 deadline, GError ** error)
{
  const Wr2vEngineClass *klass = job->engine->klass;
  g_autoptr (Wr2vJournalEntry) entry =
      wr2v_store_journal_get (job->store, job->hash);
  g_autofree gchar *url = NULL;
  g_autofree gchar *tmp = NULL;
  GError *err = NULL;
  gchar *path;

  if (entry && entry->job_id) {
    job->job_id = g_strdup (entry->job_id);
    GST_INFO ("resuming job %s for request %s", job->job_id, job->hash);
    wr2v_job_post (job, gst_structure_new ("wanr2v/resumed",
            "engine", G_TYPE_STRING, klass->name,
            "job-id", G_TYPE_STRING, job->job_id, NULL));
  } else if (entry) {
    g_autofree gchar *name = g_strdup_printf ("%s.json", job->hash);
    g_autofree gchar *jpath = g_build_filename (wr2v_store_dir (job->store),
        "journal", name, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED,
        "An earlier run of this same request sent it to %s but never "
        "learnt its job id (it was stopped or killed while submitting, or "
        "the answer was lost), so a paid job may already exist. Check the "
        "provider's dashboard; to submit it again anyway, delete %s.",
        klass->name, jpath);
    return NULL;
  } else if (!submit_once (job, deadline, error)) {
    return NULL;
  }

  if (!poll_until_done (job, deadline, &url, &err)) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
        klass->cancel_remote) {
      klass->cancel_remote (job->engine, job->job_id);
      wr2v_store_journal_clear (job->store, job->hash);
    }
    /* A job that ended (failed, unknown) is over: the next run may submit
     * the request afresh. Anything else keeps the entry for a resume. */
    if (g_error_matches (err, WR2V_ERROR, WR2V_ERROR_JOB_FAILED) ||
        g_error_matches (err, WR2V_ERROR, WR2V_ERROR_NOT_FOUND))
      wr2v_store_journal_clear (job->store, job->hash);
    wr2v_job_detail_string (job, "job-id", job->job_id);
    g_propagate_error (error, err);
    return NULL;
  }

  /* Where the clip came from, for the record and the wanr2v/result
   * message: without the query, which holds a signed download token. */
  job->source_url = wr2v_http_url_for_log (url);
  if (!before_deadline (job, deadline, error))
    return NULL;
  tmp = wr2v_store_new_temp (job->store, ".mp4", error);
  if (!tmp)
    return NULL;
  if (!klass->fetch (job->engine, job, url, tmp, error)) {
    g_unlink (tmp);
    wr2v_job_detail_string (job, "job-id", job->job_id);
    return NULL;
  }
  path = store_clip (job, tmp, error);
  if (path)
    wr2v_store_journal_clear (job->store, job->hash);
  return path;
}

gchar *
wr2v_job_run (Wr2vJob * job, GError ** error)
{
  g_autofree gchar *identity = engine_identity (job->engine);
  g_autoptr (Wr2vResultMeta) meta = NULL;
  /* request-timeout: the whole job, the wait for the lock included */
  gint64 deadline = g_get_monotonic_time () +
      (gint64) timeout_s (job) * G_USEC_PER_SEC;
  gchar *path;
  gint lock;

  g_free (job->hash);
  job->hash = wr2v_request_hash (job->request, identity);
  GST_INFO ("request %s on %s", job->hash, identity);

  lock = wr2v_store_lock (job->store, job->hash, job->cancellable, error);
  if (lock < 0)
    return NULL;
  path = wr2v_store_lookup (job->store, job->hash, &meta);
  if (path) {
    job->from_cache = TRUE;
    if (meta) {
      job->job_id = g_strdup (meta->job_id);
      job->source_url = g_strdup (meta->source_url);
    }
    GST_INFO ("served from the result store: %s", path);
    wr2v_store_unlock (lock);
    post_result (job, path);
    return path;
  }

  if (job->engine->klass->generate) {
    path = run_local (job, error);
  } else if (job->engine->klass->submit) {
    path = run_remote (job, deadline, error);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The %s engine is not available in this build",
        job->engine->klass->name);
    path = NULL;
  }
  wr2v_store_unlock (lock);
  if (path)
    post_result (job, path);
  return path;
}
