/* wr2v-test-faults.c: engine test cases as table rows (see
 * wr2v-test-faults.h). */
#include "config.h"

#include <string.h>

#include "wr2v-error.h"
#include "wr2v-test-faults.h"

static void
assert_counts (Wr2vFixture * fx, const Wr2vRouteCount * counts, guint n)
{
  guint i;

  for (i = 0; i < n && counts[i].route; i++)
    g_assert_cmpint (wr2v_fx_count (fx, counts[i].route), ==, counts[i].count);
}

static void
run_fail_case (Wr2vFixture * fx, gconstpointer data)
{
  const Wr2vFailCase *c = data;
  Wr2vRun r;
  guint i;

  if (c->uri_only)
    fx->req = wr2v_test_uri_request ("Video 1 waves", FALSE);
  wr2v_fx_go (fx, c->fault, &r);
  g_assert_error (r.error, WR2V_ERROR, c->code);
  for (i = 0; i < G_N_ELEMENTS (c->says) && c->says[i]; i++)
    wr2v_assert_says (r.error, c->says[i]);
  if (c->hides)
    g_assert_null (strstr (r.error->message, c->hides));
  assert_counts (fx, c->counts, G_N_ELEMENTS (c->counts));
  if (c->journal_forgotten)
    wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

void
wr2v_fail_cases_add (const Wr2vFailCase * cases, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    WR2V_FIXTURE_ADD (cases[i].path, &cases[i], run_fail_case);
}

static void
run_recovery_case (Wr2vFixture * fx, gconstpointer data)
{
  const Wr2vRecoveryCase *c = data;

  wr2v_fx_expect_success (fx, c->fault);
  assert_counts (fx, c->counts, G_N_ELEMENTS (c->counts));
}

void
wr2v_recovery_cases_add (const Wr2vRecoveryCase * cases, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    WR2V_FIXTURE_ADD (cases[i].path, &cases[i], run_recovery_case);
}
