#include "wr2v-error.h"

G_DEFINE_QUARK (wr2v - error - quark, wr2v_error);
