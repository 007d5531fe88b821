#!/usr/bin/env bash
# gst-launch-1.0 -e and Ctrl-C (SIGINT) in the middle of a job, as an
# application finalising a recording does (issue 11, item 2): the
# picture-in-picture recording (a live feed composited with the clip, to
# MP4) must end with exit 0, no error, and a file gst-discoverer-1.0 reads.
# The interrupt comes once the preview engine renders (progress
# "generating"), before the clip exists.
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/element-eos-XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export XDG_CACHE_HOME="$work/cache" TMPDIR="$work"
unset WAVESPEED_API_KEY DASHSCOPE_API_KEY

gst-launch-1.0 -e compositor name=mix latency=100000000 sink_1::xpos=200 \
  ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert \
  ! x264enc speed-preset=ultrafast tune=zerolatency ! mp4mux \
  ! filesink location="$work/pip.mp4" \
  videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! mix.sink_0 \
  wanr2v name=g engine=preview duration=15 resolution=1080p \
    reference-duration=1 prompt="Video 1 waves" \
  ! videoscale ! video/x-raw,width=96,height=54 ! mix.sink_1 \
  videotestsrc is-live=true pattern=ball \
  ! video/x-raw,width=160,height=120,framerate=30/1 ! g.video_0 \
  >"$work/log" 2>&1 &
pid=$!

for _ in $(seq 1 600); do
  grep -q '(generating)' "$work/log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '(generating)' "$work/log" || { cat "$work/log"; echo "no job" >&2; exit 1; }
if grep -q '(generate) Clip ready' "$work/log"; then
  echo "the clip was ready before the interrupt: not mid-job" >&2; exit 1
fi
kill -INT "$pid"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rc=0
wait "$pid" || rc=$?
pid=
cat "$work/log"
[ "$rc" -eq 0 ] || { echo "gst-launch exit $rc" >&2; exit 1; }
if grep -q '^ERROR' "$work/log"; then echo "an error was posted" >&2; exit 1; fi
grep -q '(generate) Generation stopped' "$work/log" || {
  echo "the job was not cancelled" >&2; exit 1; }
gst-discoverer-1.0 "$work/pip.mp4" | tee "$work/disc"
grep -q 'video #' "$work/disc" && grep -q 'Duration: 0:00:0[1-9]' "$work/disc"
