#!/usr/bin/env bash
# A storyboard rendered to one MP4: the shots of examples/storyboard.txt
# (or the file given second), each its own job (independent shots run
# together; a continuing shot starts from the previous shot's last
# frame), joined into one continuous clip with picture and sound.
#
#   examples/storyboard.sh [OUT.mp4] [STORYBOARD]
#
# result-location keeps the joined clip as delivered (no re-encode); the
# pipeline also decodes it, as any wanr2v clip, here into an MP4 of its
# own encode to show that the pads carry the whole storyboard.
#
# Environment: WANR2V_ENGINE (default preview: offline; a hosted engine
# needs its key and takes a first frame for continue=true: dashscope),
# WANR2V_CACHE_DIR (default: the element's own).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/storyboard.mp4}"
board="${2:-$top/examples/storyboard.txt}"
engine="${WANR2V_ENGINE:-preview}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

sample_video "$tmp/walker.mp4"

# -m: each shot's phase (wanr2v/shot) and the joined clip (wanr2v/storyboard)
gst-launch-1.0 -m -e \
  wanr2v name=g engine="$engine" "${cache[@]}" storyboard="$board" \
    result-location="$out" \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$tmp/decoded.mp4" \
  filesrc location="$tmp/walker.mp4" ! g.video_0 \
  2>&1 | grep -E '^ERROR|wanr2v/(engine|cost|shot|storyboard),' |
  sed -e 's/^Got message #[0-9]* from element "[a-z0-9]*" (element): //'
[ -s "$out" ] || { echo "no storyboard clip written" >&2; exit 1; }
gst-discoverer-1.0 "$out" | grep -E 'Duration|video #|audio #'
echo "Wrote $out"
