#!/bin/sh
# run-adapter-ejabberd.sh - run-adapter.sh on ejabberd (23.01 on Debian 12, 24.12 on 13) with mod_synckey.erl (127.0.0.1:27242/27243, node sklab27242)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-adapter.sh"
