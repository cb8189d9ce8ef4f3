"""run_tap(suite): runs a unittest suite and prints TAP ("ok N - name")."""
import unittest


def run_tap(suite):
    tests = []

    def flat(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                flat(t)
            else:
                tests.append(t)
    flat(suite)
    print("1..%d" % len(tests))
    failed = 0
    for n, t in enumerate(tests, 1):
        r = unittest.TestResult()
        t.run(r)
        name = "%s.%s" % (type(t).__name__, t._testMethodName)
        if r.wasSuccessful():
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for _t, tb in r.errors + r.failures:
                print("# " + tb.replace("\n", "\n# "))
    return 1 if failed else 0
