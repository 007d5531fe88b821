/* plugin.c: registers the wanr2v plugin's elements. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwanr2v.h"
#include "gstwanr2vgen.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (wanr2vgen, plugin);
  ret |= GST_ELEMENT_REGISTER (wanr2v, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, wanr2v,
    "Wan reference-to-video generation (hosted, local GPU and offline "
    "preview engines)", plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME,
    GST_PACKAGE_ORIGIN)
