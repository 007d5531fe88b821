/* placeholder until the preview renderer lands (owned by its own change) */
#include "wr2v-engine.h"
#include "wr2v-error.h"
static const Wr2vEngineClass preview_class = { .name = "preview" };
Wr2vEngine *
wr2v_engine_preview_new (void)
{
  Wr2vEngine *e = g_new0 (Wr2vEngine, 1);
  e->klass = &preview_class;
  return e;
}
