#!/bin/sh
# GStreamer's plugin scanner for a sanitizer build.
#
# GStreamer scans plugins in a child process, gst-plugin-scanner, which is
# not built with AddressSanitizer. Loading our ASan-built plugin into it
# fails ("ASan runtime does not come first in initial library list"), so
# the scan would skip the plugin. This wrapper starts the real scanner with
# the sanitizer runtimes preloaded. Leak detection is off here: the scanner
# loads every installed plugin once and exits, and what it leaks is theirs
# (the test processes themselves run with detect_leaks=1).
#
# Used through GST_PLUGIN_SCANNER by .ci/sanitizers.
set -e
scanner=${WANR2V_REAL_PLUGIN_SCANNER:-$(pkg-config --variable=pluginscannerdir gstreamer-1.0 2>/dev/null || true)/gst-plugin-scanner}
[ -x "$scanner" ] || scanner=/usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
LD_PRELOAD="${WANR2V_SANITIZER_PRELOAD:?} ${LD_PRELOAD:-}"
ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=0"
UBSAN_OPTIONS="halt_on_error=0"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec "$scanner" "$@"
