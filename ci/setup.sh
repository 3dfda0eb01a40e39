#!/usr/bin/env bash
# Install what a fresh Debian/Ubuntu machine lacks to build and test uktoolchain, then the package
# itself into .venv (editable, with test extras). Idempotent; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(gcc make patch pkg-config git binutils cmake libseccomp-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
# SD card images for aarch64-rpi4 (uktoolchain image): mkfs.vfat and mcopy/mdir.
apt_packages+=(dosfstools mtools)
# Rust sysroots (install --with rust): a toolchain with rust-src and compiler_builtins' source, and
# QEMU user mode for the aarch64 Rust tests. uktoolchain finds /usr/bin/rustc even when rustup's
# ~/.cargo/bin comes first on PATH (see `uktoolchain doctor rust`).
apt_packages+=(rustc cargo rust-src librust-compiler-builtins-dev qemu-user-static)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "ci/setup.sh: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# QEMU with the raspi4b machine (QEMU >= 9) boots the rpi4 binding's test. Debian 12 has it in
# bookworm-backports, from the same archive as the machine's own Debian entry. qemu-system-x86
# comes from there too: backports' qemu-system-arm beside bookworm's qemu-system-x86 does not resolve.
if ! { command -v qemu-system-aarch64 >/dev/null && qemu-system-aarch64 -M help 2>/dev/null | grep '^raspi4b ' >/dev/null; }; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  suite=()
  if [ "$codename" = bookworm ]; then
    list=/etc/apt/sources.list.d/uktoolchain-backports.sources
    if [ ! -f "$list" ]; then
      uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
        | $sudo_cmd tee "$list" >/dev/null
    fi
    suite=(-t bookworm-backports)
  fi
  echo "ci/setup.sh: installing qemu-system-arm qemu-system-x86 ${suite[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${suite[@]}" qemu-system-arm qemu-system-x86 >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/uktoolchain --version

# conan_server for the remote tests (a real server on 127.0.0.1): its own venv, as it pins its own Conan.
if ! .venv-server/bin/python -c "import conans.server.launcher" >/dev/null 2>&1; then
  "$python" -m venv .venv-server
  .venv-server/bin/python -m pip install -q 'conan-server>=2.20,<3' 2>&1 | grep -v "^WARNING: Location" || true
fi
.venv-server/bin/python -c "import conans.server.launcher"
