#!/usr/bin/python3
"""Generate a clip with the wanr2v element from Python (GObject introspection).

Builds the pipeline

    reference videos (files, or two test sources) --> video_0, video_1
    reference images (files, or one test PNG)      --> image_0
    wanr2v ! videoconvert ! x264enc ! mp4mux ! filesink
    wanr2v.audio ! audioconvert ! avenc_aac ! mp4mux    (the soundtrack)

shows a progress bar from the element's GST_MESSAGE_PROGRESS and wanr2v/...
messages, prints the engine and the cost estimate, and exits non-zero with
the element's own error message when something goes wrong. Ctrl-C stops the
pipeline (state NULL) at once.

Run it with Debian's Python, which has python3-gi:

    /usr/bin/python3 examples/python/wanr2v-app.py -o clip.mp4 \\
        "Video 1 hands Image 3 to Video 2 in a sunny park"

The engine is "auto" unless --engine is given: a hosted engine when its API
key is set (WAVESPEED_API_KEY, DASHSCOPE_API_KEY), else the offline preview.
"""

import argparse
import os
import re
import signal
import sys
import time

# Find the plugin in this source tree's build directory when there is one;
# otherwise GStreamer finds the installed plugin by itself. This must happen
# before Gst.init() scans the plugins.
_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BUILD_PLUGIN_DIR = os.path.join(_TOP, "build", "gst")
if os.path.isdir(_BUILD_PLUGIN_DIR):
    os.environ["GST_PLUGIN_PATH"] = os.pathsep.join(
        p for p in (_BUILD_PLUGIN_DIR, os.environ.get("GST_PLUGIN_PATH")) if p)

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

DEFAULT_PROMPT = "Video 1 hands Image 3 to Video 2 in a sunny park"

# Where each phase sits on the overall bar (percent): generation takes up
# to 90 %, encoding the output the rest.
PHASES = {
    "prepare": (0, 5),
    "upload": (5, 15),
    "submit": (15, 18),
    "queued": (18, 25),
    "generating": (25, 85),
    "download": (85, 88),
    "decode": (88, 90),
    "encode": (90, 100),
}
PERCENT_RE = re.compile(r"(\d{1,3})\s*%")


class ProgressBar:
    """One line redrawn in place on a terminal; plain lines otherwise."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.start = time.monotonic()
        self.percent = 0.0
        self.phase = ""
        self.text = ""
        self.last_plain = None
        self.shown = False

    def update(self, phase=None, fraction=None, text=None):
        if phase is not None and phase in PHASES:
            if phase != self.phase:
                self.phase = phase
                fraction = fraction or 0.0
        if text is not None:
            self.text = text
        if self.phase in PHASES and fraction is not None:
            lo, hi = PHASES[self.phase]
            fraction = min(max(fraction, 0.0), 1.0)
            # never move backwards
            self.percent = max(self.percent, lo + (hi - lo) * fraction)
        self.draw()

    def draw(self):
        elapsed = int(time.monotonic() - self.start)
        clock = "%d:%02d" % (elapsed // 60, elapsed % 60)
        if self.tty:
            filled = int(self.WIDTH * self.percent / 100)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            line = "[%s] %3d%% %s %s" % (bar, self.percent, clock, self.text)
            cols = 79
            try:
                size = os.get_terminal_size(self.stream.fileno()).columns
                if size >= 20:      # a pseudo-terminal may say 0
                    cols = size - 1
            except OSError:
                pass
            self.stream.write("\r\033[K" + line[:cols])
            self.shown = True
        else:
            line = "%3d%% %s" % (self.percent, self.text)
            if line != self.last_plain:
                self.stream.write("[%s] %s\n" % (clock, line))
                self.last_plain = line
        self.stream.flush()

    def message(self, text):
        """Prints a line above the bar."""
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        if self.tty and self.shown:
            self.draw()
        self.stream.flush()

    def finish(self):
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
        self.shown = False


class App:
    def __init__(self, args):
        self.args = args
        self.exit_code = 0
        self.loop = GLib.MainLoop()
        self.bar = ProgressBar(sys.stderr)
        self.pipeline = None
        self.gen = None
        self.encoding = False
        self.cost_printed = False

    # --- building the pipeline ---------------------------------------

    def make(self, factory, name=None, **props):
        element = Gst.ElementFactory.make(factory, name)
        if element is None:
            raise RuntimeError(
                "GStreamer element %s is missing: %s" % (factory, hint(factory)))
        for key, value in props.items():
            element.set_property(key.replace("_", "-"), value)
        self.pipeline.add(element)
        return element

    def link_reference(self, chain, template):
        """Links the last element of @chain to a new request pad of wanr2v."""
        for a, b in zip(chain, chain[1:]):
            if not a.link(b):
                raise RuntimeError("cannot link %s to %s" % (a.name, b.name))
        pad = self.gen.request_pad_simple(template)
        if chain[-1].get_static_pad("src").link(pad) != Gst.PadLinkReturn.OK:
            raise RuntimeError("cannot link %s to wanr2v %s" % (chain[-1].name, template))
        return pad.get_name()

    def link_audio(self, muxer):
        """The clip's soundtrack (silence of its length when it has none),
        from wanr2v's audio pad, as AAC next to the picture."""
        aac = "avenc_aac" if Gst.ElementFactory.find("avenc_aac") else "voaacenc"
        aconvert = self.make("audioconvert")
        encoder = self.make(aac)
        if (self.gen.get_static_pad("audio").link(aconvert.get_static_pad("sink"))
                != Gst.PadLinkReturn.OK or not aconvert.link(encoder)
                or not encoder.link(muxer)):
            raise RuntimeError("cannot link wanr2v's audio pad to %s" % aac)

    def print_streams(self):
        """What the clip's two streams were, as they left wanr2v."""
        for name in ("src", "audio"):
            pad = self.gen.get_static_pad(name)
            caps = pad.get_current_caps() if pad.is_linked() else None
            if caps is None:
                continue
            s = caps.get_structure(0)
            if name == "src":
                print("video: %dx%d at %d/%d fps" % (
                    s.get_value("width"), s.get_value("height"),
                    s.get_fraction("framerate")[1], s.get_fraction("framerate")[2]))
            else:
                print("audio: %d Hz, %d channels" % (
                    s.get_value("rate"), s.get_value("channels")))

    def build(self):
        args = self.args
        self.pipeline = Gst.Pipeline.new("wanr2v-app")

        self.gen = self.make("wanr2v", "wanr2v", prompt=args.prompt,
                             duration=args.duration)
        # enum properties from their nicks, as gst-launch-1.0 would
        Gst.util_set_object_arg(self.gen, "engine", args.engine)
        if args.aspect_ratio:
            Gst.util_set_object_arg(self.gen, "aspect-ratio", args.aspect_ratio)
        if args.cache_dir:
            self.gen.set_property("cache-dir", args.cache_dir)
        if args.result_location:
            self.gen.set_property("result-location", args.result_location)

        convert = self.make("videoconvert")
        caps = self.make("capsfilter", caps=Gst.Caps.from_string("video/x-raw,format=I420"))
        encoder = self.make("x264enc")
        muxer = self.make("mp4mux")
        sink = self.make("filesink", location=args.output)
        for a, b in ((self.gen, convert), (convert, caps), (caps, encoder),
                     (encoder, muxer), (muxer, sink)):
            if not a.link(b):
                raise RuntimeError("cannot link %s to %s" % (a.name, b.name))
        if not args.no_audio:
            self.link_audio(muxer)

        pads = []
        if args.video or args.image:
            for path in args.video:
                pads.append((self.link_reference(
                    [self.make("filesrc", location=path)], "video_%u"), path))
            for path in args.image:
                pads.append((self.link_reference(
                    [self.make("filesrc", location=path)], "image_%u"), path))
        else:
            # Stand-ins: two 2-second test videos and one PNG image.
            raw = Gst.Caps.from_string("video/x-raw,width=640,height=360,framerate=30/1")
            for pattern in ("ball", "smpte"):
                src = self.make("videotestsrc", num_buffers=60)
                Gst.util_set_object_arg(src, "pattern", pattern)
                pads.append((self.link_reference(
                    [src, self.make("capsfilter", caps=raw)], "video_%u"),
                    "videotestsrc pattern=%s" % pattern))
            src = self.make("videotestsrc", num_buffers=1)
            Gst.util_set_object_arg(src, "pattern", "pinwheel")
            pads.append((self.link_reference([src, self.make("pngenc")], "image_%u"),
                         "videotestsrc pattern=pinwheel ! pngenc"))
        for pad, what in pads:
            self.bar.message("reference %s: %s" % (pad, what))

    # --- bus ---------------------------------------------------------

    def on_message(self, bus, msg):
        try:
            self.handle_message(msg)
        except Exception as e:  # a bug here must not leave the pipeline running
            self.bar.finish()
            print("error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
            self.stop(1)
        return True

    def handle_message(self, msg):
        t = msg.type
        if t == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            self.bar.finish()
            print("error: %s" % err.message, file=sys.stderr)
            if self.args.verbose:
                print("  from: %s" % msg.src.get_path_string(), file=sys.stderr)
                print("  domain: %s, code %d" % (err.domain, err.code), file=sys.stderr)
                if debug:
                    print("  debug: %s" % debug, file=sys.stderr)
                details = msg.parse_error_details()
                if details:
                    print("  details: %s" % details.to_string(), file=sys.stderr)
            else:
                print("(run with --verbose for the details)", file=sys.stderr)
            self.stop(1)
        elif t == Gst.MessageType.WARNING:
            err, debug = msg.parse_warning()
            self.bar.message("warning from %s: %s" % (msg.src.get_path_string(), err.message))
        elif t == Gst.MessageType.EOS:
            self.bar.update("encode", 1.0, "done")
            self.bar.finish()
            self.print_streams()
            print("wrote %s" % self.args.output)
            self.stop(0)
        elif t == Gst.MessageType.PROGRESS:
            self.on_progress(msg)
        elif t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name().startswith("wanr2v/"):
                self.on_wanr2v_message(s)
        elif t == Gst.MessageType.STATE_CHANGED and msg.src == self.gen:
            old, new, pending = msg.parse_state_changed()
            if new == Gst.State.PAUSED and old == Gst.State.READY:
                # known from PAUSED on: 0 for free engines
                cost = self.gen.get_property("estimated-cost")
                self.bar.message("estimated-cost property: %s" % format_cost(cost))

    def on_progress(self, msg):
        ptype, code, text = msg.parse_progress()
        if ptype == Gst.ProgressType.START:
            self.bar.update("prepare", 0.0, text)
        elif ptype == Gst.ProgressType.CONTINUE:
            fraction = None
            m = PERCENT_RE.search(text or "")
            if m:
                fraction = int(m.group(1)) / 100.0
            self.bar.update(code, fraction, text)
        elif ptype == Gst.ProgressType.COMPLETE:
            self.bar.update("decode", 1.0, text)
            # from now on the bar follows the encoder's position
            self.encoding = True
            GLib.timeout_add(200, self.poll_position)
        elif ptype == Gst.ProgressType.CANCELED:
            self.bar.message("generation canceled: %s" % text)
        elif ptype == Gst.ProgressType.ERROR:
            self.bar.message("generation failed: %s" % text)

    def on_wanr2v_message(self, s):
        name = s.get_name()
        if name == "wanr2v/engine":
            self.bar.message("engine: %s (%s)" % (s.get_string("engine"), s.get_string("reason")))
        elif name == "wanr2v/references":
            names = ["%s = %s" % (s.nth_field_name(i), s.get_string(s.nth_field_name(i)))
                     for i in range(s.n_fields())]
            self.bar.message("prompt numbering: %s" % ", ".join(names))
        elif name == "wanr2v/cost":
            ok, usd = s.get_double("estimated-usd")
            self.bar.message("estimated cost: %s on %s" % (
                format_cost(usd, s.get_string("currency") or "USD"), s.get_string("engine")))
        elif name == "wanr2v/submitted":
            self.bar.message("submitted: job %s on %s" % (s.get_string("job-id"), s.get_string("engine")))
        elif name == "wanr2v/resumed":
            self.bar.message("resumed: job %s (submitted by an earlier run)" % s.get_string("job-id"))
        elif name == "wanr2v/status":
            ok_step, step = s.get_int("step")
            ok_steps, steps = s.get_int("steps")
            status = s.get_string("status") or ""
            if ok_step and ok_steps and steps > 0:
                self.bar.update("generating", step / steps, "%s: step %d of %d" % (status, step, steps))
            else:
                self.bar.update(None, None, status)
        elif name == "wanr2v/result":
            ok, cached = s.get_boolean("cached")
            self.bar.message("clip: %s%s" % (s.get_string("location"),
                                             " (from the result store)" if cached else ""))

    def poll_position(self):
        if not self.encoding or self.pipeline is None:
            return False
        ok, pos = self.pipeline.query_position(Gst.Format.TIME)
        if ok and pos >= 0:
            total = self.args.duration * Gst.SECOND
            self.bar.update("encode", pos / total, "encoding %s: %.1f of %d s" % (
                os.path.basename(self.args.output), pos / Gst.SECOND, self.args.duration))
        return True

    # --- running -----------------------------------------------------

    def on_sigint(self):
        self.bar.finish()
        print("interrupted: stopping the pipeline", file=sys.stderr)
        self.stop(130)
        return GLib.SOURCE_REMOVE

    def stop(self, code):
        self.encoding = False
        if self.pipeline is not None:
            # NULL stops a job at once, wherever it is
            self.pipeline.set_state(Gst.State.NULL)
        if code != 0 and os.path.exists(self.args.output):
            # an MP4 without its index is of no use
            os.unlink(self.args.output)
        self.exit_code = self.exit_code or code
        self.loop.quit()

    def on_start_failed(self):
        # normally the element's ERROR message got here first
        if self.exit_code == 0:
            print("error: the pipeline could not start", file=sys.stderr)
            self.stop(1)
        return GLib.SOURCE_REMOVE

    def run(self):
        try:
            self.build()
        except RuntimeError as e:
            print("error: %s" % e, file=sys.stderr)
            return 1
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, self.on_sigint)

        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            # the element posted why as an ERROR message: the loop prints it
            GLib.timeout_add(1000, self.on_start_failed)
        self.loop.run()
        bus.remove_signal_watch()
        self.pipeline.set_state(Gst.State.NULL)
        return self.exit_code


def format_cost(usd, currency="USD"):
    if usd is None or usd < 0:
        return "unknown"
    if usd == 0:
        return "free (0.00 %s)" % currency
    return "%.2f %s" % (usd, currency)


def hint(factory):
    if factory.startswith("wanr2v"):
        return ("build the plugin (bash .ci/build) or install it, "
                "or set GST_PLUGIN_PATH to the directory holding libgstwanr2v.so")
    return "install the GStreamer plugins (bash .ci/install-deps)"


def main():
    parser = argparse.ArgumentParser(
        description="Generate a clip from reference videos, images and a prompt "
                    "with the wanr2v GStreamer element, into an MP4 file.")
    parser.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT,
                        help='what the clip shows, naming references "Video 1", '
                             '"Video 2", "Image 3" (default: "%(default)s")')
    parser.add_argument("-o", "--output", default="wanr2v-app.mp4",
                        help="the MP4 to write (default: %(default)s)")
    parser.add_argument("-e", "--engine", default="auto",
                        choices=["auto", "preview", "wavespeed", "dashscope", "comfyui"],
                        help="where the clip is generated (default: auto: a hosted "
                             "engine when its API key is set, else preview)")
    parser.add_argument("-d", "--duration", type=int, default=5,
                        help="clip length in seconds (default: 5)")
    parser.add_argument("--aspect-ratio", choices=["16:9", "9:16", "1:1", "4:3", "3:4"],
                        help="output aspect ratio (default: the element's, 16:9)")
    parser.add_argument("--cache-dir", help="result store (default: the element's)")
    parser.add_argument("--result-location",
                        help="also save the MP4 as delivered by the engine here")
    parser.add_argument("--video", action="append", default=[], metavar="FILE",
                        help="a reference video (MP4); repeat for more")
    parser.add_argument("--image", action="append", default=[], metavar="FILE",
                        help="a reference image (PNG or JPEG); repeat for more")
    parser.add_argument("--no-audio", action="store_true",
                        help="write the picture only (the audio pad left unlinked)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the debug details of errors")
    args = parser.parse_args()
    # like any command-line tool: end quietly when the reader of our output
    # goes away (| head), rather than raising BrokenPipeError in callbacks
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    Gst.init(None)
    return App(args).run()


if __name__ == "__main__":
    sys.exit(main())
