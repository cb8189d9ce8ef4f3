#!/bin/sh
# run-synckeyd-ejabberd.sh - run-synckeyd.sh on ejabberd (23.01 on Debian 12, 24.12 on 13) (127.0.0.1:27222/27223, node sklab27222)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-synckeyd.sh"
