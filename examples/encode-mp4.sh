#!/usr/bin/env bash
# Generate a clip and encode it to an MP4 for the web: H.264 (high
# profile, I420, a key frame every second), index at the front
# (faststart) so that browsers start playing before the download ends.
#
#   examples/encode-mp4.sh [OUT.mp4]
#
# Two reference videos and one image come from test sources here; see
# two-characters-and-a-prop.sh for files.
#
# Environment: WANR2V_ENGINE (default auto: a hosted engine when its API
# key is set, else the offline preview), WANR2V_DURATION (seconds, default
# 5), WANR2V_ASPECT_RATIO (16:9, 9:16, 1:1, 4:3 or 3:4; default: the
# element's), WANR2V_RESOLUTION (720p or 1080p, default 720p), WANR2V_SEED,
# WANR2V_CACHE_DIR (default: the element's own cache directory),
# WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/encode-mp4.mp4}"
prompt="${WANR2V_PROMPT:-Video 1 and Video 2 race toy boats across a pond while Image 3 floats by}"
props=(engine="${WANR2V_ENGINE:-auto}" duration="${WANR2V_DURATION:-5}"
  resolution="${WANR2V_RESOLUTION:-720p}")
[ -n "${WANR2V_ASPECT_RATIO:-}" ] && props+=(aspect-ratio="$WANR2V_ASPECT_RATIO")
[ -n "${WANR2V_SEED:-}" ] && props+=(seed="$WANR2V_SEED")
props+=("${cache[@]}")

gst-launch-1.0 \
  wanr2v name=g "${props[@]}" prompt="$prompt" \
  ! videoconvert ! video/x-raw,format=I420 \
  ! x264enc bitrate=4000 key-int-max=30 speed-preset=medium \
  ! video/x-h264,profile=high ! h264parse \
  ! mp4mux faststart=true ! filesink location="$out" \
  videotestsrc num-buffers=60 pattern=ball ! video/x-raw,width=640,height=360 ! g.video_0 \
  videotestsrc num-buffers=60 pattern=smpte ! video/x-raw,width=640,height=360 ! g.video_1 \
  videotestsrc num-buffers=1 pattern=pinwheel ! pngenc ! g.image_0

gst-discoverer-1.0 "$out" | grep -E 'Duration|video #|Width|Height|Frame rate' || true
echo "Wrote $out"
