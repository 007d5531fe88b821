#!/usr/bin/env bash
# Renders the pictures in the docs from real runs of the element:
#
#   docs/images/contact-sheet.png  6 frames of each of four preview-engine
#                                  clips (layouts, aspect ratios, prompts)
#   docs/images/pipeline.png       GStreamer's own dump of a running wanr2v
#                                  pipeline (GST_DEBUG_DUMP_DOT_DIR), drawn
#                                  by graphviz's dot
#
#   bash docs/make-pictures.sh
#
# Needs the built plugin (bash .ci/build) and graphviz (installed here when
# missing, with .ci/install-deps). Uses only GStreamer elements for the
# pictures: the clips are generated with engine=preview and fixed seeds
# into a temporary result store, thinned out with videorate, scaled with
# videoscale and laid out with compositor.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GST_PLUGIN_PATH="$top/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
gst-inspect-1.0 wanr2v >/dev/null 2>&1 || {
  echo "wanr2v not found: build it first (bash $top/.ci/build)" >&2
  exit 1
}
command -v dot >/dev/null || bash "$top/.ci/install-deps" graphviz

images="$top/docs/images"
mkdir -p "$images"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cache="$work/cache"             # never the user's result store

# --- reference inputs: two "characters" and a "prop" -----------------------

gst-launch-1.0 -q videotestsrc num-buffers=90 pattern=ball \
    foreground-color=0xffffa020 background-color=0xff203050 \
  ! video/x-raw,width=640,height=360,framerate=30/1 \
  ! x264enc ! mp4mux ! filesink location="$work/char1.mp4"
gst-launch-1.0 -q videotestsrc num-buffers=90 pattern=ball motion=sweep \
    foreground-color=0xff40e0ff background-color=0xff502030 \
  ! video/x-raw,width=360,height=640,framerate=30/1 \
  ! x264enc ! mp4mux ! filesink location="$work/char2.mp4"
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=pinwheel \
  ! video/x-raw,width=256,height=256 ! pngenc ! filesink location="$work/prop.png"

# --- the clips: one row each -------------------------------------------------
# aspect ratio | references (v = char1/char2 in turn, i = prop) | seed | prompt

rows=(
  "16:9|v v i|7|Video 1 hands Image 3 to Video 2 in a sunny park"
  "9:16|v i|11|Video 1 dances in the rain holding Image 2"
  "1:1|i|3|Image 1 spins slowly on a wooden table"
  "16:9|v v i|5|Video 2 walks alone along the beach at dusk"
)
duration=3                       # 6 frames: one every half second
cols=6 cell_w=320 gap=6 label_h=34 title_h=44
sheet_w=$((gap + cols * (cell_w + gap)))

# Cells are 320 px wide; landscape rows are as high as the clip's aspect
# ratio makes them (180 px at 16:9), portrait and square rows 240 px, the
# frames pillarboxed.
cell_height() {
  local w="${1%%:*}" h="${1##*:}"
  if [ "$w" -gt "$h" ]; then echo $((cell_w * h / w)); else echo 240; fi
}

r=0
for row in "${rows[@]}"; do
  IFS='|' read -r aspect refs seed prompt <<<"$row"
  cell_h[r]="$(cell_height "$aspect")"
  inputs=() v=0 i=0 names=()
  for ref in $refs; do
    if [ "$ref" = v ]; then
      v=$((v + 1))
      inputs+=(filesrc location="$work/char$v.mp4" '!' "g.video_$((v - 1))")
      names+=("video_$((v - 1))")
    else
      inputs+=(filesrc location="$work/prop.png" '!' "g.image_$i")
      names+=("image_$i")
      i=$((i + 1))
    fi
  done
  echo "Row $((r + 1)): $aspect, ${names[*]}: $prompt"
  gst-launch-1.0 -q \
    wanr2v name=g engine=preview duration="$duration" aspect-ratio="$aspect" \
      seed="$seed" cache-dir="$cache" prompt="$prompt" \
    ! videoconvert ! videorate ! video/x-raw,framerate=2/1 \
    ! videoscale add-borders=true \
    ! "video/x-raw,width=$cell_w,height=${cell_h[r]},pixel-aspect-ratio=1/1" \
    ! pngenc ! multifilesink location="$work/row$r-%d.png" \
    "${inputs[@]}"
  n="$(find "$work" -name "row$r-*.png" | wc -l)"
  [ "$n" -eq "$cols" ] || { echo "row $r: got $n frames, not $cols" >&2; exit 1; }
  joined="${names[*]}"
  # shellcheck disable=SC1111  # typographic quotes: gst-launch would take "" for its own
  labels[r]="$aspect, ${joined// / + }: “$prompt”"
  r=$((r + 1))
done

# --- the contact sheet: compositor, one frame -------------------------------

# a solid rectangle with text in it (no double quotes in the text: gst-launch
# would take them for its own)
strip() {                        # strip PAD Y HEIGHT FONT TEXT
  sheet+=(videotestsrc num-buffers=1 pattern=solid-color foreground-color=0xff262626
    '!' "video/x-raw,width=$sheet_w,height=$3"
    '!' textoverlay text="$5" font-desc="$4" halignment=left valignment=center
        xpad=$((gap + 2)) auto-resize=false shaded-background=false
    '!' "sheet.sink_$1")
  pads+=("sink_$1::xpos=0" "sink_$1::ypos=$2")
}

sheet_h=$((title_h + gap))
for h in "${cell_h[@]}"; do sheet_h=$((sheet_h + label_h + h + gap)); done

sheet=() pads=() k=0
strip $k 0 $sheet_h "Sans 1" " "            # the background
k=$((k + 1))
strip $k 0 $title_h "Sans Bold 17" \
  "wanr2v, engine=preview: 6 frames of each 3-second clip. An animatic of the request, not AI generation. Made by docs/make-pictures.sh"
k=$((k + 1))
y=$title_h
for ((r = 0; r < ${#rows[@]}; r++)); do
  strip $k $y $label_h "Sans 14" "${labels[r]}"
  k=$((k + 1))
  for ((c = 0; c < cols; c++)); do
    sheet+=(filesrc location="$work/row$r-$c.png" '!' pngdec '!' imagefreeze num-buffers=1
      '!' videoconvert '!' "sheet.sink_$k")
    pads+=("sink_$k::xpos=$((gap + c * (cell_w + gap)))" "sink_$k::ypos=$((y + label_h))")
    k=$((k + 1))
  done
  y=$((y + label_h + cell_h[r] + gap))
done

gst-launch-1.0 -q \
  compositor name=sheet background=black "${pads[@]}" \
  ! "video/x-raw,width=$sheet_w,height=$sheet_h,framerate=1/1" \
  ! videoconvert ! pngenc compression-level=9 \
  ! filesink location="$images/contact-sheet.png" \
  "${sheet[@]}"

# --- the pipeline diagram ------------------------------------------------------
# gst-launch-1.0 writes a dot file at each state change when
# GST_DEBUG_DUMP_DOT_DIR is set; the PAUSED_PLAYING one shows the running
# pipeline, with wanr2v's inside (wanr2vgen ! decodebin3 ! videoconvert).

# Relative paths from inside the work directory, so that the picture shows
# char1.mp4, not /tmp/tmp.XXXXXXXXXX/char1.mp4.
mkdir -p "$work/dot"
(cd "$work" && GST_DEBUG_DUMP_DOT_DIR="$work/dot" gst-launch-1.0 -q \
  wanr2v name=gen engine=preview duration=2 cache-dir=cache \
    prompt="Video 1 hands Image 3 to Video 2 in a sunny park" \
  ! videoconvert ! x264enc ! mp4mux ! filesink location=clip.mp4 \
  filesrc location=char1.mp4 ! gen.video_0 \
  filesrc location=char2.mp4 ! gen.video_1 \
  filesrc location=prop.png ! gen.image_0)
dotfile="$(find "$work/dot" -name '*PAUSED_PLAYING*.dot' | sort | tail -n 1)"
[ -n "$dotfile" ] || { echo "no PAUSED_PLAYING dot file was written" >&2; exit 1; }
# GStreamer lays pipelines out left to right; with wanr2v's decodebin3
# inside, that is several thousand pixels wide. Top to bottom it reads at
# the width of a page.
sed 's/rankdir=LR/rankdir=TB/' "$dotfile" | dot -Tpng -Gdpi=80 -o "$images/pipeline.png"

ls -l "$images/contact-sheet.png" "$images/pipeline.png"
