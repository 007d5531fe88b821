#!/usr/bin/env bash
# Three takes of one request (variants=3: seeds 7, 8, 9), then the takes
# side by side with compositor, to pick one.
#
#   examples/variants-side-by-side.sh [OUT.mp4]
#
# The first pipeline makes the takes: each is its own job, paid once and
# stored; its pads play them one after the other (here into fakesink),
# and its wanr2v/variants message gives each take's stored file and seed
# (read here from gst-launch-1.0 -m). The second pipeline puts the three
# files next to each other, each labelled with its seed, into OUT.mp4.
#
# Environment: WANR2V_ENGINE (default preview: offline and free; a hosted
# engine needs its key and is paid three times), WANR2V_CACHE_DIR.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GST_PLUGIN_PATH="$top/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
gst-inspect-1.0 wanr2v >/dev/null 2>&1 || {
  echo "wanr2v not found: build it first (bash $top/.ci/build) or install it" >&2
  exit 1
}

out="${1:-$PWD/variants.mp4}"
engine="${WANR2V_ENGINE:-preview}"
cache=()
[ -n "${WANR2V_CACHE_DIR:-}" ] && cache=(cache-dir="$WANR2V_CACHE_DIR")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log="$tmp/gst-launch.log"

gst-launch-1.0 -q videotestsrc num-buffers=60 pattern=ball \
  ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! x264enc ! mp4mux ! filesink location="$tmp/dancer.mp4"

gst-launch-1.0 -m wanr2v name=g engine="$engine" "${cache[@]}" variants=3 \
    seed=7 duration=2 prompt="Video 1 dances in the rain" ! fakesink \
  filesrc location="$tmp/dancer.mp4" ! g.video_0 >"$log" 2>&1 ||
  { cat "$log"; exit 1; }
grep -E '^ERROR|wanr2v/(cost|variants),' "$log" |
  sed -e 's/^Got message #[0-9]* from element "[a-z0-9]*" (element): //'

# take-locations=(string)< a, b, c >, take-seeds=(gint64)< 7, 8, 9 >
field() {
  sed -n "s/.*wanr2v\/variants,.* $1=([a-z0-9]*)< \([^>]*\) >.*/\1/p" "$log" |
    tail -n 1 | tr -d ' ' | tr ',' '\n' | sed -e 's/^"\(.*\)"$/\1/' -e 's/\\\(.\)/\1/g'
}
mapfile -t takes < <(field take-locations)
mapfile -t seeds < <(field take-seeds)
[ "${#takes[@]}" -eq 3 ] || { echo "no wanr2v/variants message" >&2; exit 1; }

# one third of 1920 each, labelled with the take's seed
inputs=()
for i in 0 1 2; do
  inputs+=(filesrc location="${takes[$i]}" ! decodebin ! videoconvert
    ! videoscale ! video/x-raw,width=640,height=360
    ! textoverlay text="take $((i + 1)), seed ${seeds[$i]}" valignment=top
    halignment=left ! c.sink_$i)
done
gst-launch-1.0 -q -e compositor name=c sink_1::xpos=640 sink_2::xpos=1280 \
  ! videoconvert ! x264enc ! mp4mux ! filesink location="$out" "${inputs[@]}"
echo "Wrote $out: takes with seeds ${seeds[*]} side by side"
