/* wr2v-comfyui-frames.h: the reference image ComfyUI gets, made with
 * GStreamer elements.
 *
 * The core WanVaceToVideo node takes ONE reference_image, so all linked
 * references are composed into one image: the first frame of each (the
 * image itself for an image reference) is fitted into its own column of a
 * white canvas of the output size, left to right in prompt order, by
 * GStreamer's compositor, and encoded to PNG. The canvas has the output's
 * size because WanVaceToVideo scales the reference to it with a centre
 * crop. Every wait is bounded and takes the job's cancellable.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "wr2v-request.h"

G_BEGIN_DECLS

/* The first frame of a reference file (its image for an image), RGBA with
 * square pixels. */
GstSample *wr2v_comfyui_first_frame (const Wr2vReference * ref,
    GCancellable * cancellable, GError ** error);

/* Fits @frames into @n equal columns of a white @width x @height canvas
 * and writes it as PNG to @out_path: appsrc per frame ! compositor !
 * pngenc. */
gboolean wr2v_comfyui_compose_png (GstSample ** frames, guint n, gint width,
    gint height, const gchar * out_path, GCancellable * cancellable,
    GError ** error);

G_END_DECLS
