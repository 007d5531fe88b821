#!/usr/bin/env bash
# Generate a clip and package it for HTTP Live Streaming with hlssink2:
# 2-second MPEG-TS segments and a VOD playlist in one directory.
#
#   examples/hls.sh [OUT-DIR]
#
# Serve the directory with any web server, e.g.
#   (cd OUT-DIR && python3 -m http.server 8080)
# and open http://localhost:8080/playlist.m3u8 in a player (ffplay, VLC,
# Safari, or gst-play-1.0).
#
# Environment: WANR2V_ENGINE (default auto: a hosted engine when its API
# key is set, else the offline preview), WANR2V_DURATION (seconds, default
# 5), WANR2V_CACHE_DIR (default: the element's own), WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir="${1:-$PWD/hls}"
engine="${WANR2V_ENGINE:-auto}"
duration="${WANR2V_DURATION:-5}"
prompt="${WANR2V_PROMPT:-Video 1 walks Image 2 along a windy beach at sunset}"
mkdir -p "$dir"

# key-int-max=60: a key frame every 2 s at 30 fps, where hlssink2 may cut.
# playlist-length=0 and max-files=0 keep every segment in the playlist
# (video on demand); hlssink2 ends it with #EXT-X-ENDLIST at EOS.
playlist="$dir/playlist.m3u8"
rm -f "$playlist"
gst-launch-1.0 \
  wanr2v name=g engine="$engine" duration="$duration" "${cache[@]}" \
    prompt="$prompt" \
  ! videoconvert ! video/x-raw,format=I420 \
  ! x264enc key-int-max=60 ! h264parse \
  ! hlssink2 target-duration=2 playlist-length=0 max-files=0 \
      location="$dir/segment%05d.ts" playlist-location="$playlist" \
  videotestsrc num-buffers=60 pattern=ball ! video/x-raw,width=640,height=360 ! g.video_0 \
  videotestsrc num-buffers=1 pattern=pinwheel ! pngenc ! g.image_0 &
pid=$!

# GStreamer 1.22's hlssink2 sometimes finishes the playlist (#EXT-X-ENDLIST)
# but never posts EOS, and gst-launch-1.0 then waits forever (seen under
# load without wanr2v too). Give it 5 s after the playlist is complete,
# then stop it: setting the pipeline to NULL closes the last segment.
trap 'kill "$pid" 2>/dev/null || true' EXIT
waited=0
while kill -0 "$pid" 2>/dev/null; do
  if [ -f "$playlist" ] && grep -q '#EXT-X-ENDLIST' "$playlist"; then
    waited=$((waited + 1))
    if [ "$waited" -gt 25 ]; then
      echo "hlssink2 completed the playlist but the pipeline did not end: stopping it"
      kill -INT "$pid"
      break
    fi
  fi
  sleep 0.2
done
wait "$pid"
trap - EXIT

while read -r segment; do
  [ -s "$dir/$segment" ] || { echo "segment $segment is missing" >&2; exit 1; }
done < <(grep -v '^#' "$playlist" | grep .)
cat "$playlist"; echo
echo "Wrote $playlist"
