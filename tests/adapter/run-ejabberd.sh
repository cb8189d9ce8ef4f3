#!/bin/sh
# run-ejabberd.sh - the adapter contract suite (run.sh) on ejabberd (23.01 on Debian 12, 24.12 on 13) with mod_synckey.erl (127.0.0.1:29110/29111, node sklab29110)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run.sh"
