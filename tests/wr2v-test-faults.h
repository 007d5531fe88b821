/* wr2v-test-faults.h: engine test cases as table rows. A row names a
 * fault of the engine's fake and what the job's failure must show; one
 * function runs every row, so that a test file lists its faults instead
 * of repeating the same run-and-check function for each. Rows run on the
 * program's default fixture (wr2v-test-engine.h). */
#pragma once

#include "wr2v-test-engine.h"

G_BEGIN_DECLS

/* A route of the fake and how often the job asked it. */
typedef struct
{
  const gchar *route;
  gint64 count;
} Wr2vRouteCount;

typedef struct
{
  const gchar *path;            /* "/comfyui/prompt-400" */
  const gchar *fault;           /* the fake's control (JSON) */
  /* the request is one video given by uri ("Video 1 waves"): no upload */
  gboolean uri_only;
  gint code;                    /* the WR2V_ERROR code the job fails with */
  const gchar *says[5];         /* what its message holds */
  const gchar *hides;           /* a word it must not hold, or NULL */
  Wr2vRouteCount counts[3];     /* ended by a NULL route */
  /* the job is over: the journal no longer holds it */
  gboolean journal_forgotten;
} Wr2vFailCase;

/* Adds a test of the default fixture for each of the @n rows @cases. */
void wr2v_fail_cases_add (const Wr2vFailCase * cases, guint n);

/* A fault the job gets over: it ends with the clip, submitted once
 * (wr2v_fx_expect_success), having asked each route so often. */
typedef struct
{
  const gchar *path;            /* "/dashscope/policy-503" */
  const gchar *fault;           /* the fake's control (JSON) */
  Wr2vRouteCount counts[3];     /* ended by a NULL route */
} Wr2vRecoveryCase;

/* Adds a test of the default fixture for each of the @n rows @cases. */
void wr2v_recovery_cases_add (const Wr2vRecoveryCase * cases, guint n);

G_END_DECLS
