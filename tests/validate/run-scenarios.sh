#!/usr/bin/env bash
# Runs GstValidate's standard scenarios on a wanr2v pipeline (a 10 s
# preview clip) and prints, per scenario, PASS or FAIL with the critical
# issues GstValidate found. Exits 1 when a scenario has a critical issue,
# times out or crashes; 2 on a usage error.
#
# GstValidate is not packaged in Debian 12 and CI cannot download
# sources, so this is not part of `meson test` nor of .ci: build validate
# outside the repository (docs/RELIABILITY.md, "GstValidate") and give
# that build's directory here.
#
# Usage: tests/validate/run-scenarios.sh [VALIDATE_BUILD [WANR2V_BUILD]]
#   VALIDATE_BUILD  gst-devtools' meson build dir (or $GST_VALIDATE_BUILD)
#   WANR2V_BUILD    this repository's build dir (default: <repo>/build)
# Environment:
#   SCENARIOS         scenarios to run (default: play_5s pause_resume
#                     seek_forward seek_backward change_state_intensive)
#   SCENARIO_TIMEOUT  seconds per scenario before SIGINT (default: 120)
#   GST_VALIDATE_SCENARIOS_PATH  where the .scenario files are, dirs
#                     separated by ':' (default: validate/data/scenarios in
#                     the validate build's source dir)
#   LIVE_REFERENCE=1  the reference is a live videotestsrc, its first
#                     second taken (reference-duration=1), instead of 30
#                     frames of a non-live one; with live=false, the live
#                     output without live mode (which refuses seeks)
#   LIVE_MODE=1       the same live reference in live mode (live unset:
#                     implied by it), the placeholder then the clip; the
#                     scenarios that do not seek
#   KEEP_WORKDIR=1    keep the logs, registry and cache (path printed)
set -u

usage() {
  sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

case "${1:-}" in -h | --help) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
validate_build=${1:-${GST_VALIDATE_BUILD:-}}
wanr2v_build=$(cd "${2:-$repo/build}" 2>/dev/null && pwd) ||
  { echo "error: no build dir ${2:-$repo/build}" >&2; exit 2; }
scenarios=${SCENARIOS:-play_5s pause_resume seek_forward seek_backward change_state_intensive}
# a live stream is not seekable (as gst-validate-launcher does for live
# media, the seek scenarios are left out)
[ "${LIVE_MODE:-0}" = 1 ] && scenarios=${SCENARIOS:-play_5s pause_resume change_state_intensive}
timeout_s=${SCENARIO_TIMEOUT:-120}

[ -n "$validate_build" ] || { echo "error: no validate build given" >&2; usage; }
validate_build=$(cd "$validate_build" 2>/dev/null && pwd) ||
  { echo "error: no directory ${1:-$GST_VALIDATE_BUILD}" >&2; exit 2; }
gst_validate=$validate_build/validate/tools/gst-validate-1.0
[ -x "$gst_validate" ] || gst_validate=$validate_build/bin/gst-validate-1.0
[ -x "$gst_validate" ] ||
  { echo "error: no gst-validate-1.0 in $validate_build" >&2; exit 2; }
plugin=$wanr2v_build/gst/libgstwanr2v.so
[ -f "$plugin" ] ||
  { echo "error: $plugin not built: ninja -C $wanr2v_build" >&2; exit 2; }

# The scenarios are data files of gst-devtools' source tree, which the
# meson build dir names in meson-info.json.
if [ -z "${GST_VALIDATE_SCENARIOS_PATH:-}" ]; then
  src=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
    "$validate_build/meson-info/meson-info.json" 2>/dev/null)
  GST_VALIDATE_SCENARIOS_PATH=$src/validate/data/scenarios
fi
for scenario in $scenarios; do
  found=
  IFS=: read -ra dirs <<<"$GST_VALIDATE_SCENARIOS_PATH"
  for dir in "${dirs[@]}"; do
    [ -f "$dir/$scenario.scenario" ] && found=1
  done
  [ -n "$found" ] || { echo "error: no $scenario.scenario in" \
    "$GST_VALIDATE_SCENARIOS_PATH; set GST_VALIDATE_SCENARIOS_PATH" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/wanr2v-validate-XXXXXX")
if [ "${KEEP_WORKDIR:-0}" = 1 ]; then
  echo "work dir: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# Private registry and caches: no user or system state is read or written,
# and every scenario renders its clip (no result-store hit from a run
# before).
export GST_VALIDATE_SCENARIOS_PATH
export GST_PLUGIN_PATH=$wanr2v_build/gst
export GST_REGISTRY=$work/registry.bin
export GST_VALIDATE_PLUGIN_PATH=$validate_build/validate/plugins
export XDG_CACHE_HOME=$work/xdg-cache
unset GST_VALIDATE_SCENARIO GST_VALIDATE_CONFIG GST_VALIDATE_FILE
export LC_ALL=C

# Prints the issues of a gst-validate log: each report block ("  critical :
# ..." to the blank line after it), criticals in full, others as one line.
print_issues() {
  awk '
    /^ +(critical|warning|issue) : / {
      level = $1; block = $0; in_block = 1; next
    }
    in_block && /^[[:space:]]*$/ {
      if (level == "critical") { print block; ncrit++ }
      else {
        sub(/^ +/, "", block)
        more = where > 1 ? sprintf(" (and %d more)", where - 1) : ""
        lines = lines "    " block " -- " first_where more "\n"
      }
      in_block = 0; where = 0; next
    }
    in_block {
      if (level == "critical" && $0 !~ /dotfile :/) block = block "\n" $0
      else if ($0 ~ /Detected on/ && where++ == 0) {
        first_where = $0; sub(/^ +/, "", first_where)
      }
      next
    }
    END {
      if (lines != "") printf "  other issues:\n%s", lines
      printf "  critical issues: %d\n", ncrit + 0
    }' "$1"
}

if [ "${LIVE_MODE:-0}" = 1 ]; then
  reference=(videotestsrc is-live=true)
  reference_duration=1
  live_setting=()
elif [ "${LIVE_REFERENCE:-0}" = 1 ]; then
  reference=(videotestsrc is-live=true)
  reference_duration=1
  live_setting=(live=false)
else
  reference=(videotestsrc num-buffers=30)
  reference_duration=10
  live_setting=()
fi

failed=0
printf 'gst-validate: %s\nplugin: %s\nscenarios: %s\nreference: %s\n\n' \
  "$gst_validate" "$plugin" "$GST_VALIDATE_SCENARIOS_PATH" \
  "${reference[*]}, reference-duration=$reference_duration"
for scenario in $scenarios; do
  log=$work/$scenario.log
  mkdir -p "$work/$scenario"
  start=$(date +%s)
  # SIGINT lets gst-validate stop the pipeline and print its report;
  # -k kills it if it hangs even then.
  timeout -s INT -k 15 "$timeout_s" "$gst_validate" --set-scenario "$scenario" \
    wanr2v engine=preview duration=10 prompt="Video 1 walks" "${live_setting[@]}" \
    reference-duration=$reference_duration cache-dir="$work/$scenario/cache" name=g \
    ! videoconvert ! fakesink sync=true \
    "${reference[@]}" ! g.video_0 >"$log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  ncrit=$(grep -cE '^ +critical : ' "$log")
  case $rc in
    0) verdict=PASS ;;
    124 | 137) verdict="FAIL (timeout after ${timeout_s}s)" ;;
    18) verdict="FAIL (critical issues)" ;;
    *) verdict="FAIL (exit $rc)" ;;
  esac
  if [ "$rc" = 0 ] && [ "$ncrit" -gt 0 ]; then verdict="FAIL (critical issues)"; fi
  [ "$verdict" = PASS ] || failed=1
  printf '%-24s %s  [%ss]\n' "$scenario" "$verdict" "$secs"
  print_issues "$log"
  if [ "$rc" != 0 ] && [ "$rc" != 18 ]; then
    echo "  last lines of the log:"
    grep -v '^<position' "$log" | tail -n 8 | sed 's/^/    /'
  fi
  echo
done
exit $failed
