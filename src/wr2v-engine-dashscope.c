/* placeholder until the dashscope engine lands (owned by its own change) */
#include "wr2v-engine.h"
static const Wr2vEngineClass dashscope_class = { .name = "dashscope" };
Wr2vEngine *
wr2v_engine_dashscope_new (void)
{
  Wr2vEngine *e = g_new0 (Wr2vEngine, 1);
  e->klass = &dashscope_class;
  return e;
}
