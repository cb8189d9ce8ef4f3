#!/bin/sh
# run-changes-ejabberd.sh - run-changes.sh on ejabberd (127.0.0.1:29410/29411, node sklab29410 on 29412)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-changes.sh"
