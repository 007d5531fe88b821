#!/usr/bin/env bash
# A live camera as a reference: the first REFERENCE-DURATION seconds of
# /dev/video0 are taken, then the camera's branch ends by itself and the
# clip is generated and encoded to MP4.
#
#   examples/live-camera-reference.sh [OUT.mp4]
#
# Without a camera (no readable /dev/video0, or WANR2V_CAMERA=none) a live
# test source stands in for it: videotestsrc is-live=true.
#
# Environment: WANR2V_CAMERA (device, default /dev/video0; "none" for the
# test source), WANR2V_REFERENCE_DURATION (seconds taken from the camera,
# default 3), WANR2V_ENGINE (default auto), WANR2V_DURATION (default 5),
# WANR2V_CACHE_DIR (default: the element's own), WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/live-camera-reference.mp4}"
engine="${WANR2V_ENGINE:-auto}"
duration="${WANR2V_DURATION:-5}"
refdur="${WANR2V_REFERENCE_DURATION:-3}"
camera="${WANR2V_CAMERA:-/dev/video0}"
prompt="${WANR2V_PROMPT:-Video 1 waves from the deck of a sailing boat}"

if [ "$camera" != none ] && [ -r "$camera" ]; then
  echo "Reference: camera $camera, first $refdur s"
  source=(v4l2src device="$camera")
else
  echo "Reference: no camera, a live test source stands in (first $refdur s)"
  # shellcheck disable=SC2054  # the commas are in caps, not between elements
  source=(videotestsrc is-live=true pattern=ball
    '!' video/x-raw,width=640,height=480,framerate=30/1)
fi

# live=false: the clip alone goes into the file (a live reference left
# to itself would turn on live mode: a placeholder until the clip)
gst-launch-1.0 \
  wanr2v name=g engine="$engine" duration="$duration" "${cache[@]}" \
    live=false reference-duration="$refdur" prompt="$prompt" \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$out" \
  "${source[@]}" ! g.video_0

echo "Wrote $out"
