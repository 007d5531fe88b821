#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine: installs what is missing,
# builds the plugin, and generates a clip from two reference videos and one
# image through the offline preview engine. Writes quickstart.mp4 (or $1).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$PWD/quickstart.mp4}"

bash "$top/.ci/install-deps"
bash "$top/.ci/build"
export GST_PLUGIN_PATH="$top/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

gst-launch-1.0 \
  wanr2v name=gen engine=preview duration=5 \
    prompt="Video 1 hands Image 3 to Video 2 in a sunny park" \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$out" \
  videotestsrc num-buffers=90 pattern=ball ! video/x-raw,width=640,height=360 ! gen.video_0 \
  videotestsrc num-buffers=90 pattern=smpte ! video/x-raw,width=640,height=360 ! gen.video_1 \
  videotestsrc num-buffers=1 pattern=pinwheel ! pngenc ! gen.image_0

gst-discoverer-1.0 "$out"
echo "Wrote $out"
