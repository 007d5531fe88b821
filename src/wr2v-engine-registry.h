/* wr2v-engine-registry.h: the engines by name.
 *
 * The list of engines is src/engines/meson.build, one line per engine
 * folder; the build turns it into wr2v-engine-list.h. Everything that
 * enumerates engines (the `engine` property's values, engine=auto, the
 * constructors) reads it from here, so that a new engine is one folder
 * and one line. */
#pragma once

#include "wr2v-engine.h"

G_BEGIN_DECLS

/* How many engines there are, and the class of each, in registry order. */
guint wr2v_engine_registry_size (void);
const Wr2vEngineClass *wr2v_engine_registry_class (guint index);

/* Engines by name: "preview", "wavespeed", ... NULL and an error when the
 * name is unknown. The API key comes from @settings, else from the
 * engine's environment variable. */
Wr2vEngine *wr2v_engine_new (const gchar * name,
    const Wr2vEngineSettings * settings, GError ** error);

/* The engine "auto" stands for: the first engine in registry order whose
 * key variable is set (an api-key with no engine named goes to the first
 * engine that takes a key), else the first keyless local engine never:
 * "preview". @why says which and why. */
const gchar *wr2v_engine_pick_auto (const Wr2vEngineSettings * settings,
    const gchar ** why);

/* One constructor per engine folder. */
#define WR2V_ENGINE(name) Wr2vEngine *wr2v_engine_##name##_new (void);
#include "wr2v-engine-list.h"
WR2V_ENGINE_LIST
#undef WR2V_ENGINE

G_END_DECLS
