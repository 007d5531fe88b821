#!/usr/bin/env bash
# Smoke test of every example: the gst-launch recipes in examples/, the
# Python application and the C application, all on the offline preview
# engine with 2-second clips, a temporary result store and temporary
# outputs. Each output must exist, and gst-discoverer-1.0 must find a video
# stream in each MP4 (or HLS segment). The applications must also fail
# cleanly (non-zero exit, the element's message, no output) on a bad prompt.
#
#   bash tests/test-examples.sh [C-APP]   # or: meson test -C build --suite examples
#
# C-APP: the built C application (default: $WANR2V_C_APP, else
# build/examples/wanr2v-app). Environment (meson sets them):
# GST_PLUGIN_PATH (the built plugin), WANR2V_PYTHON (default
# /usr/bin/python3).
set -uo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
examples="$top/examples"
python="${WANR2V_PYTHON:-/usr/bin/python3}"
c_app="${1:-${WANR2V_C_APP:-$top/build/examples/wanr2v-app}}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The preview engine whatever keys the machine has; short clips; a store
# of our own; never a real camera.
export WANR2V_ENGINE=preview WANR2V_DURATION=2 WANR2V_CACHE_DIR="$tmp/cache"
export WANR2V_CAMERA=none WANR2V_REFERENCE_DURATION=1
unset WAVESPEED_API_KEY DASHSCOPE_API_KEY
# a path with a space, to catch quoting mistakes
out="$tmp/out put"
mkdir -p "$out"

failures=0
passed=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# check_video NAME FILE MIN_SECONDS
check_video() {
  local name="$1" file="$2" min="$3" d info
  if [ ! -s "$file" ]; then
    fail "$name: $file was not written"
    return 1
  fi
  info="$(gst-discoverer-1.0 "$file" 2>&1)"
  if ! grep -q 'video #' <<<"$info"; then
    fail "$name: gst-discoverer-1.0 finds no video stream in $file"
    echo "$info" | tail -n 20
    return 1
  fi
  d="$(sed -n 's/^ *Duration: \([0-9]*\):\([0-9]*\):\([0-9.]*\)$/\1 \2 \3/p' <<<"$info" |
    head -n 1 | awk '{ print $1 * 3600 + $2 * 60 + $3 }')"
  if ! awk -v d="${d:-0}" -v m="$min" 'BEGIN { exit !(d >= m) }'; then
    fail "$name: $file lasts ${d:-?} s, expected at least $min s"
    return 1
  fi
  echo "ok: $name: $(basename "$file"), video, ${d} s"
  passed=$((passed + 1))
  return 0
}

# check_audio NAME FILE: gst-discoverer-1.0 finds an audio stream
check_audio() {
  local name="$1" file="$2" info
  # a generous timeout: the machine may be busy
  info="$(gst-discoverer-1.0 -t 60 "$file" 2>&1)"
  if ! grep -q 'audio #' <<<"$info"; then
    fail "$name: gst-discoverer-1.0 finds no audio stream in $file"
    echo "$info" | tail -n 20
    return 1
  fi
  echo "ok: $name: $(basename "$file"), audio"
  passed=$((passed + 1))
}

# Each example gets this long (seconds); they take 2 to 15 s on the preview
# engine, so a hang fails here rather than at meson's timeout.
limit=180

# run NAME COMMAND...: runs it with its output in a log, shown on failure
run() {
  local name="$1" start=$SECONDS status=0
  shift
  echo "--- $name: $*"
  timeout -k 10 "$limit" "$@" >"$tmp/$name.log" 2>&1 || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    fail "$name did not finish within $limit s"
    tail -n 40 "$tmp/$name.log"
    return 1
  elif [ "$status" -ne 0 ]; then
    fail "$name exited with status $status"
    tail -n 40 "$tmp/$name.log"
    return 1
  fi
  echo "    ($((SECONDS - start)) s)"
  return 0
}

# expect_error NAME PATTERN OUTPUT COMMAND...: must fail, say PATTERN, and
# leave no OUTPUT behind
expect_error() {
  local name="$1" pattern="$2" output="$3" status
  shift 3
  echo "--- $name: $*"
  timeout -k 10 "$limit" "$@" >"$tmp/$name.log" 2>&1
  status=$?
  if [ "$status" -eq 0 ]; then
    fail "$name: exited with 0, expected an error"
  elif ! grep -q -- "$pattern" "$tmp/$name.log"; then
    fail "$name: the output does not say \"$pattern\""
    tail -n 20 "$tmp/$name.log"
  elif [ -e "$output" ]; then
    fail "$name: left $output behind"
  else
    echo "ok: $name: exit status $status, \"$pattern\""
    passed=$((passed + 1))
  fi
}

# --- gst-launch recipes ---------------------------------------------------

run two-characters bash "$examples/two-characters-and-a-prop.sh" "$out/two.mp4" &&
  check_video two-characters "$out/two.mp4" 1.9

run live-camera bash "$examples/live-camera-reference.sh" "$out/live.mp4" &&
  check_video live-camera "$out/live.mp4" 1.9

run pip-file env WANR2V_FEED=file bash "$examples/picture-in-picture.sh" "$out/pip-file.mp4" &&
  check_video pip-file "$out/pip-file.mp4" 5.9

# live: the feed runs until the clip has played (2 s) plus 2 s; the
# recording starts when the live sources do, a little after the script's
# clock, more so on a loaded machine: longer than the clip is what counts
run pip-live env WANR2V_FEED=live bash "$examples/picture-in-picture.sh" "$out/pip-live.mp4" &&
  check_video pip-live "$out/pip-live.mp4" 3.0

# live=true: the feed runs for the clip (2 s) plus 6 s and ends the
# recording; the placeholder is on air until the clip
run live-broadcast bash "$examples/live-broadcast.sh" "$out/live-broadcast.mp4" &&
  check_video live-broadcast "$out/live-broadcast.mp4" 6.0

run encode-mp4 bash "$examples/encode-mp4.sh" "$out/encode.mp4" &&
  check_video encode-mp4 "$out/encode.mp4" 1.9

run picture-and-sound bash "$examples/picture-and-sound.sh" "$out/sound.mp4" &&
  check_video picture-and-sound "$out/sound.mp4" 1.9 &&
  check_audio picture-and-sound "$out/sound.mp4"

run storyboard bash "$examples/storyboard.sh" "$out/storyboard.mp4" &&
  check_video storyboard "$out/storyboard.mp4" 5.9 &&
  check_audio storyboard "$out/storyboard.mp4"

run variants bash "$examples/variants-side-by-side.sh" "$out/variants.mp4" &&
  check_video variants "$out/variants.mp4" 1.9

if run hls bash "$examples/hls.sh" "$out/hls"; then
  playlist="$out/hls/playlist.m3u8"
  first="$(grep -v '^#' "$playlist" 2>/dev/null | grep . | head -n 1)"
  if [ ! -s "$playlist" ] || ! grep -q '#EXT-X-ENDLIST' "$playlist"; then
    fail "hls: no complete playlist at $playlist"
  elif [ -z "$first" ]; then
    fail "hls: the playlist names no segment"
  else
    missing=0
    while read -r seg; do
      [ -s "$out/hls/$seg" ] || { fail "hls: segment $seg is missing"; missing=1; }
    done < <(grep -v '^#' "$playlist" | grep .)
    [ "$missing" -eq 0 ] && check_video hls-segment "$out/hls/$first" 1
  fi
fi

if run save-original bash "$examples/save-original.sh" "$out/original.mp4"; then
  check_video save-original "$out/original.mp4" 1.9
  if grep -q '^OK: served from the result store' "$tmp/save-original.log" &&
    grep -q '^OK: .* is byte for byte the delivered clip' "$tmp/save-original.log"; then
    echo "ok: save-original: byte-identical, second run served from the store"
    passed=$((passed + 1))
  else
    fail "save-original: no byte-identical copy or no result-store hit"
    tail -n 20 "$tmp/save-original.log"
  fi
fi

# --- applications -----------------------------------------------------------

app_checks() {
  local name="$1"
  shift
  run "$name" "$@" -e preview -d 2 --cache-dir "$WANR2V_CACHE_DIR" \
      -o "$out/$name.mp4" "Video 2 hands Image 3 to Video 1" &&
    check_video "$name" "$out/$name.mp4" 1.9 &&
    if grep -q 'engine: preview' "$tmp/$name.log" &&
      grep -q 'estimated-cost property: free' "$tmp/$name.log" &&
      grep -q 'prompt numbering: video_0 = Video 1, video_1 = Video 2, image_0 = Image 3' \
        "$tmp/$name.log"; then
      echo "ok: $name: printed the engine, the cost and the numbering"
      passed=$((passed + 1))
    else
      fail "$name: the engine, cost or numbering lines are missing"
      cat "$tmp/$name.log"
    fi

  # references from files
  run "$name-files" "$@" -e preview -d 2 --cache-dir "$WANR2V_CACHE_DIR" \
      -o "$out/$name-files.mp4" --video "$tmp/ref.mp4" --image "$tmp/ref.png" \
      "Video 1 holds Image 2" &&
    check_video "$name-files" "$out/$name-files.mp4" 1.9

  expect_error "$name-bad-prompt" "The prompt names Video 3" "$out/$name-bad.mp4" \
    "$@" -e preview -d 2 --cache-dir "$WANR2V_CACHE_DIR" -o "$out/$name-bad.mp4" \
    "Video 3 waves"
  expect_error "$name-verbose" "wanr2v-error-code" "$out/$name-bad.mp4" \
    "$@" -e preview -d 40 --cache-dir "$WANR2V_CACHE_DIR" -o "$out/$name-bad.mp4" \
    --verbose
}

gst-launch-1.0 -q videotestsrc num-buffers=30 pattern=ball \
  ! video/x-raw,width=320,height=180,framerate=30/1 \
  ! x264enc ! mp4mux ! filesink location="$tmp/ref.mp4"
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=pinwheel \
  ! video/x-raw,width=128,height=128 ! pngenc ! filesink location="$tmp/ref.png"

if [ -x "$python" ]; then
  app_checks python-app "$python" "$examples/python/wanr2v-app.py"
  # the Python application writes the soundtrack too
  [ -s "$out/python-app.mp4" ] && check_audio python-app "$out/python-app.mp4"
else
  fail "python-app: $python not found (Debian: python3-gi)"
fi

if [ -x "$c_app" ]; then
  app_checks c-app "$c_app"
else
  fail "c-app: $c_app is not built (ninja -C build)"
fi

echo
echo "$passed checks passed, $failures failed"
[ "$failures" -eq 0 ]
