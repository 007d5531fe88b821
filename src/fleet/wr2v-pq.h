/* wr2v-pq.h: libpq, loaded when a fleet store is first used
 * (wr2v-lazylib.h says why).
 *
 * The fleet calls libpq's functions through the struct wr2v_pq() returns:
 * pq->PQexec (conn, sql). A function it starts to use is added to
 * WR2V_PQ_FUNCTIONS. */
#pragma once

#include <libpq-fe.h>

#include "wr2v-lazylib.h"

G_BEGIN_DECLS
#define WR2V_PQ_FUNCTIONS(F) \
  F (PQclear) F (PQcmdTuples) F (PQconnectdbParams) F (PQconninfoFree) \
  F (PQconninfoParse) F (PQconsumeInput) F (PQerrorMessage) F (PQexec) \
  F (PQexecParams) F (PQfinish) F (PQfreemem) F (PQgetisnull) \
  F (PQgetvalue) F (PQnotifies) F (PQntuples) F (PQresultStatus) \
  F (PQsetNoticeProcessor) F (PQsocket) F (PQstatus) F (PQtransactionStatus) \
  F (lo_close) F (lo_creat) F (lo_open) F (lo_read) F (lo_unlink) F (lo_write)
/* *INDENT-OFF* */
typedef struct
{
  WR2V_PQ_FUNCTIONS (WR2V_LAZYLIB_SLOT)
} Wr2vPq;
/* *INDENT-ON* */
/* libpq's functions, or NULL with @error (WR2V_ERROR_UNSUPPORTED) when
 * libpq can't be loaded. Thread-safe; loads once per process. */
const Wr2vPq *wr2v_pq (GError ** error);

G_END_DECLS
