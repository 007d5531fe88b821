#!/usr/bin/env bash
# Runs every example launch line of the elements' documentation (the
# "|[ ... ]|" blocks of the SECTION comments in gst/*.c) on the preview
# engine, each under a time limit, so that the documented lines keep
# working. The only changes made to a line: engine=<any> becomes
# engine=preview, and autovideosink becomes fakesink (no display here).
# The lines run in a scratch directory holding photo.jpg and voice.wav
# (3.5 s of tone), with a private
# cache and no API key.
#
# Usage: element-docs-launch.sh <source dir of gst/>
set -euo pipefail

src=${1:?usage: element-docs-launch.sh <gst source dir>}
work=$(mktemp -d "${TMPDIR:-/tmp}/element-docs-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CACHE_HOME="$work/cache" TMPDIR="$work"
unset WAVESPEED_API_KEY DASHSCOPE_API_KEY

gst-launch-1.0 -q videotestsrc num-buffers=1 ! video/x-raw,width=160,height=120 \
  ! jpegenc ! filesink location=photo.jpg
gst-launch-1.0 -q audiotestsrc num-buffers=150 ! wavenc ! filesink location=voice.wav

# one line per example: the block's lines without " * " and "\"
mapfile -t examples < <(awk '
  /\|\[/ { inside = 1; line = ""; next }
  /\]\|/ { if (inside) print line; inside = 0; next }
  inside { sub(/^ \* ?/, ""); sub(/\\$/, ""); line = line " " $0 }
' "$src"/*.c)

[ "${#examples[@]}" -ge 5 ] || { echo "found ${#examples[@]} examples" >&2; exit 1; }
failed=0
for example in "${examples[@]}"; do
  line=$(sed -E -e 's/engine=[a-z]+/engine=preview/g' \
    -e 's/autovideosink/fakesink/g' <<<"$example")
  echo "== $line"
  if ! eval "timeout 120 $line" >"$work/out.log" 2>&1 </dev/null; then
    echo "FAILED:"; tail -20 "$work/out.log"; failed=1
  elif grep -q -- "-CRITICAL \*\*" "$work/out.log"; then
    # a GLib critical is a bug even when the pipeline ends well
    echo "FAILED (criticals):"; grep -- "-CRITICAL" "$work/out.log"; failed=1
  fi
done
exit $failed
