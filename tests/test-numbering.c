/* test-numbering.c: the two ways of numbering references in the prompt
 * (issue 12, "Numbering"): every mapping of 0-5 videos and 0-5 images (at
 * most 5 in all), auto's choice and its warning, the errors, the hash, and
 * each engine's form from the table in wr2v-prompt.c. */
#include <string.h>

#include "wr2v-error.h"
#include "wr2v-prompt.h"

/* @videos video pads and @images image pads, numbered; no content. */
static Wr2vRequest *
make_request (guint videos, guint images, const gchar * prompt,
    Wr2vNumbering numbering)
{
  Wr2vRequest *req = wr2v_request_new ();

  /* images first, to show the order of the pads does not matter */
  for (guint i = 0; i < images; i++)
    wr2v_request_add_reference (req, wr2v_reference_new (WR2V_REF_IMAGE, i));
  for (guint i = 0; i < videos; i++)
    wr2v_request_add_reference (req, wr2v_reference_new (WR2V_REF_VIDEO, i));
  wr2v_request_number_references (req);
  for (guint i = 0; i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    ref->sha256 = g_strdup_printf ("%064u", ref->number);
  }
  req->prompt = g_strdup (prompt);
  req->numbering = numbering;
  return req;
}

static gboolean
check (const Wr2vRequest * req, GError ** error)
{
  return wr2v_prompt_check_mentions (req->prompt, req, error);
}

static gchar *
sent (const Wr2vRequest * req, const gchar * engine)
{
  return wr2v_prompt_sent (req, engine, NULL);
}

static void
assert_says (const GError * err, const gchar * text)
{
  g_assert_nonnull (err);
  if (err && !strstr (err->message, text))
    g_error ("\"%s\" does not say \"%s\"", err->message, text);
}

/* One video named by @v (0: none), one image by per-type number @j (0:
 * none), in both conventions, on @videos + @images references. */
static void
check_one_mapping (guint videos, guint images, guint v, guint j)
{
  g_autofree gchar *vpart = v ? g_strdup_printf ("Video %u waves", v) :
      g_strdup ("Someone waves");
  g_autofree gchar *per_type = j ?
      g_strdup_printf ("%s at Image %u", vpart, j) : g_strdup (vpart);
  g_autofree gchar *continuing = j ?
      g_strdup_printf ("%s at Image %u", vpart, videos + j) : g_strdup (vpart);
  g_autoptr (Wr2vRequest) p = make_request (videos, images, per_type,
      WR2V_NUMBERING_PER_TYPE);
  g_autoptr (Wr2vRequest) c = make_request (videos, images, continuing,
      WR2V_NUMBERING_CONTINUING);
  g_autoptr (Wr2vRequest) a = make_request (videos, images, per_type,
      WR2V_NUMBERING_AUTO);
  g_autofree gchar *canon_p = wr2v_prompt_canonical (p);
  g_autofree gchar *canon_c = wr2v_prompt_canonical (c);
  g_autofree gchar *ds_p = sent (p, "dashscope");
  g_autofree gchar *ds_c = sent (c, "dashscope");
  g_autofree gchar *ws_p = sent (p, "wavespeed");
  g_autofree gchar *hash_p = wr2v_request_hash (p, "e");
  g_autofree gchar *hash_c = wr2v_request_hash (c, "e");
  g_autoptr (GArray) named_p = wr2v_prompt_named_references (per_type, p);
  g_autoptr (GArray) named_c = wr2v_prompt_named_references (continuing, c);
  /* continuing valid too: auto has two meanings when videos are linked */
  gboolean both = j > videos;
  gboolean ambiguous = FALSE;
  Wr2vNumbering reading = wr2v_prompt_reading (a, &ambiguous);

  g_assert_true (check (p, NULL));
  g_assert_true (check (c, NULL));
  g_assert_true (check (a, NULL));
  /* the canonical form is the continuing one, whichever was written */
  g_assert_cmpstr (canon_p, ==, continuing);
  g_assert_cmpstr (canon_c, ==, continuing);
  g_assert_cmpstr (hash_p, ==, hash_c);
  /* DashScope wan2.7 gets per-type, WaveSpeed continuing */
  g_assert_cmpstr (ds_p, ==, per_type);
  g_assert_cmpstr (ds_c, ==, per_type);
  g_assert_cmpstr (ws_p, ==, continuing);
  /* the same references named (the preview draws these) */
  g_assert_cmpuint (named_p->len, ==, named_c->len);
  for (guint i = 0; i < named_p->len; i++)
    g_assert_cmpuint (g_array_index (named_p, guint, i), ==,
        g_array_index (named_c, guint, i));

  /* auto: per-type unless the continuing reading is linked too */
  if (!j || !videos) {
    g_assert_cmpint (reading, ==, WR2V_NUMBERING_CONTINUING);
    g_assert_false (ambiguous);
  } else if (both) {
    g_assert_cmpint (reading, ==, WR2V_NUMBERING_CONTINUING);
    g_assert_true (ambiguous);
  } else {
    g_assert_cmpint (reading, ==, WR2V_NUMBERING_PER_TYPE);
    g_assert_false (ambiguous);
  }
}

/* Names past the last reference: refused in every reading. */
static void
check_out_of_range (guint videos, guint images)
{
  g_autofree gchar *img = g_strdup_printf ("Image %u", videos + images + 1);
  g_autofree gchar *vid = g_strdup_printf ("Video %u", videos + 1);
  const gchar *prompts[] = { img, vid, "Video 0", "Image 0" };
  Wr2vNumbering modes[] = { WR2V_NUMBERING_AUTO,
    WR2V_NUMBERING_CONTINUING, WR2V_NUMBERING_PER_TYPE
  };

  for (guint i = 0; i < G_N_ELEMENTS (prompts); i++)
    for (guint k = 0; k < G_N_ELEMENTS (modes); k++) {
      g_autoptr (Wr2vRequest) req = make_request (videos, images,
          prompts[i], modes[k]);
      GError *err = NULL;

      g_assert_false (check (req, &err));
      g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
      assert_says (err, prompts[i]);
      assert_says (err, "not a linked reference");
      g_clear_error (&err);
    }
}

static void
test_every_mapping (void)
{
  guint cases = 0;

  for (guint videos = 0; videos <= 5; videos++)
    for (guint images = 0; images <= 5; images++) {
      if (videos + images == 0 || videos + images > WR2V_MAX_REFERENCES)
        continue;
      for (guint v = 0; v <= videos; v++)
        for (guint j = 0; j <= images; j++) {
          check_one_mapping (videos, images, v, j);
          cases++;
        }
      check_out_of_range (videos, images);
    }
  g_test_message ("%u mappings", cases);
  g_assert_cmpuint (cases, >, 60);
}

/* "Video 1 greets Image 1", one video and one image: the new user's
 * prompt works under auto, as Image 1 = the image. */
static void
test_new_user_prompt (void)
{
  g_autoptr (Wr2vRequest) req = make_request (1, 1,
      "Video 1 greets Image 1", WR2V_NUMBERING_AUTO);
  g_autofree gchar *warning = wr2v_prompt_ambiguity_warning (req);
  g_autofree gchar *canonical = wr2v_prompt_canonical (req);
  g_autoptr (GArray) named = wr2v_prompt_named_references (req->prompt, req);

  g_assert_true (check (req, NULL));
  g_assert_null (warning);
  g_assert_cmpint (wr2v_prompt_reading (req, NULL), ==,
      WR2V_NUMBERING_PER_TYPE);
  g_assert_cmpstr (canonical, ==, "Video 1 greets Image 2");
  g_assert_cmpuint (named->len, ==, 2);

  wr2v_prompt_canonicalize (req);
  g_assert_cmpstr (req->prompt, ==, "Video 1 greets Image 2");
  g_assert_cmpint (req->numbering, ==, WR2V_NUMBERING_CONTINUING);
}

/* One video, two images: "Image 2" is image_0 read continuing, image_1
 * read per-type. auto reads it continuing and says so. */
static void
test_ambiguous (void)
{
  g_autoptr (Wr2vRequest) req = make_request (1, 2,
      "Video 1 holds Image 2", WR2V_NUMBERING_AUTO);
  g_autoptr (Wr2vRequest) chosen = make_request (1, 2,
      "Video 1 holds Image 2", WR2V_NUMBERING_CONTINUING);
  g_autoptr (Wr2vRequest) other = make_request (1, 2,
      "Video 1 holds Image 2", WR2V_NUMBERING_PER_TYPE);
  g_autofree gchar *warning = wr2v_prompt_ambiguity_warning (req);
  g_autofree gchar *none = wr2v_prompt_ambiguity_warning (chosen);
  g_autofree gchar *none2 = wr2v_prompt_ambiguity_warning (other);
  g_autofree gchar *ds = sent (req, "dashscope");
  g_autofree gchar *ds_other = sent (other, "dashscope");
  g_autofree gchar *h_auto = wr2v_request_hash (req, "e");
  g_autofree gchar *h_chosen = wr2v_request_hash (chosen, "e");
  g_autofree gchar *h_other = wr2v_request_hash (other, "e");
  gboolean ambiguous = FALSE;

  g_assert_true (check (req, NULL));
  g_assert_cmpint (wr2v_prompt_reading (req, &ambiguous), ==,
      WR2V_NUMBERING_CONTINUING);
  g_assert_true (ambiguous);
  g_assert_cmpstr (warning, ==, "The prompt names Image 2, which is image_0 "
      "if images continue the count after the videos, but image_1 if videos "
      "and images are each counted from 1. It was read as image_0 (images "
      "continue the count). Set reference-numbering=continuing to keep this "
      "reading, or reference-numbering=per-type for the other; either "
      "silences this warning.");
  /* choosing silences it */
  g_assert_null (none);
  g_assert_null (none2);
  /* continuing: DashScope is told Image 1 (image_0) */
  g_assert_cmpstr (ds, ==, "Video 1 holds Image 1");
  g_assert_cmpstr (ds_other, ==, "Video 1 holds Image 2");
  /* same meaning, same hash; another meaning, another job */
  g_assert_cmpstr (h_auto, ==, h_chosen);
  g_assert_cmpstr (h_auto, !=, h_other);
}

/* No image named, or no video linked: both readings mean the same. */
static void
test_not_ambiguous (void)
{
  g_autoptr (Wr2vRequest) videos_only = make_request (1, 2,
      "Video 1 dances", WR2V_NUMBERING_AUTO);
  g_autoptr (Wr2vRequest) images_only = make_request (0, 2,
      "Image 1 sits on Image 2", WR2V_NUMBERING_AUTO);
  g_autofree gchar *w1 = wr2v_prompt_ambiguity_warning (videos_only);
  g_autofree gchar *w2 = wr2v_prompt_ambiguity_warning (images_only);
  g_autofree gchar *ds = sent (images_only, "dashscope");

  g_assert_null (w1);
  g_assert_null (w2);
  g_assert_cmpstr (ds, ==, "Image 1 sits on Image 2");
}

static void
test_errors (void)
{
  g_autoptr (Wr2vRequest) cont = make_request (2, 1, "Image 1 glows",
      WR2V_NUMBERING_CONTINUING);
  g_autoptr (Wr2vRequest) per = make_request (2, 1, "Image 3 glows",
      WR2V_NUMBERING_PER_TYPE);
  g_autoptr (Wr2vRequest) both = make_request (1, 1, "Image 3 glows",
      WR2V_NUMBERING_AUTO);
  g_autoptr (Wr2vRequest) mixed = make_request (1, 2,
      "Image 1 and Image 3 glow", WR2V_NUMBERING_AUTO);
  GError *err = NULL;

  /* continuing: the message of old, word for word */
  g_assert_false (check (cont, &err));
  g_assert_cmpstr (err->message, ==, "The prompt names Image 1, which is "
      "not a linked reference. Linked: Video 1, Video 2 and Image 3 (videos "
      "are numbered first, then images continue the count). Change the "
      "prompt or link that reference.");
  g_clear_error (&err);
  g_assert_false (check (per, &err));
  g_assert_cmpstr (err->message, ==, "The prompt names Image 3, which is "
      "not a linked reference. Linked: Video 1, Video 2 and Image 1 (videos "
      "and images are each counted from 1). Change the prompt or link that "
      "reference.");
  g_clear_error (&err);
  /* auto, linked in neither reading: both listed */
  g_assert_false (check (both, &err));
  g_assert_cmpstr (err->message, ==, "The prompt names Image 3, which is "
      "not a linked reference. Linked: Video 1 and Image 2 (videos are "
      "numbered first, then images continue the count), or Video 1 and "
      "Image 1 (videos and images are each counted from 1). Change the "
      "prompt or link that reference.");
  g_clear_error (&err);
  /* auto, each name linked in one reading only */
  g_assert_false (check (mixed, &err));
  assert_says (err, "mixes the two numberings");
  assert_says (err, "Image 1 is a linked reference only if videos and "
      "images are each counted from 1, Image 3 only if images continue");
  assert_says (err, "reference-numbering");
  g_clear_error (&err);
}

/* Each engine's form, from either convention (two videos, one image). */
static void
test_engines (void)
{
  const gchar *cont = "Video 2 holds image3 while video 1 smiles";
  const gchar *per = "Video 2 holds image1 while video 1 smiles";
  const struct
  {
    const gchar *engine, *model, *want;
  } rows[] = {
    {"dashscope", NULL, per},
    {"dashscope", "wan2.7-r2v", per},
    {"dashscope", "wan2.6-r2v", cont},
    {"wavespeed", NULL, cont},
    {"preview", NULL, cont},
    {"comfyui", NULL, "reference subject 2 holds reference subject 3 "
          "while reference subject 1 smiles"},
    {"fal", NULL, "@Video2 holds @Image3 while @Video1 smiles"},
    {"replicate", NULL, per},
    {"nonesuch", NULL, cont},
  };

  for (guint k = 0; k < 2; k++) {
    g_autoptr (Wr2vRequest) req = make_request (2, 1, k ? per : cont,
        k ? WR2V_NUMBERING_PER_TYPE : WR2V_NUMBERING_AUTO);

    g_assert_true (check (req, NULL));
    for (guint i = 0; i < G_N_ELEMENTS (rows); i++) {
      g_autofree gchar *got = wr2v_prompt_sent (req, rows[i].engine,
          rows[i].model);
      const gchar *source = NULL;

      wr2v_prompt_style_for (rows[i].engine, rows[i].model, &source);
      g_assert_nonnull (source);
      g_assert_cmpstr (got, ==, rows[i].want);
    }
  }
}

/* A prompt that was valid before keeps its hash: old results and paid
 * jobs in the journal are still found. */
static void
test_hash_unchanged (void)
{
  g_autoptr (Wr2vRequest) req = make_request (2, 1,
      "Video 1 hands Image 3 to Video 2", WR2V_NUMBERING_AUTO);
  g_autofree gchar *canon = wr2v_request_canonical (req, "e");

  g_assert_nonnull (strstr (canon,
          "\"prompt\":\"Video 1 hands Image 3 to Video 2\""));
  g_assert_null (strstr (canon, "numbering"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/numbering/every-mapping", test_every_mapping);
  g_test_add_func ("/numbering/new-user-prompt", test_new_user_prompt);
  g_test_add_func ("/numbering/ambiguous", test_ambiguous);
  g_test_add_func ("/numbering/not-ambiguous", test_not_ambiguous);
  g_test_add_func ("/numbering/errors", test_errors);
  g_test_add_func ("/numbering/engines", test_engines);
  g_test_add_func ("/numbering/hash-unchanged", test_hash_unchanged);
  return g_test_run ();
}
