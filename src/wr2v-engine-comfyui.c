/* placeholder until the comfyui engine lands (owned by its own change) */
#include "wr2v-engine.h"
static const Wr2vEngineClass comfyui_class = { .name = "comfyui" };
Wr2vEngine *
wr2v_engine_comfyui_new (void)
{
  Wr2vEngine *e = g_new0 (Wr2vEngine, 1);
  e->klass = &comfyui_class;
  return e;
}
