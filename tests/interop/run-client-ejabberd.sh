#!/bin/sh
# run-client-ejabberd.sh - run-client.sh on ejabberd (23.01 on Debian 12, 24.12 on 13) (127.0.0.1:27262/27263 and 27272/27273)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-client.sh"
