/* wr2v-test-pipeline.h: plays a pipeline description to its end, for the
 * tests that make their inputs with GStreamer (test-references,
 * test-preview-labels). */
#pragma once

#include <gst/gst.h>

#include "wr2v-test-time.h"

/* Plays @description to EOS; fails the test on an error or after 30 s. */
static inline void
wr2v_test_run_pipeline (const gchar * description)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (description, &err);
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error (err);
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, WR2V_TEST_TIME (30 * GST_SECOND),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    g_assert_no_error (err);
  }
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}
