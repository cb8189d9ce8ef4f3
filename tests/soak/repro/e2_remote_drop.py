"""E2: qa@q.test (a domain synckeyd does not serve; a's contact) drops its TCP
connection while a has no session: a's sync must no longer show qa.  Shows
on ejabberd 23.01, adapter on and off; a clean unavailable is seen."""
import sys
import time

from common import login, sync, fresh_login

qa = login("qa@q.test", "r1", "qa here")
time.sleep(0.5)
before, _ = sync("a@p.test", "c1")
qa.sock.close()                     # no unavailable, no stream end
time.sleep(1.5)
after, _ = sync("a@p.test", "c2")
print("a's sync with qa online:  ", before)
print("a's sync after qa dropped:", after)
print("a fresh login of a gets presence from:", fresh_login("a@p.test"))
sys.exit(1 if "qa@q.test/r1" in after else 0)
