#!/usr/bin/env bash
# The main job on a fresh machine: install uktoolchain, build the host OCaml toolchain
# (ocaml 5.3.0 + ocamlfind + dune) from sources reachable here, and show that it works.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/setup.sh
eval "$(ci/fetch-local-sources.sh)"
export UKTOOLCHAIN_SOURCE_MIRROR="$SOURCE_MIRROR"
.venv/bin/uktoolchain install unix --ocaml 5.3 --source ocaml="$OCAML_SOURCE"
eval "$(.venv/bin/uktoolchain env unix --ocaml 5.3)"
echo "ocaml $(ocamlfind ocamlopt -version), $(ocamlfind list 2>/dev/null | grep -c .) findlib packages, dune $(dune --version)"
