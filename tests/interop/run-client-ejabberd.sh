#!/bin/sh
# run-client-ejabberd.sh - run-client.sh on ejabberd 23.01 (127.0.0.1:27262/27263 and 27272/27273)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-client.sh"
