/* fuzz-store.c: the result store's record readers, results/<hash>.json
 * and journal/<hash>.json, as they would read a damaged or planted file
 * (the same bytes are also tried with an explicit length and as a C
 * string, the two ways the store calls them). */
#include "fuzz-common.h"
#include "wr2v-store.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  gchar *s = fuzz_strndup (data, size);
  Wr2vResultMeta *meta;
  Wr2vJournalEntry *entry;
  GError *err = NULL;

  meta = wr2v_result_meta_parse (s, size, &err);
  g_assert ((meta == NULL) == (err != NULL));
  if (meta) {
    fuzz_touch (meta->engine);
    fuzz_touch (meta->job_id);
    fuzz_touch (meta->source_url);
  }
  g_clear_error (&err);
  wr2v_result_meta_free (meta);

  entry = wr2v_journal_entry_parse (s, size, &err);
  g_assert ((entry == NULL) == (err != NULL));
  if (entry) {
    /* "submitting" (no job id) and "submitted" are the only states */
    g_assert (entry->job_id == NULL || entry->job_id[0] != '\0');
    fuzz_touch (entry->engine);
  }
  g_clear_error (&err);
  wr2v_journal_entry_free (entry);

  entry = wr2v_journal_entry_parse (s, -1, NULL);
  wr2v_journal_entry_free (entry);
  g_free (s);
  return 0;
}
