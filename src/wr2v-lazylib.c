/* wr2v-lazylib.c: a shared library opened at its first use, see
 * wr2v-lazylib.h. */
#include "wr2v-lazylib.h"

#include <dlfcn.h>

#include "wr2v-error.h"

gboolean
wr2v_lazylib_is_loaded (const gchar * soname)
{
  /* RTLD_NOLOAD: a handle only if something mapped it already */
  void *handle = dlopen (soname, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);

  if (!handle)
    return FALSE;
  dlclose (handle);
  return TRUE;
}

gboolean
wr2v_lazylib_symbol (GModule * module, const gchar * name, gpointer * slot,
    GError ** error)
{
  if (g_module_symbol (module, name, slot) && *slot)
    return TRUE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
      "%s has no function %s", g_module_name (module), name);
  return FALSE;
}

static GError *
load (Wr2vLazyLib * lib)
{
  GError *err = NULL;
  GModule *module;

  /* e.g. libsoup 3 aborts a process that has libsoup 2 */
  if (lib->conflicts_with && wr2v_lazylib_is_loaded (lib->conflicts_with))
    return g_error_new (WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s needs %s, which can't be loaded into a process that has %s "
        "(another element of the pipeline uses it): run this pipeline in a "
        "process of its own", lib->needed_for, lib->soname,
        lib->conflicts_with);
  module = g_module_open (lib->soname, G_MODULE_BIND_LAZY |
      G_MODULE_BIND_LOCAL);
  if (!module)
    return g_error_new (WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s needs %s, which can't be loaded (%s): install Debian's package "
        "%s", lib->needed_for, lib->soname, g_module_error (), lib->package);
  if (!lib->resolve (module, &err)) {
    g_prefix_error (&err, "%s needs %s, as in Debian's package %s: ",
        lib->needed_for, lib->soname, lib->package);
    g_module_close (module);
    return err;
  }
  /* its functions are now in use anywhere: never unloaded */
  g_module_make_resident (module);
  return NULL;
}

gboolean
wr2v_lazylib_open (Wr2vLazyLib * lib, GError ** error)
{
  if (g_once_init_enter (&lib->once)) {
    lib->failure = load (lib);
    g_once_init_leave (&lib->once, 1);
  }
  if (lib->failure) {
    g_propagate_error (error, g_error_copy (lib->failure));
    return FALSE;
  }
  return TRUE;
}
