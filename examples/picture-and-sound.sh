#!/usr/bin/env bash
# Generate a clip with its soundtrack and write both to an MP4: the
# picture from wanr2v's src pad (H.264), the sound from its audio pad
# (AAC). Wan 2.6/2.7 hosts generate sound with the picture (dialogue,
# effects, ambience); the offline preview engine gives its animatic a tone
# and a cue per reference; a clip without a soundtrack gets silence of its
# length (see the audio property in docs/element.md).
#
#   examples/picture-and-sound.sh [OUT.mp4]
#
# Environment: WANR2V_ENGINE (default auto: a hosted engine when its API
# key is set, else the offline preview), WANR2V_DURATION (seconds, default
# 5), WANR2V_CACHE_DIR (default: the element's own cache directory),
# WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# avenc_aac: gstreamer1.0-libav; voaacenc (gstreamer1.0-plugins-bad) also works
aac=avenc_aac
gst-inspect-1.0 "$aac" >/dev/null 2>&1 || aac=voaacenc

out="${1:-$PWD/picture-and-sound.mp4}"
prompt="${WANR2V_PROMPT:-Video 1 turns to the camera and says hello}"
props=(engine="${WANR2V_ENGINE:-auto}" duration="${WANR2V_DURATION:-5}")
props+=("${cache[@]}")

# -e: Ctrl-C still finishes a playable file
gst-launch-1.0 -e \
  wanr2v name=g "${props[@]}" prompt="$prompt" \
  g. ! videoconvert ! x264enc ! mux. \
  g.audio ! audioconvert ! "$aac" ! mux. \
  mp4mux name=mux ! filesink location="$out" \
  videotestsrc num-buffers=60 pattern=ball ! video/x-raw,width=640,height=360 ! g.video_0

gst-discoverer-1.0 "$out" | grep -E 'Duration|video #|audio #' || true
echo "Wrote $out"
