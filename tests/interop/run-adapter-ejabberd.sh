#!/bin/sh
# run-adapter-ejabberd.sh - run-adapter.sh on ejabberd 23.01 with mod_synckey.erl (127.0.0.1:27242/27243, node sklab27242)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-adapter.sh"
