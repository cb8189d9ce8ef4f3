"""E1: a (online, r0) removes b (online) from its roster with another session:
the server sends b an unavailable presence from each of a's resources (RFC
6121 3.2/3.3).  c, another contact of a, is not concerned: c's sync must
still show a/r0.  Shows on ejabberd 23.01, adapter on and off."""
import sys
import time

from common import login, sync, fresh_login

b = login("b@p.test", "r0", "b here")
a = login("a@p.test", "r0", "a here")
time.sleep(0.3)
before, _ = sync("c@p.test", "k1")
ctl = login("a@p.test", "ctl")
ctl.roster_set("b@p.test", remove=True)
ctl.ping()
time.sleep(0.5)
after, _ = sync("c@p.test", "k2")
print("c's sync before a removed b:", before)
print("c's sync after:             ", after)
print("a fresh login of c gets presence from:", fresh_login("c@p.test"))
sys.exit(0 if "a@p.test/r0" in after else 1)
