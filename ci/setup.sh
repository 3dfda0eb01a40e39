#!/usr/bin/env bash
# Install what a fresh Debian/Ubuntu machine lacks to build and test uktoolchain, then the package
# itself into .venv (editable, with test extras). Idempotent; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(gcc make patch pkg-config git binutils libseccomp-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "ci/setup.sh: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
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
