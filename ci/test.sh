#!/usr/bin/env bash
# The test command: installs what a fresh machine lacks, then runs the whole suite, including the
# slow test that builds the real host toolchain. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
eval "$(ci/fetch-local-sources.sh)"
export UKTOOLCHAIN_TEST_OCAML_SOURCE="$OCAML_SOURCE"
export UKTOOLCHAIN_TEST_MIRROR="$SOURCE_MIRROR"
# merlin and what builds it, from Debian's source packages (cppo/csexp join the mirror above).
eval "$(ci/fetch-editor-sources.sh)"
export UKTOOLCHAIN_TEST_EDITOR_SOURCES="$EDITOR_SOURCE_DIR"
eval "$(ci/fetch-rpi4-firmware.sh)"
export UKTOOLCHAIN_TEST_RPI4_FIRMWARE="$RPI4_FIRMWARE"
exec .venv/bin/python -m pytest tests "$@"
