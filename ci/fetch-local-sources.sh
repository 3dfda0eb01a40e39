#!/usr/bin/env bash
# Gather the host toolchain's sources from the package registries reachable on machines without
# general internet access, into DIR (default: $UKTOOLCHAIN_CI_CACHE or ~/.cache/uktoolchain-ci):
#   DIR/ocaml-5.3.0.tgz   `npm pack ocaml@5.3.0`: a different tarball than the pinned upstream one,
#                         so it is given to uktoolchain as a local source (--source ocaml=...)
#   DIR/mirror/<sha256>   Debian trixie's .orig tarballs of findlib 1.9.8 and dune 3.17.2, which are
#                         byte-identical to the pinned upstream archives: a source mirror directory
# Prints the two paths as shell assignments (OCAML_SOURCE=..., SOURCE_MIRROR=...).
set -euo pipefail
dir=${1:-${UKTOOLCHAIN_CI_CACHE:-$HOME/.cache/uktoolchain-ci}}
mkdir -p "$dir/mirror" "$dir/debian"
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

if [ ! -s "$dir/ocaml-5.3.0.tgz" ]; then
  (cd "$dir" && npm pack --silent ocaml@5.3.0 >/dev/null)
fi

need_debian=0
for want in 662c910f774e9fee3a19c4e057f380581ab2fc4ee52da4761304ac9c31b8869d \
            9deafeed0ecfe9e65e642cd8e6197f0864f73fcd7b94b5b199ae4d2e07a2ea64; do
  [ -s "$dir/mirror/$want" ] || need_debian=1
done
if [ "$need_debian" = 1 ]; then
  list=/etc/apt/sources.list.d/uktoolchain-trixie-src.sources
  # Same archive as the machine's own Debian entry, source packages of trixie.
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    | $sudo_cmd tee "$list" >/dev/null
  $sudo_cmd apt-get update -qq
  (cd "$dir/debian" && apt-get source -qq --download-only findlib=1.9.8-1 ocaml-dune=3.17.2-1 >/dev/null 2>&1)
  for orig in "$dir"/debian/findlib_1.9.8.orig.tar.gz "$dir"/debian/ocaml-dune_3.17.2.orig.tar.bz2; do
    cp "$orig" "$dir/mirror/$(sha256sum "$orig" | cut -d' ' -f1)"
  done
fi
echo "OCAML_SOURCE=$dir/ocaml-5.3.0.tgz"
echo "SOURCE_MIRROR=$dir/mirror"
