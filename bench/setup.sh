#!/usr/bin/env bash
# Installs the comparison tools for `npm run bench` (SPIN, rumur, a C compiler, GNU time); run once as root.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y spin rumur gcc libc6-dev time
spin -V
rumur --version
