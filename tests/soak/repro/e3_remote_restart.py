"""E3: qa@q.test (a domain synckeyd does not serve; a's contact) is online
while synckeyd is killed and started again: a's sync must show qa, or say
presence='partial'.  Shows on ejabberd 23.01 with the adapter."""
import subprocess
import sys
import time

from common import login, sync, fresh_login

qa = login("qa@q.test", "r1", "qa here")
b = login("b@p.test", "r1", "b here")
time.sleep(0.5)
before = sync("a@p.test", "c1")
subprocess.run(["sh", "-c", '. "$LAB_SH"; lab_attach; kill -KILL "$(cat "$LAB/synckeyd.pid")"; sleep 0.5; '
                'lab_synckeyd_start'], check=True)
time.sleep(1)
after, partial = sync("a@p.test", "c2")
print("a's sync before the restart:", before)
print("a's sync after it:          ", after, "presence=%r" % partial)
print("a fresh login of a gets presence from:", fresh_login("a@p.test"))
sys.exit(0 if "qa@q.test/r1" in after or partial == "partial" else 1)
