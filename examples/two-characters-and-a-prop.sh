#!/usr/bin/env bash
# Two characters from MP4 files plus a prop image: the files go into the
# element as they are (no decode, no re-encode).
#
#   examples/two-characters-and-a-prop.sh [OUT.mp4 [CHAR1.mp4 CHAR2.mp4 PROP.png]]
#
# Without input files, it first makes three stand-ins in a temporary
# directory (two short test videos and a PNG). Prompt numbering: video_0 is
# "Video 1", video_1 is "Video 2", image_0 continues the count: "Image 3".
#
# Environment: WANR2V_ENGINE (default auto: a hosted engine when its API
# key is set, else the offline preview), WANR2V_DURATION (seconds, default
# 5), WANR2V_CACHE_DIR (default: the element's own cache directory),
# WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/two-characters-and-a-prop.mp4}"
engine="${WANR2V_ENGINE:-auto}"
duration="${WANR2V_DURATION:-5}"
prompt="${WANR2V_PROMPT:-Video 1 hands Image 3 to Video 2 on a busy market street}"

if [ $# -ge 4 ]; then
  char1="$2" char2="$3" prop="$4"
else
  inputs="$(mktemp -d)"
  trap 'rm -rf "$inputs"' EXIT
  char1="$inputs/char1.mp4" char2="$inputs/char2.mp4" prop="$inputs/prop.png"
  echo "Making stand-in inputs in $inputs"
  sample_video "$char1" foreground-color=0xffffa020 background-color=0xff203050
  sample_video "$char2" motion=sweep foreground-color=0xff40e0ff \
    background-color=0xff502030
  gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=pinwheel \
    ! video/x-raw,width=256,height=256 ! pngenc ! filesink location="$prop"
fi

gst-launch-1.0 \
  wanr2v name=g engine="$engine" duration="$duration" "${cache[@]}" \
    prompt="$prompt" \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$out" \
  filesrc location="$char1" ! g.video_0 \
  filesrc location="$char2" ! g.video_1 \
  filesrc location="$prop" ! g.image_0

echo "Wrote $out"
