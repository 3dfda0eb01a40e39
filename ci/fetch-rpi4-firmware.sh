#!/usr/bin/env bash
# Put the Raspberry Pi 4 firmware of Debian's non-free-firmware package raspi-firmware (bookworm,
# upstream release 1.20220830, the release rpi4-firmware pins) in DIR (default:
# $UKTOOLCHAIN_CI_CACHE or ~/.cache/uktoolchain-ci), without installing it: `apt-get download`, then
# `dpkg-deb -x`. apt verifies the .deb against Debian's signed index. Adds an apt source for
# bookworm's non-free-firmware component, taking the archive URI from the machine's own
# debian.sources. Prints RPI4_FIRMWARE=<dir holding start4.elf and fixup4.dat>.
set -euo pipefail
dir=${1:-${UKTOOLCHAIN_CI_CACHE:-$HOME/.cache/uktoolchain-ci}}/raspi-firmware
version=1.20220830+ds-1
firmware="$dir/$version/usr/lib/raspi-firmware"
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

if [ ! -s "$firmware/start4.elf" ]; then
  if ! apt-cache show "raspi-firmware=$version" >/dev/null 2>&1; then
    list=/etc/apt/sources.list.d/uktoolchain-non-free-firmware.sources
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    printf 'Types: deb\nURIs: %s\nSuites: bookworm\nComponents: non-free-firmware\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      | $sudo_cmd tee "$list" >/dev/null
    $sudo_cmd apt-get update -qq
  fi
  mkdir -p "$dir/download"
  if ! (cd "$dir/download" && apt-get download -qq "raspi-firmware=$version" 2>"$dir/download/apt.log"); then
    cat "$dir/download/apt.log" >&2
    exit 1
  fi
  rm -rf "$dir/$version"
  dpkg-deb -x "$dir/download/raspi-firmware_${version}_all.deb" "$dir/$version"
fi
echo "RPI4_FIRMWARE=$firmware"
