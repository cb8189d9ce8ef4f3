#!/bin/sh
# run-prosody.sh - the adapter contract suite (run.sh) on Prosody (0.12 on Debian 12, 13 on 13) with mod_synckey.lua (127.0.0.1:29100/29101)
LAB_SERVER=prosody exec sh "$(dirname "$0")/run.sh"
