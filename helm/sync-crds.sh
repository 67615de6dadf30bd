#!/usr/bin/env bash
# Copies the generated CRDs (crds/ at the repository root) into the chart's crds/ folder, byte for byte, and removes
# copies whose source is gone. CrdSyncTest fails until this has been run after a CRD change.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/helm/goodput/crds"
mkdir -p "$dest"
for f in "$dest"/*.yml "$dest"/*.yaml; do
  [ -e "$f" ] || continue
  [ -e "$root/crds/$(basename "$f")" ] || rm -v "$f"
done
for f in "$root"/crds/*.yml "$root"/crds/*.yaml; do
  [ -e "$f" ] || continue
  cmp -s "$f" "$dest/$(basename "$f")" || cp -v "$f" "$dest/"
done
