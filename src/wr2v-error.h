/* wr2v-error.h: the core's error domain.
 *
 * The GStreamer face maps each code to a GST_ELEMENT_ERROR domain/code, so
 * the code says what the user has to change, not where the failure happened.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WR2V_ERROR (wr2v_error_quark ())
GQuark wr2v_error_quark (void);

typedef enum
{
  WR2V_ERROR_INVALID_REQUEST,   /* the request itself must change */
  WR2V_ERROR_UNSUPPORTED,       /* the engine can't do what was asked */
  WR2V_ERROR_NO_CREDENTIALS,    /* no API key */
  WR2V_ERROR_NOT_AUTHORIZED,    /* 401/403 */
  WR2V_ERROR_NOT_FOUND,         /* 404, unknown job */
  WR2V_ERROR_STORE,             /* cache / result location not usable */
  WR2V_ERROR_NETWORK,           /* could not reach the service */
  WR2V_ERROR_PROTOCOL,          /* the service answered something we can't use */
  WR2V_ERROR_JOB_FAILED,        /* the job ran and failed (moderation, ...) */
  WR2V_ERROR_TIMEOUT,           /* request-timeout reached */
  WR2V_ERROR_MAYBE_SUBMITTED,   /* a submit may have created a paid job */
  WR2V_ERROR_COST,              /* above max-cost */
  WR2V_ERROR_BAD_RESULT,        /* the delivered file is not a playable clip */
  WR2V_ERROR_INTERNAL,          /* a GStreamer pipeline inside failed */
} Wr2vErrorCode;

G_END_DECLS
