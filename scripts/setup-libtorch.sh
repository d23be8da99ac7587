#!/usr/bin/env bash
# Put libtorch 2.13.0 (CPU part of PyPI's torch wheel) into .libtorch/ at the repo root.
#
# Idempotent: if .libtorch/build-version already says 2.13.0, it does nothing.
# Atomic: everything is built in a temporary folder that is renamed into place only
# when complete, so an interrupted run never looks finished.
#
# Measured figures and the GPU recipe: docs/libtorch.md.
set -euo pipefail

TORCH_VERSION="2.13.0"
CUDART_VERSION="13.0.96"
CUPTI_VERSION="13.0.85"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.libtorch"
cache="$root/.cache/wheels"

if [[ -f "$dest/build-version" ]] && [[ "$(cat "$dest/build-version")" == "$TORCH_VERSION" ]]; then
    exit 0
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-libtorch: python3 with pip is needed to download the torch wheel" >&2
    exit 1
fi

echo "setup-libtorch: installing libtorch $TORCH_VERSION into $dest" >&2
mkdir -p "$cache"
for spec in "torch==$TORCH_VERSION" "nvidia-cuda-runtime==$CUDART_VERSION" \
            "nvidia-cuda-cupti==$CUPTI_VERSION"; do
    name="${spec%%==*}"
    ver="${spec##*==}"
    if ! compgen -G "$cache/${name//-/_}-$ver-*.whl" >/dev/null; then
        "$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$cache" "$spec"
    fi
done

tmp="$(mktemp -d "$root/.libtorch.partial.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib" "$tmp/include"

"$python" - "$cache" "$tmp" "$TORCH_VERSION" "$CUDART_VERSION" "$CUPTI_VERSION" <<'PY'
import glob, os, shutil, sys, zipfile

cache, out, torch_v, cudart_v, cupti_v = sys.argv[1:]

def wheel(prefix, version):
    hits = glob.glob(os.path.join(cache, f"{prefix}-{version}-*.whl"))
    if not hits:
        sys.exit(f"setup-libtorch: wheel {prefix}=={version} missing from {cache}")
    return hits[0]

def extract(zf, member, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with zf.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)

with zipfile.ZipFile(wheel("torch", torch_v)) as zf:
    libs = {"libtorch_cpu.so", "libc10.so", "libgomp.so.1"}
    for m in zf.namelist():
        if m.startswith("torch/include/") and not m.endswith("/"):
            extract(zf, m, os.path.join(out, "include", m[len("torch/include/"):]))
        elif m.startswith("torch/lib/") and os.path.basename(m) in libs:
            extract(zf, m, os.path.join(out, "lib", os.path.basename(m)))
            libs.discard(os.path.basename(m))
    if libs:
        sys.exit(f"setup-libtorch: torch wheel lacks {sorted(libs)}")

for prefix, version, lib in [("nvidia_cuda_runtime", cudart_v, "libcudart.so.13"),
                             ("nvidia_cuda_cupti", cupti_v, "libcupti.so.13")]:
    with zipfile.ZipFile(wheel(prefix, version)) as zf:
        hits = [m for m in zf.namelist() if os.path.basename(m) == lib]
        if not hits:
            sys.exit(f"setup-libtorch: {prefix} wheel lacks {lib}")
        extract(zf, hits[0], os.path.join(out, "lib", lib))
PY

# The wheel's libtorch.so only pulls in the CUDA build; an empty library with the
# same soname satisfies the linker on CPU with both rust-lld and GNU ld.
cc -shared -o "$tmp/lib/libtorch.so" -Wl,-soname,libtorch.so -x c /dev/null
echo "$TORCH_VERSION" > "$tmp/build-version"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "setup-libtorch: done ($(du -sh "$dest" | cut -f1))" >&2
