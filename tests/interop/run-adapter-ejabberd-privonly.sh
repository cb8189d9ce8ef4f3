#!/bin/sh
# run-adapter-ejabberd-privonly.sh - run-adapter.sh on ejabberd (23.01 on Debian 12, 24.12 on 13) without the adapter (127.0.0.1:27252/27253)
LAB_SERVER=ejabberd LAB_ADAPTER=0 exec sh "$(dirname "$0")/run-adapter.sh"
