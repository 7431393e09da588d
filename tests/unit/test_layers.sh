#!/bin/sh
# test_layers.sh [BUILD_DIR] - the include and size rules of docs/ARCHITECTURE.md on the
# source tree (tests/lib/layers.py prints the TAP). The build folder is not needed.
exec python3 "$(dirname "$0")/../lib/layers.py" "$(cd "$(dirname "$0")/../.." && pwd)"
