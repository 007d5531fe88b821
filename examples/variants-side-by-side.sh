#!/usr/bin/env bash
# Three takes of one request (variants=3: seeds 7, 8, 9) side by side with
# compositor, to pick one.
#
#   examples/variants-side-by-side.sh [OUT.mp4]
#
# Each take is its own job, paid once and stored. Once they are stored,
# wanr2v adds a pad per take (take_0, take_1, take_2; take_audio_N for
# their sound): here each is scaled to a third of 1920x360, labelled with
# its take, and composited into OUT.mp4. The always pads play the takes
# one after the other (here into fakesink), and the wanr2v/variants
# message (printed) gives each take's stored file and seed.
#
# Environment: WANR2V_ENGINE (default preview: offline and free; a hosted
# engine needs its key and is paid three times), WANR2V_CACHE_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/variants.mp4}"
engine="${WANR2V_ENGINE:-preview}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

sample_video "$tmp/dancer.mp4"

takes=()
for i in 0 1 2; do
  takes+=(g.take_$i ! videoscale ! video/x-raw,width=640,height=360
    ! textoverlay text="take $((i + 1))" valignment=top halignment=left
    ! c.sink_$i)
done
gst-launch-1.0 -m -e \
  wanr2v name=g engine="$engine" "${cache[@]}" variants=3 seed=7 duration=2 \
    prompt="Video 1 dances in the rain" ! fakesink \
  compositor name=c sink_1::xpos=640 sink_2::xpos=1280 \
    ! videoconvert ! x264enc ! mp4mux ! filesink location="$out" \
  "${takes[@]}" \
  filesrc location="$tmp/dancer.mp4" ! g.video_0 2>&1 |
  grep -E '^ERROR|wanr2v/(cost|variants),' |
  sed -e 's/^Got message #[0-9]* from element "[a-z0-9]*" (element): //'
[ -s "$out" ] || { echo "nothing written" >&2; exit 1; }
echo "Wrote $out: three takes side by side"
