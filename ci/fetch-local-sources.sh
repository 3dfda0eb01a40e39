#!/usr/bin/env bash
# Gather the host toolchain's sources from the package registries reachable on machines without
# general internet access, into DIR (default: $UKTOOLCHAIN_CI_CACHE or ~/.cache/uktoolchain-ci):
#   DIR/ocaml-5.3.0.tgz   `npm pack ocaml@5.3.0`: a different tarball than the pinned upstream one,
#                         so it is given to uktoolchain as a local source (--source ocaml=...)
#   DIR/mirror/<sha256>   Debian trixie's .orig tarballs of findlib 1.9.8 and dune 3.17.2, which are
#                         byte-identical to the pinned upstream archives: a source mirror directory
#   DIR/mirror/<sha256>   Debian sid's ocaml_5.4.1.orig.tar.xz, byte-identical to the pinned upstream
#                         ocaml-5.4.1.tar.xz (the OCaml 5.4 set); sid's pool drops files when Debian
#                         moves on: then this says so and the 5.4 set's CI test skips, saying why
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
ocaml541=b1e297adc186635540758eb064c7fab025598ae4436f3b9767e5025188b4e0ab
if [ ! -s "$dir/mirror/$ocaml541" ]; then
  list=/etc/apt/sources.list.d/uktoolchain-sid-src.sources
  if [ ! -f "$list" ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    printf 'Types: deb-src\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      | $sudo_cmd tee "$list" >/dev/null
    $sudo_cmd apt-get update -qq
  fi
  mkdir -p "$dir/debian-sid"
  # Any Debian revision of 5.4.1 has the same orig; the .dsc may be gone while the orig is served.
  for version in $(apt-cache showsrc ocaml 2>/dev/null | awk '/^Version: 5\.4\.1-/ {print $2}'); do
    (cd "$dir/debian-sid" && apt-get source -qq --download-only "ocaml=$version" >/dev/null 2>&1) || true
    [ -s "$dir/debian-sid/ocaml_5.4.1.orig.tar.xz" ] && break
  done
  orig="$dir/debian-sid/ocaml_5.4.1.orig.tar.xz"
  if [ -s "$orig" ] && [ "$(sha256sum "$orig" | cut -d' ' -f1)" = "$ocaml541" ]; then
    cp "$orig" "$dir/mirror/$ocaml541"
  else
    echo "fetch-local-sources: OCaml 5.4.1's source (ocaml_5.4.1.orig.tar.xz, sha256 $ocaml541) is not served" \
         "by Debian's sid source pool any more; tests of the OCaml 5.4 set will skip" >&2
  fi
fi
echo "OCAML_SOURCE=$dir/ocaml-5.3.0.tgz"
echo "SOURCE_MIRROR=$dir/mirror"
