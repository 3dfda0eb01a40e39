#!/usr/bin/env bash
# Gather the sources of the editor extra (merlin for OCaml 5.3 and what builds it) from Debian's
# source packages, into DIR (default: $UKTOOLCHAIN_CI_CACHE or ~/.cache/uktoolchain-ci):
#   DIR/mirror/<checksum>   cppo 1.8.0 (sha512) and csexp 1.5.2 (sha256): Debian's .orig tarballs
#                           are the pinned upstream archives byte for byte: a source mirror directory
#   DIR/editor/*.orig.*     merlin 5.4.1-503 (+ds: without the generated parser and the vendored
#                           menhirLib), menhir 20240715 (+ds: without the prebuilt manuals) and yojson
#                           2.0.2 (a tag archive, not the release .tbz): other bytes than upstream's,
#                           so given to uktoolchain as local sources (--source NAME=PATH)
# Only the .orig tarballs are used, each checked against the sha256 that Debian's signed Sources
# index lists (pinned below). Debian serves some of these packages' .dsc no more (404); the
# .orig is what counts. apt runs with a private configuration (trixie, sid and bookworm deb-src
# entries taking the archive URI from the machine's own debian.sources): the system's apt setup
# is left alone and no root is needed.
# Prints EDITOR_SOURCES="--source merlin=... --source menhir=... --source yojson=...",
# EDITOR_SOURCE_DIR=DIR/editor and SOURCE_MIRROR=DIR/mirror.
set -euo pipefail
dir=${1:-${UKTOOLCHAIN_CI_CACHE:-$HOME/.cache/uktoolchain-ci}}
mkdir -p "$dir/mirror" "$dir/editor"

# package=version  orig file  sha256 (Debian's Sources index)  role (mirror: named by the upstream checksum)
wanted=(
  "ocaml-merlin=5.4.1-503+ds-1 ocaml-merlin_5.4.1-503+ds.orig.tar.xz 16c3354c2d0638e40f8ce39b115156ae3992e6dd9a0f2f34bdbb0504638bf92a merlin"
  "menhir=20240715+ds-1 menhir_20240715+ds.orig.tar.xz 6adc86fdd54309e3acc309b61266d43ea1206cdb772cfabd58d73c7116ad6cf3 menhir"
  "yojson=2.0.2-2 yojson_2.0.2.orig.tar.gz 04dcb4164d36a58a8615da79f51a3a614ac1539253ddc859410143bc696b6ef7 yojson"
  "ocaml-csexp=1.5.2-4 ocaml-csexp_1.5.2.orig.tar.bz2 1a14dd04bb4379a41990248550628c77913a9c07f3c35c1370b6960e697787ff mirror:sha256"
  "cppo=1.8.0-2 cppo_1.8.0.orig.tar.gz 6e62a8ee0217c9cc38d5860110eb18eb8d89c05c420353d298e1431fe8bac00f mirror:sha512"
)

have() { [ -s "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

apt_ready=0
apt_private() {
  local state="$dir/apt"
  if [ "$apt_ready" = 0 ]; then
    mkdir -p "$state/lists/partial" "$state/sources.d" "$state/cache/archives/partial"
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    printf 'Types: deb-src\nURIs: %s\nSuites: trixie sid bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$uri" >"$state/sources.d/uktoolchain-editor.sources"
    APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$state/sources.d"
              -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o "Debug::NoLocking=1"
              -o "APT::Sandbox::User=$(id -un)")
    apt-get "${APT_OPTS[@]}" update -qq >"$state/update.log" 2>&1 || { cat "$state/update.log" >&2; exit 1; }
    apt_ready=1
  fi
  apt-get "${APT_OPTS[@]}" "$@"
}

sources=()
for entry in "${wanted[@]}"; do
  read -r spec orig sha role <<<"$entry"
  file="$dir/editor/$orig"
  if ! have "$file" "$sha"; then
    # The .dsc or .debian.tar may be gone (404) while the .orig is still served: judge by the .orig.
    (cd "$dir/editor" && apt_private source -qq --download-only "$spec" >"$dir/editor/apt.log" 2>&1) || true
    if ! have "$file" "$sha"; then
      echo "fetch-editor-sources: Debian no longer serves $orig of $spec (or it changed); see $dir/editor/apt.log" >&2
      exit 1
    fi
  fi
  case "$role" in
    mirror:*) cp "$file" "$dir/mirror/$(${role#mirror:}sum "$file" | cut -d' ' -f1)" ;;
    *) sources+=("--source $role=$file") ;;
  esac
done
echo "EDITOR_SOURCES=\"${sources[*]}\""
echo "EDITOR_SOURCE_DIR=$dir/editor"
echo "SOURCE_MIRROR=$dir/mirror"
