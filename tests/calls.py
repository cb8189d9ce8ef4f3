#!/usr/bin/env python3
"""calls.py - no two files of src/ call each other, and no file calls a
function of a unit above its own (src/README), read from the built objects
with nm.  TAP; argument or $top_builddir: the build folder."""
import glob
import os
import subprocess
import sys

BELOW = {  # unit: the units it may call besides itself (tests/layers.sh)
    "core": set(), "store": {"core"}, "engine": {"store", "core"}, "xmpp": {"core"},
    "conf": {"core"}, "daemon": {"engine", "store", "core", "xmpp", "conf"},
    "client": {"store", "core", "xmpp"}, "cli": {"client", "store", "core", "xmpp"},
    "ctl": {"engine", "store", "core", "conf"},
}


def objects(build):
    """unit/file -> (defined, undefined) symbols, for every object of src/."""
    out = {}
    for o in glob.glob(os.path.join(build, "src", "*", ".libs", "*.o")) + \
            glob.glob(os.path.join(build, "src", "*", "*.o")):
        unit = os.path.basename(os.path.dirname(o.replace("/.libs", "")))
        name = os.path.basename(o)[:-2].split("-")[-1]
        key = "%s/%s" % (unit, name)
        if key in out or unit not in BELOW:
            continue
        d, u = set(), set()
        for line in subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                d.add(p[2])
            elif len(p) == 2 and p[0] == "U":
                u.add(p[1])
        out[key] = (d, u)
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("top_builddir", ".")
    objs = objects(build)
    if not objs:
        print("1..0 # SKIP no objects under %s/src" % build)
        return 77
    calls = {a: {b for b in objs if b != a and objs[a][1] & objs[b][0]} for a in objs}
    loops = sorted("%s <-> %s (%s / %s)" % (a, b, min(objs[a][1] & objs[b][0]), min(objs[b][1] & objs[a][0]))
                   for a in calls for b in calls[a] if a < b and a in calls[b])
    up = sorted("%s -> %s" % (a, b) for a in calls for b in calls[a]
                if a.split("/")[0] != b.split("/")[0] and b.split("/")[0] not in BELOW[a.split("/")[0]])
    print("1..2")
    print(("ok" if not loops else "not ok") + " 1 - no two files call each other (%d files)" % len(objs))
    for x in loops:
        print("#   " + x)
    print(("ok" if not up else "not ok") + " 2 - no file calls a unit above its own")
    for x in up:
        print("#   " + x)
    return 0 if not loops and not up else 1


if __name__ == "__main__":
    sys.exit(main())
