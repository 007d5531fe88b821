#!/usr/bin/env bash
# secrets-scan.sh: runs pipelines and test suites with everything logged
# (GST_DEBUG=*:9, gst-launch-1.0 -v) under recognisable fake keys, and
# fails if a key shows up anywhere: in the output, or in any file the runs
# wrote (cache-dir, result-location, TMPDIR, HOME, XDG dirs).
#
# Usage: secrets-scan.sh BUILD_DIR [SUITE...]
#   SUITE: test executables in BUILD_DIR/tests to run at GST_DEBUG=*:9
#   (their key is the KEY / WRONG_KEY #define of their source).
# Meson's test environment (GST_PLUGIN_PATH, GST_REGISTRY,
# WANR2V_TESTS_SRCDIR, WANR2V_PYTHON) is expected.
#
# The key must come from the environment (WAVESPEED_API_KEY, ...) or be
# set from code: GStreamer itself logs gst-launch's command line at debug
# level, so an api-key=... given there is visible in GST_DEBUG output. The
# last check shows that this scan would catch it.
set -uo pipefail

build=${1:?usage: secrets-scan.sh BUILD_DIR [SUITE...]}
shift
build=$(cd "$build" && pwd)
srcdir=${WANR2V_TESTS_SRCDIR:?run through meson test}
python=${WANR2V_PYTHON:-/usr/bin/python3}
launch=${GST_LAUNCH:-gst-launch-1.0}

work=$(mktemp -d "${TMPDIR:-/tmp}/wanr2v-secrets-XXXXXX")
server_pid=
cleanup () {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail () { echo "FAIL: $*"; failures=$((failures + 1)); }

# Every file under the run's directories and the output logs.
scan () {
  local key=$1 what=$2
  shift 2
  local hits
  hits=$(grep -r -l -F -a -e "$key" "$@" 2>/dev/null)
  if [ -n "$hits" ]; then
    fail "$what: the key appears in: $(echo $hits | tr '\n' ' ')"
    grep -r -F -a -o -m 3 -e "$key" "$@" 2>/dev/null | head -5 | cut -c1-200
    return 1
  fi
  return 0
}

# --- a fake WaveSpeed server and a result clip -----------------------------
key="wr2v-CANARY-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
wrong="wr2v-CANARY-WRONG-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$work/run/tmp" "$work/run/home" "$work/run/xdg-cache" \
  "$work/run/xdg-config" "$work/logs"
"$launch" -q videotestsrc num-buffers=30 ! \
  video/x-raw,width=320,height=240,framerate=30/1 ! x264enc ! mp4mux ! \
  filesink location="$work/result.mp4" > /dev/null 2>&1 ||
  { echo "SKIP: cannot make a clip (x264enc?)"; exit 77; }

"$python" "$srcdir/fake-wavespeed.py" --api-key "$key" \
  --result-mp4 "$work/result.mp4" --port-file "$work/port" --polls 1 \
  > /dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
api="http://127.0.0.1:$port"

# One pipeline under gst-launch-1.0 -v, everything logged, with a private
# HOME, TMPDIR and XDG dirs so that every file it writes is scanned.
run_pipeline () {
  local name=$1 key_env=$2
  shift 2
  env HOME="$work/run/home" TMPDIR="$work/run/tmp" \
    XDG_CACHE_HOME="$work/run/xdg-cache" \
    XDG_CONFIG_HOME="$work/run/xdg-config" \
    GST_DEBUG='*:9' GST_DEBUG_COLOR_MODE=off WAVESPEED_API_KEY="$key_env" \
    "$launch" -v -m "$@" > "$work/logs/$name.log" 2>&1
}

# The pipeline with cache-dir $1 and more wanr2v properties after it.
set_pipeline () {
  local cache=$1
  shift
  pipeline=(wanr2v name=w engine=wavespeed "api-url=$api" "$@"
    "cache-dir=$cache" "result-location=$work/run/out.mp4"
    "prompt=Video 1 waves at the camera" duration=5 poll-interval=50 !
    fakesink videotestsrc num-buffers=10 !
    video/x-raw,width=160,height=120,framerate=10/1 ! w.video_0)
}
set_pipeline "$work/run/cache"

# 1. a whole job: upload, submit, polls, download, decode
if run_pipeline job "$key" "${pipeline[@]}"; then
  [ -s "$work/run/out.mp4" ] || fail "the job wrote no clip"
else
  fail "the job failed (see below)"; tail -5 "$work/logs/job.log"
fi
lines=$(wc -l < "$work/logs/job.log")
echo "job at GST_DEBUG=*:9: $lines lines of log"
[ "$lines" -gt 10000 ] || fail "the debug log is too short to mean anything"
# 2. the same request again: served from the result store
run_pipeline cached "$key" "${pipeline[@]}" || fail "the cached run failed"
# 3. a key the service refuses: the error path
set_pipeline "$work/run/cache2"
if run_pipeline refused "$wrong" "${pipeline[@]}"; then
  fail "a wrong key was accepted"
fi
grep -q "refused the API key" "$work/logs/refused.log" ||
  fail "the refused run does not say why"

scan "$key" "pipelines" "$work/logs" "$work/run" "$GST_REGISTRY"
scan "$wrong" "pipelines (refused key)" "$work/logs" "$work/run"

# --- the test suites at GST_DEBUG=*:9 ---------------------------------------
for suite in "$@"; do
  exe="$build/tests/$suite"
  src=$(find "$srcdir" -name "$(basename "$suite").c" | head -1)
  [ -x "$exe" ] && [ -n "$src" ] || { fail "no suite $suite"; continue; }
  keys=$(sed -n 's/^#define \(WRONG_\)\{0,1\}KEY "\(.*\)"$/\2/p' "$src")
  [ -n "$keys" ] || { fail "$suite defines no KEY"; continue; }
  # the fleet's secrets too: the database password, the S3 secret key
  keys="$keys $(sed -n 's/^#define WR2V_TEST_\(PG_PASSWORD\|S3_SECRET\) "\(.*\)"$/\2/p' \
    "$srcdir"/fleet/wr2v-test-*.h)"
  # a suite's own check that its log spy works logs the key on purpose
  skips=()
  for path in $(sed -n 's/.*g_test_add_func ("\([^"]*key-spy[^"]*\)".*/\1/p' \
      "$src"); do
    skips+=(-s "$path")
  done
  mkdir -p "$work/suite-tmp/$suite"
  # traversable by the postgres user, whose server a fleet suite starts
  # in a directory of its TMPDIR
  chmod 711 "$work" "$work/suite-tmp" "$work/suite-tmp/$suite"
  log="$work/logs/suite-$(basename "$suite").log"
  # WANR2V_TEST_VERBOSE: the suites keep GStreamer's own log output.
  # Logging everything makes every step slower: the suites' promptness
  # bounds are scaled, since this run looks for keys, not for time.
  env TMPDIR="$work/suite-tmp/$suite" GST_DEBUG='*:9' GST_DEBUG_COLOR_MODE=off \
    WANR2V_TEST_VERBOSE=1 \
    WANR2V_TEST_TIME_SCALE="${WANR2V_TEST_TIME_SCALE:-4}" \
    "$exe" "${skips[@]}" > "$log" 2>&1
  rc=$?
  if [ "$rc" -eq 77 ]; then
    # a suite that could not get what it needs (test-s3: npm offline)
    echo "$suite skipped: $(grep -m 1 SKIP "$log")"
  elif [ "$rc" -ne 0 ]; then
    fail "$suite failed at GST_DEBUG=*:9"
    grep -E '^(not ok|Bail out)|ERROR:' "$log" | head -5
  fi
  echo "$suite at GST_DEBUG=*:9: $(wc -l < "$log") lines of log"
  for k in $keys; do
    scan "$k" "$suite" "$log" "$work/suite-tmp/$suite"
  done
  # the S3 access key id is in every presigned URL: never in a log
  scan "Credential=S3RVER" "$suite (S3 access key id)" "$log"
  rm -f "$log"
done

# --- the scan itself works: a key on the command line IS logged -------------
canary="wr2v-CANARY-CMDLINE-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
set_pipeline "$work/run/cache3" "api-key=$canary"
run_pipeline cmdline "" "${pipeline[@]}" || true
if grep -q -F -e "$canary" "$work/logs/cmdline.log"; then
  echo "as documented: a key given as api-key=... on the command line shows" \
    "in GStreamer's own debug log (give it through the environment)"
else
  echo "note: a key given on the command line did not show in the log"
fi

if [ "$failures" -gt 0 ]; then
  echo "secrets scan: FAILED ($failures)"
  exit 1
fi
echo "secrets scan: PASSED (keys $key, $wrong and the suites' keys appear" \
  "nowhere)"
