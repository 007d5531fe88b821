/* wr2v-wavespeed-live.h: what engine=wavespeed asks the service before a
 * submit: the model's live request schema (cached in the store for a
 * day), the live price of the request and the account's balance.
 *
 * The built-in table (wavespeed_models in wr2v-wavespeed-live.c) stands
 * in for a schema that can't be read, with only the fields confirmed in
 * docs/engines/wavespeed.md.
 */
#pragma once

#include "wr2v-remote.h"
#include "wr2v-wavespeed-wire.h"

G_BEGIN_DECLS
/* The engine's private struct. */
    typedef struct
{
  Wr2vRemote remote;
  GMutex lock;                  /* guards what follows */
  Wr2vWavespeedRules rules;     /* of rules_model; props NULL: none yet */
  gchar *rules_model;
  gboolean rules_live;
  gint64 rules_time;            /* monotonic microseconds */
  gchar *price_key;             /* the request the live price is of */
  gdouble live_price;
  GHashTable *unknown_statuses; /* logged once each */
  gint binary_first;            /* atomic: the ticket route is missing */
} Wr2vWavespeedPriv;

void wr2v_wavespeed_priv_init (Wr2vWavespeedPriv * priv);
void wr2v_wavespeed_priv_clear (Wr2vWavespeedPriv * priv);

/* TRUE when the table prices clips of @duration seconds. */
gboolean wr2v_wavespeed_table_has_duration (guint duration);

/* The table's price of @req (USD), for the model's durations. */
gdouble wr2v_wavespeed_table_price (const Wr2vRequest * req);

/* The live price of @req when one was read, else the table's. */
gdouble wr2v_wavespeed_price (Wr2vWavespeedPriv * priv,
    const Wr2vRequest * req, const gchar * model);

/* Wr2vEngineClass.prepare: the schema (refusing a request that breaks
 * it), the uploads, then the live price against max-cost and the
 * balance. Nothing is submitted or paid for when it fails. */
gboolean wr2v_wavespeed_prepare (Wr2vEngine * engine, Wr2vJob * job,
    GError ** error);

/* The submit's body by the model's rules (live, or the table). */
gchar *wr2v_wavespeed_body (Wr2vWavespeedPriv * priv, Wr2vJob * job,
    const gchar * const *urls);

/* After a submit was refused as invalid: read the schema anew next time. */
void wr2v_wavespeed_forget_schema (Wr2vWavespeedPriv * priv, Wr2vJob * job);

G_END_DECLS
