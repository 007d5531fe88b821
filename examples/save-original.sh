#!/usr/bin/env bash
# Keep the clip exactly as the engine delivered it: result-location saves
# the MP4 bytes, not decoded and not re-encoded, next to whatever the
# pipeline does with the decoded frames (here: nothing, fakesink).
#
#   examples/save-original.sh [OUT.mp4]
#
# It then shows that OUT.mp4 is byte for byte the clip in the result
# store, whose path the element posts in its wanr2v/result message (read
# here from gst-launch-1.0 -m), and runs the same request again: that one
# is served from the result store (cached=true) with no engine run. The
# references are files (made once in a temporary directory), so that the
# second request is the same, byte for byte, as the first.
#
# Environment: WANR2V_ENGINE (default auto: a hosted engine when its API
# key is set, else the offline preview), WANR2V_DURATION (seconds, default
# 5), WANR2V_CACHE_DIR (default: the element's own), WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/save-original.mp4}"
engine="${WANR2V_ENGINE:-auto}"
duration="${WANR2V_DURATION:-5}"
prompt="${WANR2V_PROMPT:-Video 1 juggles Image 2 in a circus ring}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log="$tmp/gst-launch.log"

sample_video "$tmp/juggler.mp4"
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=pinwheel \
  ! video/x-raw,width=256,height=256 ! pngenc ! filesink location="$tmp/ball.png"

run() {
  # -m prints every bus message; keep the progress lines and ours
  gst-launch-1.0 -m \
    wanr2v name=g engine="$engine" duration="$duration" "${cache[@]}" \
      prompt="$prompt" result-location="$out" \
    ! fakesink \
    filesrc location="$tmp/juggler.mp4" ! g.video_0 \
    filesrc location="$tmp/ball.png" ! g.image_0 \
    >"$log" 2>&1 || { cat "$log"; return 1; }
  grep -E '^(Progress|ERROR)|wanr2v/(engine|cost|result)' "$log"
}

# The stored clip's path, from: ... wanr2v/result, ..., location=(string)PATH, ...
# (quoted and backslash-escaped when it holds spaces)
stored_location() {
  sed -n 's/.*wanr2v\/result,.* location=(string)\(.*\), source-url=.*/\1/p' "$log" |
    tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e 's/\\\(.\)/\1/g'
}

run
stored="$(stored_location)"
[ -n "$stored" ] || { echo "no wanr2v/result message" >&2; exit 1; }
echo "Result store: $stored"
cmp "$stored" "$out"
echo "OK: $out is byte for byte the delivered clip ($(stat -c %s "$out") bytes)"

echo "Running the same request again:"
run
if grep -q 'wanr2v/result,.*cached=(boolean)true' "$log"; then
  echo "OK: served from the result store, no engine run"
else
  echo "Not served from the result store (is cache-dir writable?)"
fi
cmp "$(stored_location)" "$out"
echo "Wrote $out"
