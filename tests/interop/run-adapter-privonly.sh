#!/bin/sh
# run-adapter-privonly.sh - run-adapter.sh in privilege-only mode (no server adapter)
LAB_ADAPTER=0 exec sh "$(dirname "$0")/run-adapter.sh"
