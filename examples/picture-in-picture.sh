#!/usr/bin/env bash
# The generated clip composited picture-in-picture over a running
# "broadcast feed" with compositor, encoded to MP4.
#
#   examples/picture-in-picture.sh [OUT.mp4]
#
# WANR2V_FEED=live (default): the feed is a live source (videotestsrc
# is-live=true pattern=smpte with a running clock). It is on air from the
# start; the clip appears in the top-right corner the moment it is ready
# (the element shifts its running time to "now") and plays once. The feed
# runs until the clip has played, then the script stops the pipeline with
# an EOS (gst-launch-1.0 -e and SIGINT) so that the MP4 is finalised.
# With a hosted engine the feed therefore runs for the minutes the job
# takes, in real time.
#
# WANR2V_FEED=file: the feed is a non-live source of the clip's length plus
# 4 s; compositor waits for the clip, so it is in the corner from the first
# frame. Nothing runs in real time.
#
# Environment: WANR2V_FEED, WANR2V_ENGINE (default auto), WANR2V_DURATION
# (default 5), WANR2V_CACHE_DIR (default: the element's own), WANR2V_PROMPT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/picture-in-picture.mp4}"
engine="${WANR2V_ENGINE:-auto}"
duration="${WANR2V_DURATION:-5}"
feed="${WANR2V_FEED:-live}"
prompt="${WANR2V_PROMPT:-Video 1 reads the evening news next to Image 2}"

case "$feed" in
  live) feed_src=(videotestsrc is-live=true pattern=smpte) ;;
  file) feed_src=(videotestsrc pattern=smpte num-buffers=$(((duration + 4) * 30))) ;;
  *) echo "WANR2V_FEED must be live or file (got $feed)" >&2; exit 2 ;;
esac

# The feed: 1280x720 at 30 fps with a clock, on compositor's sink_0.
# The clip: scaled to 384x216 with a 4 px white frame, on sink_1 at the
# top right. compositor's latency gives the clip, decoded while the feed
# is on air, 100 ms of slack.
# shellcheck disable=SC2054  # the commas are in caps, not between elements
pipeline=(
  compositor name=mix background=black latency=100000000
      sink_0::zorder=0 sink_1::zorder=1 sink_1::xpos=868 sink_1::ypos=28
    '!' video/x-raw,width=1280,height=720,framerate=30/1
    '!' queue '!' videoconvert '!' video/x-raw,format=I420
    '!' x264enc speed-preset=veryfast tune=zerolatency '!' mp4mux
    '!' filesink location="$out"
  "${feed_src[@]}"
    '!' video/x-raw,width=1280,height=720,framerate=30/1
    '!' timeoverlay halignment=left valignment=bottom font-desc="Sans 24"
        text="ON AIR"
    '!' mix.sink_0
  wanr2v name=g engine="$engine" duration="$duration" "${cache[@]}"
      prompt="$prompt"
    '!' videoscale '!' video/x-raw,width=384,height=216
    '!' videobox left=-4 right=-4 top=-4 bottom=-4 fill=white
    '!' mix.sink_1
  videotestsrc num-buffers=60 pattern=ball '!' video/x-raw,width=640,height=360
    '!' g.video_0
  videotestsrc num-buffers=1 pattern=pinwheel '!' pngenc '!' g.image_0
)

if [ "$feed" = file ]; then
  gst-launch-1.0 "${pipeline[@]}"
  echo "Wrote $out"
  exit 0
fi

# Live: run until the clip has played, then stop with EOS.
log="$(mktemp)"
gst-launch-1.0 -e "${pipeline[@]}" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
tail -n +1 -f --pid="$pid" "$log" &
until grep -q -e '(generate) Clip' "$log"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || exit $?      # the pipeline failed: its error is above
    echo "the pipeline ended before the clip was ready" >&2
    exit 1
  fi
  sleep 0.2
done
if grep -q -e '(generate) Clip ready' -e '(generate) Clip served' "$log"; then
  sleep $((duration + 2))
  kill -INT "$pid" 2>/dev/null || true
fi
status=0
wait "$pid" || status=$?
sleep 0.3                       # let tail print the last lines
[ "$status" -eq 0 ] && echo "Wrote $out"
exit "$status"
