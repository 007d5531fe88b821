/* placeholder until the wavespeed renderer lands (owned by its own change) */
#include "wr2v-engine.h"
#include "wr2v-error.h"
static const Wr2vEngineClass wavespeed_class = { .name = "wavespeed" };
Wr2vEngine *
wr2v_engine_wavespeed_new (void)
{
  Wr2vEngine *e = g_new0 (Wr2vEngine, 1);
  e->klass = &wavespeed_class;
  return e;
}
