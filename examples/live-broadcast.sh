#!/usr/bin/env bash
# A live broadcast with no dead air: a running program feed, and the
# generated clip keyed over it with compositor the moment it is ready,
# with a placeholder in its place until then, encoded to MP4.
#
#   examples/live-broadcast.sh [OUT.mp4]
#
# wanr2v runs with live=true: from PLAYING its src pad is a live stream on
# the pipeline clock. While the job runs, the placeholder is on air in the
# key's box (WANR2V_PLACEHOLDER: preview, the default, the preview
# engine's animatic of the same request; slate, the job's progress as
# text; image, the picture at WANR2V_PLACEHOLDER_IMAGE). Then the clip
# takes its place at a frame boundary, with no timestamp gap (the
# element posts wanr2v/switched with the running time), and plays once
# (after-clip=eos). The program feed runs for WANR2V_FEED_SECONDS (default:
# the clip's length plus 6 s; give a hosted job its minutes) and then ends,
# which ends the recording: the pipeline stops on its own.
#
# Environment: WANR2V_ENGINE (default auto), WANR2V_DURATION (default 5),
# WANR2V_CACHE_DIR (default: the element's own), WANR2V_PROMPT,
# WANR2V_PLACEHOLDER, WANR2V_PLACEHOLDER_IMAGE, WANR2V_FEED_SECONDS.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-$PWD/live-broadcast.mp4}"
engine="${WANR2V_ENGINE:-auto}"
duration="${WANR2V_DURATION:-5}"
feed_seconds="${WANR2V_FEED_SECONDS:-$((duration + 6))}"
prompt="${WANR2V_PROMPT:-Video 1 waves to the audience}"
placeholder=(placeholder="${WANR2V_PLACEHOLDER:-preview}")
[ -n "${WANR2V_PLACEHOLDER_IMAGE:-}" ] &&
  placeholder+=(placeholder-location="$WANR2V_PLACEHOLDER_IMAGE")

# The program: 1280x720 at 30 fps, live, with its clock on screen, for
# feed_seconds. The key: wanr2v's live output scaled to 384x216 in a white
# frame at the bottom right, on air from the first frame.
# shellcheck disable=SC2054  # the commas are in caps, not between elements
gst-launch-1.0 \
  compositor name=mix background=black latency=100000000 \
      sink_0::zorder=0 sink_1::zorder=1 sink_1::xpos=868 sink_1::ypos=476 \
    '!' video/x-raw,width=1280,height=720,framerate=30/1 \
    '!' queue '!' videoconvert '!' video/x-raw,format=I420 \
    '!' x264enc speed-preset=veryfast tune=zerolatency '!' mp4mux \
    '!' filesink location="$out" \
  videotestsrc is-live=true pattern=smpte num-buffers=$((feed_seconds * 30)) \
    '!' video/x-raw,width=1280,height=720,framerate=30/1 \
    '!' timeoverlay halignment=left valignment=bottom font-desc="Sans 24" \
        text="ON AIR" \
    '!' mix.sink_0 \
  wanr2v name=g live=true "${placeholder[@]}" engine="$engine" \
      duration="$duration" "${cache[@]}" prompt="$prompt" \
    '!' video/x-raw,width=376,height=208 \
    '!' videobox left=-4 right=-4 top=-4 bottom=-4 fill=white \
    '!' queue '!' mix.sink_1 \
  videotestsrc num-buffers=60 pattern=ball '!' video/x-raw,width=640,height=360 \
    '!' g.video_0
echo "Wrote $out"
