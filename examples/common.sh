# What every example script starts with; sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Finds the plugin in this build tree (or the installed one) and sets
#   top    the repository's folder
#   cache  (cache-dir=...) when WANR2V_CACHE_DIR is set, else empty:
#          pass it as "${cache[@]}" to wanr2v
# and gives sample_video to make stand-in references.
top="$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)"
export GST_PLUGIN_PATH="$top/build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
gst-inspect-1.0 wanr2v >/dev/null 2>&1 || {
  echo "wanr2v not found: build it first (bash $top/.ci/build) or install it" >&2
  exit 1
}
cache=()
[ -n "${WANR2V_CACHE_DIR:-}" ] && cache=(cache-dir="$WANR2V_CACHE_DIR")

# sample_video FILE [videotestsrc property...]: two seconds of a test
# pattern as a 640x360 H.264 MP4, a stand-in for a character's video
sample_video() {
  local file="$1"
  shift
  gst-launch-1.0 -q videotestsrc num-buffers=60 pattern=ball "$@" \
    ! video/x-raw,width=640,height=360,framerate=30/1 \
    ! x264enc ! mp4mux ! filesink location="$file"
}
