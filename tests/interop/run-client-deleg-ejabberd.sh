#!/bin/sh
# run-client-deleg-ejabberd.sh - run-client-deleg.sh on ejabberd (23.01 on Debian 12, 24.12 on 13) (127.0.0.1:29650/29651, node on 29652)
LAB_SERVER=ejabberd exec sh "$(dirname "$0")/run-client-deleg.sh"
