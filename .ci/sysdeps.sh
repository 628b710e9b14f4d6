#!/usr/bin/env bash
# System packages the app and its tests need: Xvfb and the X/GL libraries Qt loads.
# Installs what is missing when run as root (or with sudo); otherwise says what to install.
set -euo pipefail
pkgs=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libxkbcommon0 libxkbcommon-x11-0
      libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
      libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libxrender1
      libxi6 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 fonts-dejavu-core)
command -v dpkg-query >/dev/null || { echo "sysdeps: not a Debian system; install Xvfb and Qt's X/GL libraries yourself"; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "sysdeps: please install: ${missing[*]}"; exit 0; fi
echo "sysdeps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
