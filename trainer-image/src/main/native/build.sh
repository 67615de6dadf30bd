#!/usr/bin/env bash
# Builds libgoodput_c10d.so, the trainer's binding to PyTorch's c10d (c10d_jni.cpp), into $1 (default
# target/classes/native/linux-x86_64), for the CPU libtorch DJL loads (Gloo). The Maven build runs it.
#
#   build.sh OUT --nccl TORCH_DIR   builds libgoodput_c10d_nccl.so instead: Gloo and NCCL, against the CUDA libtorch in
#   TORCH_DIR (a site-packages/torch with its nvidia-* wheels beside it, as in the pytorch/pytorch image; the CUDA
#   image's build does this). CUDA's compiler headers that those wheels lack (crt/, nv/target) come from the
#   nvidia-cuda-nvcc-cu12 and nvidia-cuda-cccl-cu12 wheels on PyPI, cached like the torch headers.
#
# What it needs, fetched once per machine from the package registries and cached under ~/.cache/goodput/torch:
#   - libtorch's C++ headers for the torch version in the root pom (pytorch.version, passed as TORCH_VERSION), from the PyTorch
#     wheel on PyPI (for Linux x86-64 PyPI serves only the CUDA build; its headers are the same and every c10d symbol
#     the binding uses is in DJL's CPU libtorch too), and that wheel's libtorch_cpu.so and libc10.so to link against
#     by soname;
#   - Gloo's headers (Debian's libgloo-dev) and g++; the process group only holds pointers to Gloo's types.
# Skipped, with the library left as it is, when nothing it is built from changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../target/classes/native/linux-x86_64}
nccl_torch=
if [ "${2:-}" = --nccl ]; then nccl_torch=${3:?build.sh OUT --nccl TORCH_DIR}; fi
torch_version=${TORCH_VERSION:-2.7.1}
cache=${GOODPUT_CACHE:-$HOME/.cache/goodput}/torch/$torch_version
lib=$out/libgoodput_c10d.so

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "c10d binding: not built on $(uname -sm) (Linux x86-64 only); multi-process training is unavailable" >&2
  exit 0
fi

need=()
command -v g++ >/dev/null || need+=(g++)
[ -f /usr/include/gloo/rendezvous/store.h ] || need+=(libgloo-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "c10d binding: installing ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -z "$nccl_torch" ] && [ ! -f "$cache/.complete" ]; then
  echo "c10d binding: fetching the headers of torch $torch_version (the PyPI wheel, once per machine)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q "torch==$torch_version" --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 -d "$tmp"
  rm -rf "$cache" && mkdir -p "$cache"
  python3 - "$tmp"/torch-*.whl "$cache" <<'EOF'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("torch/include/") or name in ("torch/lib/libtorch_cpu.so", "torch/lib/libc10.so"):
            z.extract(name, dest)
EOF
  touch "$cache/.complete"
fi

java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
if [ -n "$nccl_torch" ]; then
  cuda_headers=${GOODPUT_CACHE:-$HOME/.cache/goodput}/cuda-headers/12.6.77
  if [ ! -f "$cuda_headers/.complete" ]; then
    tmp=$(mktemp -d)
    python3 -m pip download -q nvidia-cuda-nvcc-cu12==12.6.77 nvidia-cuda-cccl-cu12==12.6.77 --no-deps \
      --only-binary=:all: --python-version 3.11 --platform manylinux2014_x86_64 -d "$tmp"
    mkdir -p "$cuda_headers"
    for w in "$tmp"/*.whl; do
      python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if "/include/" in n]' "$w" "$cuda_headers"
    done
    rm -rf "$tmp"
    touch "$cuda_headers/.complete"
  fi
  includes=()
  for d in "$cuda_headers"/nvidia/*/include "$nccl_torch"/../nvidia/*/include; do includes+=(-I"$d"); done
  mkdir -p "$out"
  g++ -std=c++17 -O2 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_GLOO -DUSE_C10D_NCCL -DGOODPUT_NCCL \
    -w -I"$nccl_torch/include" -I"$nccl_torch/include/torch/csrc/api/include" "${includes[@]}" \
    -I"$java_home/include" -I"$java_home/include/linux" "$here/c10d_jni.cpp" -o "$out/libgoodput_c10d_nccl.so" \
    -L"$nccl_torch/lib" -Wl,--no-as-needed -ltorch_cuda -ltorch_cpu -lc10_cuda -lc10 -Wl,--as-needed
  echo "c10d binding: built $out/libgoodput_c10d_nccl.so (Gloo and NCCL) against $nccl_torch"
  exit 0
fi
mkdir -p "$out"
if [ -f "$lib" ] && [ "$lib" -nt "$here/c10d_jni.cpp" ] && [ "$lib" -nt "$0" ]; then exit 0; fi
inc=$cache/torch/include
# No rpath: the library must bind to the libtorch DJL has already loaded (C10d checks that there is one).
g++ -std=c++17 -O2 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_GLOO \
  -w -I"$inc" -I"$inc/torch/csrc/api/include" -I"$java_home/include" -I"$java_home/include/linux" \
  "$here/c10d_jni.cpp" -o "$lib.tmp" \
  -L"$cache/torch/lib" -Wl,--no-as-needed -ltorch_cpu -lc10 -Wl,--as-needed
mv "$lib.tmp" "$lib"
echo "c10d binding: built $lib against torch $torch_version"
