/* wr2v-mp4.c: the one MP4 box reader: the clip check and the duration.
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
 * that was paid for is kept even when a plugin is missing.
 *
 * Every box header, in a file or in memory, is read by parse_box_header().
 */
#include "wr2v-mp4.h"
#include "wr2v-error.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_mp4_debug);
#define GST_CAT_DEFAULT wr2v_mp4_debug

#define MAX_MOOV_BYTES (64 * 1024 * 1024)
/* boxes looked at per level when searching a file for one */
#define MAX_BOXES_PER_LEVEL 4096

#define FOURCC_ftyp GST_MAKE_FOURCC ('f', 't', 'y', 'p')
#define FOURCC_moov GST_MAKE_FOURCC ('m', 'o', 'o', 'v')
#define FOURCC_mvhd GST_MAKE_FOURCC ('m', 'v', 'h', 'd')
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

static void
debug_init (void)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_mp4_debug, "wanr2vmp4", 0,
        "wanr2v MP4 box reader");
    g_once_init_leave (&once, 1);
  }
}

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

typedef enum
{
  BOX_OK,
  BOX_SHORT,                    /* the header itself is cut off */
  BOX_UNDERSIZED,               /* a size smaller than its header */
  BOX_OVERRUN,                  /* runs past the end of its parent */
} BoxStatus;

typedef struct
{
  guint32 type;
  guint64 size;                 /* the whole box, header included */
  guint header;                 /* 8, or 16 with a 64-bit size */
} BoxHeader;

/* The header of a box whose first MIN (@left, 16) bytes are @head, @left
 * being what remains of its parent from there. Sets box->type whenever
 * @left >= 8. */
static BoxStatus
parse_box_header (const guint8 * head, guint64 left, BoxHeader * box)
{
  if (left < 8)
    return BOX_SHORT;
  box->size = read_u32_be (head);
  box->type = read_u32_le (head + 4);
  box->header = 8;
  if (box->size == 1) {
    if (left < 16)
      return BOX_SHORT;
    box->size = read_u64_be (head + 8);
    box->header = 16;
  } else if (box->size == 0) {
    box->size = left;           /* to the end of the parent */
  }
  if (box->size < box->header)
    return BOX_UNDERSIZED;
  if (box->size > left)
    return BOX_OVERRUN;
  return BOX_OK;
}

/* --- boxes in memory (the moov box) --- */

typedef struct
{
  const guint8 *data;
  gsize len;
} Span;

/* The next box of @in (advanced past it); FALSE when no whole box is
 * left. */
static gboolean
next_box (Span * in, guint32 * type, Span * payload)
{
  BoxHeader box;

  if (parse_box_header (in->data, in->len, &box) != BOX_OK)
    return FALSE;
  *type = box.type;
  payload->data = in->data + box.header;
  payload->len = box.size - box.header;
  in->data += box.size;
  in->len -= box.size;
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

/* --- boxes in a file --- */

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

/* The first box of type @type among those in [@start, @end) of @fd: its
 * payload in [*pstart, *pend). Stops at the first damaged box. */
static gboolean
find_box_in_file (gint fd, guint64 start, guint64 end, guint32 type,
    guint64 * pstart, guint64 * pend)
{
  guint64 pos = start;

  for (guint i = 0; i < MAX_BOXES_PER_LEVEL && pos + 8 <= end; i++) {
    guint8 head[16];
    BoxHeader box;

    if (!read_at (fd, pos, head, MIN (end - pos, 16)) ||
        parse_box_header (head, end - pos, &box) != BOX_OK)
      return FALSE;
    if (box.type == type) {
      *pstart = pos + box.header;
      *pend = pos + box.size;
      return TRUE;
    }
    pos += box.size;
  }
  return FALSE;
}

/* Opens @path for reading with its size; -1 and errno when it cannot. */
static gint
open_sized (const gchar * path, guint64 * size)
{
  GStatBuf st;
  gint fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) != 0) {
    int e = errno;

    close (fd);
    errno = e;
    return -1;
  }
  *size = st.st_size;
  return fd;
}

/* --- the clip check --- */

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

/* NULL when every chunk offset of the stco (@width 4) or co64 (@width 8)
 * payload @box is inside the file, else why not. */
static const gchar *
check_chunk_offsets (Span box, guint width, guint64 file_size)
{
  guint32 n = box.len >= 8 ? read_u32_be (box.data + 4) : G_MAXUINT32;

  if (n == G_MAXUINT32 || (box.len - 8) / width < n)
    return "its video track's chunk table is damaged";
  for (guint32 i = 0; i < n; i++) {
    const guint8 *entry = box.data + 8 + width * i;
    guint64 offset = width == 8 ? read_u64_be (entry) : read_u32_be (entry);

    if (offset >= file_size)
      return "its video frames point past the end of the file";
  }
  return NULL;
}

/* A video track's samples: some, described, and inside the file.
 * @fragmented: the samples may live in movie fragments instead. */
static const gchar *
check_video_track (Span stbl, guint64 file_size, gboolean fragmented)
{
  Span box;
  guint64 samples = 0;

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

  if (find_box (stbl, FOURCC_stco, &box))
    return check_chunk_offsets (box, 4, file_size);
  if (find_box (stbl, FOURCC_co64, &box))
    return check_chunk_offsets (box, 8, file_size);
  return "its video track has no chunk table";
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

/* NULL when a top-level box of type @type at @offset, read as @status,
 * may be part of a clip, else why not. */
static const gchar *
check_top_box (BoxStatus status, guint32 type, guint64 offset)
{
  if (!printable_fourcc (type) || (offset == 0 && !is_first_box (type)))
    return "it is not an MP4 file";
  switch (status) {
    case BOX_SHORT:
      return "it ends in the middle of a box (truncated)";
    case BOX_UNDERSIZED:
      return "it is not an MP4 file";
    case BOX_OVERRUN:
      return "a box runs past the end of the file (truncated)";
    default:
      return NULL;
  }
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
    guint64 left = file_size - offset;
    const gchar *why;
    BoxStatus status;
    BoxHeader box;

    if (!read_at (fd, offset, head, MIN (left, 16)))
      return "it could not be read back";
    if (moov && have_mdat && zero_tail (fd, offset, left))
      break;
    if (left < 8)
      return "it ends in the middle of a box (truncated)";
    status = parse_box_header (head, left, &box);
    why = check_top_box (status, box.type, offset);
    if (why)
      return why;

    if (box.type == FOURCC_moov) {
      if (moov)
        return "it has two moov boxes";
      if (box.size > MAX_MOOV_BYTES)
        return "its moov box is unreasonably large";
      moov_len = box.size - box.header;
      moov = g_malloc (MAX (moov_len, 1));
      if (!read_at (fd, offset + box.header, moov, moov_len))
        return "it could not be read back";
    } else if (box.type == FOURCC_mdat) {
      have_mdat = TRUE;
    } else if (box.type == FOURCC_moof) {
      have_moof = TRUE;
    }
    offset += box.size;
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
  guint64 size;
  gint fd;

  debug_init ();
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  fd = open_sized (path, &size);
  if (fd < 0) {
    int e = errno;

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot read the delivered file %s: %s", path, g_strerror (e));
    return FALSE;
  }
  why = check_mp4 (fd, size);
  close (fd);
  if (why) {
    GST_WARNING ("%s refused: %s", path, why);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "The delivered file is not a playable video clip (%s)", why);
    return FALSE;
  }
  return TRUE;
}

/* --- the duration --- */

/* Seconds from an mvhd payload of @len bytes (of which the first
 * MIN (@len, 32) are in @b), or -1 when it does not say. */
static gdouble
mvhd_seconds (const guint8 * b, guint64 len)
{
  guint32 scale;
  guint64 duration;

  if (len >= 32 && b[0] == 1) {
    scale = read_u32_be (b + 20);
    duration = read_u64_be (b + 24);
  } else if (len >= 20 && b[0] == 0) {
    scale = read_u32_be (b + 12);
    duration = read_u32_be (b + 16);
    if (duration == G_MAXUINT32)        /* "unknown" */
      duration = 0;
  } else {
    return -1;
  }
  if (scale == 0 || duration == 0)
    return -1;
  return (gdouble) duration / scale;
}

gboolean
wr2v_mp4_duration (const gchar * path, gdouble * seconds, GError ** error)
{
  guint64 size, moov_s, moov_e, mvhd_s, mvhd_e;
  guint8 b[32];
  gdouble s = -1;
  gint fd;

  debug_init ();
  *seconds = -1;
  if (!path) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "No file to read a duration from");
    return FALSE;
  }
  fd = open_sized (path, &size);
  if (fd < 0) {
    int e = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
        "Cannot read %s: %s", path, g_strerror (e));
    return FALSE;
  }
  if (find_box_in_file (fd, 0, size, FOURCC_moov, &moov_s, &moov_e) &&
      find_box_in_file (fd, moov_s, moov_e, FOURCC_mvhd, &mvhd_s, &mvhd_e) &&
      read_at (fd, mvhd_s, b, MIN (mvhd_e - mvhd_s, sizeof b)))
    s = mvhd_seconds (b, mvhd_e - mvhd_s);
  close (fd);
  if (s <= 0) {
    GST_DEBUG ("%s: no movie duration", path);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s has no movie duration (not an MP4 file, or no mvhd box)", path);
    return FALSE;
  }
  *seconds = s;
  return TRUE;
}
