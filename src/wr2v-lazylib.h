/* wr2v-lazylib.h: a shared library opened at its first use.
 *
 * libpq (the fleet store) and libsoup 3 (ComfyUI's websocket) serve few
 * pipelines. Linked, they would be mapped into every process that loads
 * the plugin, and libsoup 3 would abort any process that also has
 * libsoup 2 (from another element). Like gst-plugins-good's soup loader,
 * the plugin compiles against their headers and resolves the functions it
 * calls, by name, the first time they are needed. The library then stays
 * loaded for the process's life.
 *
 * A user of a library lists its functions once in an X-macro, keeps them
 * in a struct of pointers with the functions' own names and types, and
 * defines the function that loads them:
 *
 *   #define WR2V_PQ_FUNCTIONS(F) F (PQexec) F (PQclear)
 *   typedef struct { WR2V_PQ_FUNCTIONS (WR2V_LAZYLIB_SLOT) } Wr2vPq;
 *   const Wr2vPq *wr2v_pq (GError ** error);
 *
 *   WR2V_LAZYLIB_DEFINE (Wr2vPq, wr2v_pq, WR2V_PQ_FUNCTIONS,
 *       .soname = "libpq.so.5", .package = "libpq5", .needed_for = "...");
 *
 * then calls pq->PQexec (...). The names are the struct's, not global
 * symbols, so nothing here can interpose on the library's own calls.
 */
#pragma once

#include <gmodule.h>

G_BEGIN_DECLS
/* One field of the struct of pointers: `PQexec` becomes a pointer of
 * PQexec's type named PQexec. */
#define WR2V_LAZYLIB_SLOT(function) __typeof__ (function) *function;
/* Resolves every function into the struct; FALSE with @error naming the
 * first one missing (WR2V_LAZYLIB_DEFINE writes it). */
typedef gboolean (*Wr2vLazyLibResolve) (GModule * module, GError ** error);

typedef struct
{
  const gchar *soname;          /* "libpq.so.5" */
  const gchar *package;         /* Debian's: "libpq5" */
  const gchar *needed_for;      /* "the fleet store (the store property)" */
  /* a library that must not be in the process with this one, or NULL */
  const gchar *conflicts_with;
  Wr2vLazyLibResolve resolve;
  /* private: set once, under g_once */
  gsize once;
  GError *failure;
} Wr2vLazyLib;

/* Opens @lib and resolves its functions the first time; every later call
 * returns the first one's outcome. FALSE with @error (WR2V_ERROR,
 * WR2V_ERROR_UNSUPPORTED: which library, for what, which package to
 * install) when the library or one of its functions can't be found.
 * Thread-safe. */
gboolean wr2v_lazylib_open (Wr2vLazyLib * lib, GError ** error);

/* For a resolve function: looks up @name in @module into *@slot. */
gboolean wr2v_lazylib_symbol (GModule * module, const gchar * name,
    gpointer * slot, GError ** error);

/* Defines `const Type *getter (GError ** error)`: the table of FUNCTIONS
 * (an X-macro) of the library that the Wr2vLazyLib fields after it
 * describe, or NULL with @error (see wr2v_lazylib_open()). */
#define WR2V_LAZYLIB_DEFINE(Type, getter, FUNCTIONS, ...) \
  static Type getter##_table; \
  static gboolean \
  getter##_resolve (GModule * module, GError ** error) \
  { \
    Type *table = &getter##_table; \
    return TRUE FUNCTIONS (WR2V_LAZYLIB_RESOLVE_ONE); \
  } \
  static Wr2vLazyLib getter##_library = { __VA_ARGS__, \
    .resolve = getter##_resolve }; \
  const Type * \
  getter (GError ** error) \
  { \
    return wr2v_lazylib_open (&getter##_library, error) ? \
        &getter##_table : NULL; \
  }
#define WR2V_LAZYLIB_RESOLVE_ONE(function) \
  && wr2v_lazylib_symbol (module, #function, (gpointer *) &table->function, \
      error)

/* Whether @soname is already mapped into this process (the library loads
 * nothing). */
gboolean wr2v_lazylib_is_loaded (const gchar * soname);

G_END_DECLS
