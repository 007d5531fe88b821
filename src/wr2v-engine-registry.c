/* wr2v-engine-registry.c: engines by name, from the build's list. */
#include "wr2v-engine-registry.h"
#include "wr2v-error.h"

typedef Wr2vEngine *(*EngineConstructor) (void);

static const EngineConstructor constructors[] = {
#define WR2V_ENGINE(name) wr2v_engine_##name##_new,
  WR2V_ENGINE_LIST
#undef WR2V_ENGINE
};

/* One instance of each engine, made once, to read its class: engines
 * define their class statically and give it out only through an
 * instance. */
static const Wr2vEngineClass *
class_at (guint index)
{
  static const Wr2vEngineClass *classes[G_N_ELEMENTS (constructors)];
  static gsize once;

  if (g_once_init_enter (&once)) {
    for (guint i = 0; i < G_N_ELEMENTS (constructors); i++) {
      Wr2vEngine *engine = constructors[i] ();

      classes[i] = engine->klass;
      wr2v_engine_free (engine);
    }
    g_once_init_leave (&once, 1);
  }
  return classes[index];
}

guint
wr2v_engine_registry_size (void)
{
  return G_N_ELEMENTS (constructors);
}

const Wr2vEngineClass *
wr2v_engine_registry_class (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (constructors), NULL);
  return class_at (index);
}

static gint
find_engine (const gchar * name)
{
  for (guint i = 0; i < G_N_ELEMENTS (constructors); i++) {
    if (g_strcmp0 (class_at (i)->name, name) == 0)
      return (gint) i;
  }
  return -1;
}

Wr2vEngine *
wr2v_engine_new (const gchar * name, const Wr2vEngineSettings * settings,
    GError ** error)
{
  gint index = find_engine (name);
  Wr2vEngine *engine;
  const gchar *var;

  if (index < 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "Unknown engine \"%s\"", name ? name : "(null)");
    return NULL;
  }
  engine = constructors[index] ();
  var = engine->klass->key_variable;
  if (settings)
    wr2v_engine_settings_copy (&engine->settings, settings);
  /* the key: the property, else the engine's environment variable */
  if ((!engine->settings.api_key || !*engine->settings.api_key) && var
      && g_getenv (var) && *g_getenv (var)) {
    g_free (engine->settings.api_key);
    engine->settings.api_key = g_strdup (g_getenv (var));
  }
  if (!engine->settings.request_timeout_s)
    engine->settings.request_timeout_s = engine->klass->default_timeout_s;
  return engine;
}

const gchar *
wr2v_engine_pick_auto (const Wr2vEngineSettings * settings, const gchar ** why)
{
  const gchar *key = settings ? settings->api_key : NULL;

  for (guint i = 0; i < G_N_ELEMENTS (constructors); i++) {
    const Wr2vEngineClass *klass = class_at (i);
    const gchar *value;

    if (!klass->key_variable)
      continue;
    value = g_getenv (klass->key_variable);
    /* The first engine that takes a key also takes an api-key property
     * set with no engine named: it is the first target. */
    if ((key && *key) || (value && *value)) {
      g_autofree gchar *text = g_strdup_printf ("auto: %s is set",
          key && *key ? "the api-key property" : klass->key_variable);

      /* a handful of distinct strings, kept for the process's life */
      *why = g_intern_string (text);
      return klass->name;
    }
    key = NULL;
  }
  *why = "auto: no API key is set, so the offline preview engine renders "
      "an animatic";
  return "preview";
}
