#!/bin/sh
# run-synckeyd-privonly.sh - run-synckeyd.sh in privilege-only mode (no server adapter)
LAB_ADAPTER=0 exec sh "$(dirname "$0")/run-synckeyd.sh"
