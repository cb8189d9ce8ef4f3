"""plot-scaling.py - doc/scaling.md's plots from tests/cluster/bench.sh's raw outputs (python3 only).

    python3 tests/cluster/plot-scaling.py doc/scaling doc

Writes DOC/scaling-cpu.svg (synckeyd's and ejabberd's CPU per sync by roster
size, null and delta; from load.txt) and DOC/scaling-store.svg (store bytes
per user and synckeyd's resident memory by number of users; from
scale-*.txt).  Plain SVG written by hand: no plotting package needed.
"""
import glob
import math
import os
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
W, H, L, R, T, B = 640, 360, 70, 170, 40, 50
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(path, title, xlabel, ylabel, xs, series, logx=False, bars=False, logy=False):
    """series: [(name, [y per x])]; xs: labels (bars) or numbers; logy:
    powers of ten on the y axis (values >= 1)."""
    vals = [v for _, ys in series for v in ys if v is not None]
    ymax = max(vals)
    step = 10 ** math.floor(math.log10(ymax)) if ymax > 0 else 1
    top = math.ceil(ymax / step) * step
    if logy:
        lo_e = math.floor(math.log10(min(vals)))
        hi_e = math.ceil(math.log10(ymax))

        def yfrac(v):
            return (math.log10(v) - lo_e) / (hi_e - lo_e)
        ticks = [10 ** e for e in range(lo_e, hi_e + 1)]
    else:
        def yfrac(v):
            return v / top
        ticks = [top * i / 5 for i in range(6)]
    pw, ph = W - L - R, H - T - B
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>' % (L, esc(title))]
    for v in ticks:                          # y grid
        y = T + ph - ph * yfrac(v)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (L, y, L + pw, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (L - 6, y + 4, "%g" % v))
    out.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>'
               % (T + ph / 2, T + ph / 2, esc(ylabel)))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % (L + pw / 2, H - 10, esc(xlabel)))
    n = len(xs)
    if bars:
        gw = pw / n
        bw = gw * 0.8 / len(series)
        for i, x in enumerate(xs):
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (L + gw * (i + 0.5), T + ph + 18,
                                                                                  esc(str(x))))
            for j, (_, ys) in enumerate(series):
                if ys[i] is None:
                    continue
                h = ph * yfrac(ys[i])
                x0 = L + gw * i + gw * 0.1 + bw * j
                out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                           % (x0, T + ph - h, bw - 2, h, COLOURS[j % 4]))
                out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>'
                           % (x0 + bw / 2 - 1, T + ph - h - 3, "%.0f" % ys[i]))
    else:
        lo, hi = min(xs), max(xs)
        f = (lambda v: math.log10(v)) if logx else (lambda v: v)

        def px(v):
            return L + pw * (f(v) - f(lo)) / ((f(hi) - f(lo)) or 1)
        for x in xs:
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (px(x), T + ph + 18, "%g" % x))
        for j, (_, ys) in enumerate(series):
            pts = [(px(x), T + ph - ph * yfrac(y)) for x, y in zip(xs, ys) if y is not None]
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                       % (COLOURS[j % 4], " ".join("%.1f,%.1f" % p for p in pts)))
            for p in pts:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (p[0], p[1], COLOURS[j % 4]))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T + ph, L + pw, T + ph))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T, L, T + ph))
    for j, (name, _) in enumerate(series):   # legend
        y = T + 10 + 20 * j
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (L + pw + 14, y - 10, COLOURS[j % 4]))
        out.append('<text x="%d" y="%d">%s</text>' % (L + pw + 32, y, esc(name)))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("plot-scaling: wrote %s" % path)


# CPU per sync by roster size (load.txt)
rows = {}
for line in open(os.path.join(src, "load.txt")):
    m = re.search(r"contacts=(\d+) kind=(\w+) .*synckeyd_cpu_us=([\d.]+) .*ejabberd_cpu_us=([\d.]+)", line)
    if m:
        rows[(int(m.group(1)), m.group(2))] = (float(m.group(3)), float(m.group(4)))
sizes = sorted({k[0] for k in rows})
series = []
for who, idx in (("synckeyd", 0), ("ejabberd", 1)):
    for kind in ("null", "delta"):
        series.append(("%s, %s" % (who, kind), [rows.get((s, kind), (None, None))[idx] for s in sizes]))
svg(os.path.join(dst, "scaling-cpu.svg"), "CPU per sync beside ejabberd 23.01 (adapter mode, log scale)",
    "contacts per user", "CPU microseconds per sync", sizes, series, bars=True, logy=True)

# store and memory by number of users (scale-*.txt)
pts = []
for path in glob.glob(os.path.join(src, "scale-*.txt")):
    text = open(path).read()
    users = int(re.search(r"bench_scale: build: (\d+) users", text).group(1))
    per_user = float(re.findall(r"after the deltas: data\.mdb \d+ B .* = ([\d.]+) kB per user", text)[-1])
    rss = int(re.findall(r"after the deltas: VmRSS (\d+) kB", text)[-1])
    anon = int(re.findall(r"after the deltas: .*RssAnon (\d+) kB", text)[-1])
    pts.append((users, per_user, rss / 1024.0, anon / 1024.0))
pts.sort()
if pts:
    svg(os.path.join(dst, "scaling-store.svg"), "Store and memory by number of users (200 contacts each)",
        "users (one client each)", "kB per user / MiB", [p[0] for p in pts],
        [("store kB per user", [p[1] for p in pts]), ("VmRSS MiB (map incl.)", [p[2] for p in pts]),
         ("RssAnon MiB", [p[3] for p in pts])], logx=True)
