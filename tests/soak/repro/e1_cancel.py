"""E1: a and b online; one removes the other from its roster with another
session (argv[1]: 'a-removes-b', the default, or 'b-removes-a').  For
each subscription the removal cancels, the server sends an unavailable
presence (RFC 6121 3.2.2, 3.3.3): from the remover's resources to the
removed contact, or from the contact's resources to the remover.  c,
another contact of a, is not concerned: c's sync must still show a/r0.
Shows on ejabberd 23.01, adapter on and off: a-removes-b with AB=both or
AB=from BA=to; b-removes-a with both, or AB=from BA=to (b watched a)."""
import sys
import time

from common import login, sync, fresh_login

who = sys.argv[1] if len(sys.argv) > 1 else "a-removes-b"
b = login("b@p.test", "r0", "b here")
a = login("a@p.test", "r0", "a here")
time.sleep(0.3)
before, _ = sync("c@p.test", "k1")
remover, removed = ("a", "b") if who == "a-removes-b" else ("b", "a")
ctl = login("%s@p.test" % remover, "ctl")
ctl.roster_set("%s@p.test" % removed, remove=True)
ctl.ping()
time.sleep(0.5)
after, _ = sync("c@p.test", "k2")
print("c's sync before %s removed %s:" % (remover, removed), before)
print("c's sync after:", after)
print("a fresh login of c gets presence from:", fresh_login("c@p.test"))
sys.exit(0 if "a@p.test/r0" in after else 1)
