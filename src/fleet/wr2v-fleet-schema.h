/* wr2v-fleet-schema.h: the fleet store's schema, one migration per
 * version; wr2v_fleet_open() applies those the database lacks, under an
 * advisory lock, and records each in wr2v_schema. Documented in
 * docs/fleet.md: change both together, and only by adding a version. */
#pragma once

/* version 1 */
#define WR2V_FLEET_SCHEMA_V1 \
  "CREATE TABLE wr2v_clips (" \
  "  sha256 text PRIMARY KEY," \
  "  oid oid NOT NULL," \
  "  size bigint NOT NULL," \
  "  created timestamptz NOT NULL DEFAULT now());" \
  "CREATE TABLE wr2v_jobs (" \
  "  hash text PRIMARY KEY," \
  "  engine text NOT NULL," \
  "  state text NOT NULL CHECK (state IN" \
  "    ('claimed', 'submitting', 'submitted', 'done', 'failed'))," \
  "  job_id text," \
  "  owner text NOT NULL," \
  "  lease_until timestamptz NOT NULL," \
  "  clip_sha256 text REFERENCES wr2v_clips," \
  "  source_url text," \
  "  error text," \
  "  created timestamptz NOT NULL DEFAULT now()," \
  "  updated timestamptz NOT NULL DEFAULT now());" \
  "CREATE INDEX wr2v_jobs_state ON wr2v_jobs (state);" \
  "CREATE TABLE wr2v_ledger (" \
  "  id bigserial PRIMARY KEY," \
  "  hash text NOT NULL," \
  "  engine text NOT NULL," \
  "  reserved numeric(12,4) NOT NULL," \
  "  actual numeric(12,4)," \
  "  state text NOT NULL CHECK (state IN" \
  "    ('reserved', 'settled', 'released'))," \
  "  at timestamptz NOT NULL DEFAULT now());" \
  "CREATE INDEX wr2v_ledger_at ON wr2v_ledger (at);" \
  "CREATE INDEX wr2v_ledger_hash ON wr2v_ledger (hash);"

/* version 2: a clip may be in the S3 bucket (WANR2V_S3) instead of a
 * large object */
#define WR2V_FLEET_SCHEMA_V2 \
  "ALTER TABLE wr2v_clips ALTER COLUMN oid DROP NOT NULL," \
  "  ADD COLUMN bucket_key text," \
  "  ADD CONSTRAINT wr2v_clips_held CHECK" \
  "    (oid IS NOT NULL OR bucket_key IS NOT NULL);"

#define WR2V_FLEET_MIGRATIONS { WR2V_FLEET_SCHEMA_V1, WR2V_FLEET_SCHEMA_V2 }
