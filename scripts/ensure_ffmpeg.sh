#!/usr/bin/env bash
# FFmpeg's shared libraries for the torchcodec video backend (TorchCodec
# loads the system's libavcodec etc.; decord and PyAV bundle their own).
# Idempotent and quiet: nothing happens when libavcodec is already known to
# the dynamic linker; otherwise Debian's `ffmpeg` package is installed when
# apt-get is usable (as root), else one warning line says what is missing.
set -u
if ldconfig -p 2>/dev/null | grep -q 'libavcodec\.so'; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log=$(mktemp)
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            ffmpeg >>"$log" 2>&1; then
        rm -f "$log"
        exit 0
    fi
    echo "warning: apt-get could not install ffmpeg (log: $log); the torchcodec" \
        "video backend stays unavailable" >&2
    exit 0
fi
echo "warning: FFmpeg's shared libraries (libavcodec ...) are missing and cannot be" \
    "installed here (needs root and apt-get); the torchcodec video backend stays" \
    "unavailable: install FFmpeg 4 to 8 with your package manager" >&2
