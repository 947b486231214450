#!/usr/bin/env bash
# Makes a WebGPU adapter available to Dawn (npm `webgpu`) on machines without a GPU.
#
# Dawn needs a Vulkan driver. Where none with the features Dawn requires is present
# and we run as root on Debian 12, install Mesa's lavapipe (software Vulkan) from
# bookworm-backports: bookworm's own Mesa 22.3 lacks features Dawn requires
# (see docs/decisions/0004-lavapipe-from-backports.md). Elsewhere, say what to install.
# Idempotent: a machine that already has the driver returns in milliseconds.
set -euo pipefail

say() { printf '[setup-webgpu] %s\n' "$*" >&2; }

vulkan_driver_ok() {
  ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || return 1
  # A vendor driver for a real GPU (NVIDIA installs its ICD under /etc or /usr/share).
  ls /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/nvidia*.json >/dev/null 2>&1 && return 0
  # Mesa >= 23: lavapipe has the dynamic-indexing features Dawn requires.
  local ver
  ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  case "$ver" in 2[3-9].*|[3-9][0-9].*) return 0 ;; esac
  return 1
}

if vulkan_driver_ok; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || ! grep -q 'bookworm' /etc/os-release 2>/dev/null; then
  say "No usable Vulkan driver found, and this script can only install one as root on Debian 12."
  say "Install a Vulkan driver for your GPU, or Mesa >= 23 lavapipe (package mesa-vulkan-drivers) and libvulkan1."
  say "Until then the WebGPU backend is unavailable; the cpu (reference) backend still works."
  exit 0
fi

src=/etc/apt/sources.list.d/debian.sources
bp=/etc/apt/sources.list.d/fathom-bookworm-backports.sources
if [ ! -f "$bp" ]; then
  if [ ! -f "$src" ]; then
    say "Cannot find $src to derive the Debian mirror from; add bookworm-backports to apt yourself."
    exit 1
  fi
  # Reuse the first stanza's URIs and keyring: never hard-code a mirror.
  uris=$(awk '/^URIs:/{print; exit}' "$src")
  signed=$(awk '/^Signed-By:/{print; exit}' "$src")
  say "adding bookworm-backports to apt ($uris)"
  printf 'Types: deb\n%s\nSuites: bookworm-backports\nComponents: main\n%s\n' "$uris" "$signed" > "$bp"
fi
say "installing Mesa lavapipe from bookworm-backports (one time, about a minute)"
apt-get update -qq >/dev/null
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
say "lavapipe installed: $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
