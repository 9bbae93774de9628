#!/usr/bin/python3
"""Tests that look at sigode's pictures by their structure, not by eye.

Each case renders one kind of picture and checks what a reader would check:
the SVG's text elements hold the axis labels with units, the legend entries,
the title with the command-line overrides and the event markers; a PNG has
the expected size and is not blank; Graphviz's SVG has the expected nodes and
edges. Usage: pictures.py --sigode BIN --source DIR CASE
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"


def run(args, rc=0):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != rc:
        sys.exit(f"FAIL {' '.join(args)}: exit {p.returncode}, expected {rc}\n{p.stderr}")
    return p


def svg_texts(path):
    tree = ET.parse(path)  # also proves the file is well-formed XML
    return ["".join(e.itertext()).strip() for e in tree.iter(SVG + "text")]


def expect(cond, what):
    if not cond:
        sys.exit("FAIL " + what)


def expect_texts(texts, wanted):
    for w in wanted:
        expect(w in texts, f"no text element {w!r} among {sorted(set(texts))[:60]}")


def png_pixels(path):
    """Width, height and the set of distinct RGB(A) pixel rows' bytes."""
    data = open(path, "rb").read()
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    at, idat, width, height, depth, colour = 8, b"", 0, 0, 0, 0
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        body = data[at + 8:at + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        at += 12 + n
    raw = zlib.decompress(idat)
    return width, height, raw


def expect_png(path, width, height):
    w, h, raw = png_pixels(path)
    expect((w, h) == (width, height), f"{path}: {w}x{h}, expected {width}x{height}")
    # not blank: many distinct byte values (lines, text), not one background
    expect(len(set(raw[i] for i in range(0, len(raw), 7))) > 20, f"{path} looks blank")


def case_run_svg(sg, src, tmp):
    out = os.path.join(tmp, "run.svg")
    run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "baseline",
         "--set", "E2=2", "--event", "24:FK506=10", "--output", os.devnull, "--plot", out])
    t = svg_texts(out)
    expect_texts(t, [
        "calcineurin_er: baseline, --set E2=2, --event 24:FK506=10",  # title with overrides
        "time (h)", "concentration (nM)",                 # units from time_unit, conc_unit
        "concentration (uM)",                            # Ca's own unit
        "fraction or ratio (dimensionless)",             # assignments with unit "1"
        "value (1/h)",                                   # an assignment's own unit
        "t=24: FK506=10",                                # the event marker
        "FKBP12", "ER_total", "pS294_fraction", "Ca",    # legend entries
    ])
    # grouping by magnitude: FKBP12 (1000 nM) and ER (~10 nM) in different panels
    nm = t.count("concentration (nM)")
    expect(nm >= 2, f"nM series in {nm} panel(s): magnitudes were not separated")
    # Okabe-Ito colours, and dash patterns once a panel has more than seven series
    svg = open(out).read()
    okabe = {"(0,114,178)", "(213,94,0)", "(0,158,115)", "(204,121,167)", "(230,159,0)",
             "(86,180,233)", "(0,0,0)"}
    used = {re.sub(r"\s", "", c) for c in re.findall(r"stroke='rgb(\([^)]*\))'", svg)}
    expect(len(okabe & used) >= 6, f"Okabe-Ito colours used: {okabe & used}")
    dashed = re.findall(r"<path stroke='rgb\(([^)]*)\)' stroke-dasharray='([^']*)'", svg)
    expect(any(re.sub(r"\s", "", c) in {x[1:-1] for x in okabe} and d.strip() != "2,4"
               for c, d in dashed), "no dashed series beyond the palette's seven colours")
    # legends outside the data: every legend entry lies right of its panel's
    # last x tick label ("45" h), within the panel's width
    pos = [(float(x), float(y), "".join(g.itertext()).strip())
           for g in ET.parse(out).iter(SVG + "g")
           for x, y in re.findall(r"translate\(([-0-9.]+),([-0-9.]+)\)", g.get("transform", ""))]
    last_ticks = [x for x, y, txt in pos if txt == "45"]
    for x, y, txt in pos:
        if txt in ("FKBP12", "ER_total", "pS294_fraction", "Ca"):
            left = [x - tx for tx in last_ticks if tx < x]
            expect(left and min(left) < 720, f"legend entry {txt} at x={x} is inside the data")
    # a dosing schedule: a marker per dose, labelled once
    out3 = os.path.join(tmp, "doses.svg")
    run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "baseline",
         "--event", "10:FK506+=1:every=6:count=3", "--output", os.devnull, "--plot", out3])
    t3 = svg_texts(out3)
    expect("t=10: FK506+=1" in t3 and not any(x.startswith("t=16") for x in t3),
           "a schedule is labelled at its first dose only")
    def marker_lines(text):  # vertical segments of the grey dotted marker paths
        paths = re.findall(r"<path stroke='rgb\( 85,  85,  85\)'[^>]*d='([^']*)'", text)
        return sum(len(re.findall(r"M([0-9.]+),[0-9.]+ L\1,", d)) for d in paths)
    n3, n1 = marker_lines(open(out3).read()), marker_lines(svg)
    expect(n1 >= 4 and n3 % 3 == 0 and n3 >= 12, f"dotted lines: {n1} for one event, "
           f"{n3} for three doses (one per dose on every panel)")
    # --log-y: one panel per unit, so fewer nM panels
    out2 = os.path.join(tmp, "runlog.svg")
    run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "baseline",
         "--log-y", "--output", os.devnull, "--plot", out2])
    t2 = svg_texts(out2)
    expect(t2.count("concentration (nM)") == 1, "--log-y keeps one nM panel")
    expect("1000" in t2 and "0.1" in t2, "log-y decade tick labels")


def case_run_png(sg, src, tmp):
    out = os.path.join(tmp, "run.png")
    run([sg, "run", f"{src}/models/mir181c_bbb.cfg", "--scenario", "ev_step",
         "--output", os.devnull, "--plot", out])
    # panels: 3 across of 720 px, rows of 400 px plus the title band
    w, h, _ = png_pixels(out)
    expect(w % 720 == 0 and (h - 70) % 400 == 0, f"unexpected size {w}x{h}")
    expect_png(out, w, h)


def case_scan_svg(sg, src, tmp):
    out = os.path.join(tmp, "scan.svg")
    p = run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario",
             "fk506_dose_response", "--fit", "hill", "--output", os.devnull, "--plot", out])
    t = svg_texts(out)
    expect_texts(t, ["FK506 (nM)", "concentration (nM)", "ER_total", "CaN_active",
                     "calcineurin_er: fk506_dose_response"])
    ic50 = [x for x in t if re.fullmatch(r"IC50 [0-9.e+-]+ nM", x)]
    ec50 = [x for x in t if re.fullmatch(r"EC50 [0-9.e+-]+ nM", x)]
    expect(len(ic50) >= 4 and len(ec50) >= 1, f"IC50/EC50 labels: {ic50} {ec50}")
    expect(any(x.startswith("Hill fit: n ") for x in t), "Hill fit legend entry")
    # the label's value is the fit's, as reported on standard error
    m = re.search(r"hill fit ER_total: IC50 = ([0-9.e+-]+) nM", p.stderr)
    expect(m and f"IC50 {float(m.group(1)):.3g} nM" in t, "IC50 label matches the fit")
    expect("plateaus held >= 0" in p.stderr, "concentration fits are bounded")


def case_heatmap_svg(sg, src, tmp):
    out = os.path.join(tmp, "grid.svg")
    p = run([sg, "scan", f"{src}/tests/explore/models/bliss.cfg", "--scenario", "steady",
             "--target", "A", "--values", "0,0.3,1,3,10", "--target2", "B",
             "--values2", "0,0.6,2,6,20", "--readout", "R_syn", "--synergy",
             "bliss,loewe,hsa", "--plot", out])
    header = p.stdout.splitlines()[0]
    expect(header == "A,B,R_syn,bliss_R_syn,loewe_R_syn,hsa_R_syn", header)
    t = svg_texts(out)
    expect_texts(t, ["A (nM)", "B (nM)", "R_syn (nM)",
                     "isobole: 50% of the untreated readout", "0.3", "20"])
    for name in ("Bliss", "Loewe", "HSA"):
        expect(any(x.startswith(name + " excess") for x in t), f"{name} panel title")


def case_data_svg(sg, src, tmp):
    data = os.path.join(tmp, "m.tsv")
    with open(data, "w") as f:
        f.write("observableId\tsimulationConditionId\ttime\tmeasurement\tnoiseParameters\n")
        f.write("ER_total\tbaseline\t0\t50\t2\nER_total\tbaseline\t24\t49\t2.5\n")
        f.write("ER_total\tother\t24\t10\t1\n")
    out = os.path.join(tmp, "data.svg")
    run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "baseline",
         "--select", "ER_total,ER", "--output", os.devnull, "--plot", out, "--data", data])
    expect_texts(svg_texts(out), ["ER_total (data)", "ER_total", "ER"])
    expect("ER (data)" not in svg_texts(out), "no data legend for a series without data")
    # a scan: the dose is the column named after the target
    scan_data = os.path.join(tmp, "dose.tsv")
    with open(scan_data, "w") as f:
        f.write("observableId\tsimulationConditionId\ttime\tmeasurement\tFK506\n")
        f.write("ER_total\tfk506_dose_response\t24\t45\t1\n")
    out = os.path.join(tmp, "dose.svg")
    run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "fk506_dose_response",
         "--output", os.devnull, "--plot", out, "--data", scan_data])
    expect_texts(svg_texts(out), ["ER_total (data)"])
    # without the dose column nothing can be placed: said, not silently empty
    p = run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "fk506_dose_response",
             "--output", os.devnull, "--plot", out, "--data", data])
    expect("no column 'FK506'" in p.stderr, p.stderr)
    # strict parsing: file:row:col and exit 2, no plot written
    bad = os.path.join(tmp, "bad.tsv")
    with open(bad, "w") as f:
        f.write("observableId\tsimulationConditionId\ttime\tmeasurement\n")
        f.write("ER_total\tbaseline\t0\t50\nER_total\tbaseline\tlate\t49\n")
    out = os.path.join(tmp, "bad.svg")
    p = run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--scenario", "baseline",
             "--output", os.devnull, "--plot", out, "--data", bad], rc=2)
    expect(f"{bad}:3:3:" in p.stderr and "time" in p.stderr, p.stderr)
    expect(not os.path.exists(out), "a bad data file leaves no plot")
    with open(bad, "w") as f:
        f.write("observableId\ttime\tmeasurement\n")
    p = run([sg, "run", f"{src}/models/calcineurin_er.cfg", "--output", os.devnull,
             "--plot", out, "--data", bad], rc=2)
    expect("simulationConditionId" in p.stderr, p.stderr)


def graph_edges(path):
    titles = [e.text for e in ET.parse(path).iter(SVG + "title")]
    return {tuple(x.split("->")) for x in titles if x and "->" in x}


def has_cycle_through_assignment(edges):
    nexts = {}
    for a, b in edges:
        nexts.setdefault(a, []).append(b)
    for start in [n for n in nexts if n.startswith("a:")]:
        stack, seen = list(nexts.get(start, [])), set()
        while stack:
            n = stack.pop()
            if n == start:
                return True
            if n not in seen:
                seen.add(n)
                stack.extend(nexts.get(n, []))
    return False


def case_graph_svg(sg, src, tmp):
    out = os.path.join(tmp, "g.svg")
    run([sg, "graph", f"{src}/models/calcineurin_er.cfg", "--format", "svg", "--output", out])
    e = graph_edges(out)
    for edge in [("tamoxifen", "a:occ_Tam"), ("Ca", "a:CaN_active"),   # inputs connected
                 ("E2", "a:occ_E2"), ("a:occ_E2", "r:ER_synthesis"),    # via an assignment
                 ("a:kdeg_basal", "r:ER_degradation"), ("FK506_cell", "r:FK_binding")]:
        expect(edge in e, f"edge {edge} missing")
    expect(has_cycle_through_assignment(e), "no feedback loop through an assignment")
    svg = open(out).read()
    expect('fill="#cfe5f5"' in svg, "species are filled with their compartment's colour")
    # the text form is the same graph
    dot = run([sg, "graph", f"{src}/models/calcineurin_er.cfg"]).stdout
    expect('"a:occ_E2" -> "r:ER_synthesis" [style=dashed' in dot, "dashed modifier edge")
    expect("xlabel=" in dot and "label=\"" not in dot.replace("xlabel=", "")
           .replace("headlabel=", "").replace("taillabel=", "")
           .replace("label=\"occ", "").replace(", label=", ""), "labels placed by Graphviz")


def case_graph_png(sg, src, tmp):
    out = os.path.join(tmp, "g.png")
    run([sg, "graph", f"{src}/models/mir181c_bbb.cfg", "--format", "png", "--output", out])
    w, h, _ = png_pixels(out)
    expect(w > 300 and h > 100, f"graph PNG {w}x{h}")
    expect_png(out, w, h)
    # without dot on PATH: a clear message, exit 2, nothing written
    out2 = os.path.join(tmp, "none.png")
    env = dict(os.environ, PATH=tmp)
    p = subprocess.run([sg, "graph", f"{src}/models/mir181c_bbb.cfg", "--format", "png",
                        "--output", out2], env=env, capture_output=True, text=True)
    expect(p.returncode == 2 and "dot' is not installed" in p.stderr, p.stderr)
    expect(not os.path.exists(out2), "no file without dot")


def case_inert_labels(sg, src, tmp):
    """Model strings reach gnuplot and dot as text only, never as commands."""
    marker = os.path.join(tmp, "pwned")
    model = os.path.join(tmp, "evil.cfg")
    unit = f"nM'\\nsystem 'touch {marker}'\\n#"
    with open(model, "w") as f:
        f.write(f'name = "evil";\ntime_unit = "h\\"\\n!touch {marker}";\n'
                f'conc_unit = "{unit}";\n'
                'species = ( { id = "X"; initial = 1.0; } );\n'
                'reactions = ( { id = "d"; equation = "X ->"; rate = "X"; } );\n')
    out = os.path.join(tmp, "evil.svg")
    p = subprocess.run([sg, "run", model, "--output", os.devnull, "--plot", out],
                       capture_output=True, text=True)
    expect(not os.path.exists(marker), "a unit string ran a gnuplot command")
    if p.returncode == 0:  # drawn: the text is there, defused
        t = svg_texts(out)
        expect(any("system 'touch" in x for x in t), f"defused unit shown as text: {t}")
    else:  # or refused by the loader
        expect(p.returncode == 2, p.stderr)
    g = os.path.join(tmp, "evil_graph.svg")
    subprocess.run([sg, "graph", model, "--format", "svg", "--output", g],
                   capture_output=True, text=True)
    expect(not os.path.exists(marker), "a model string ran a command through dot")


def case_quote_labels(sg, src, tmp):
    """Quotes anywhere in a label are drawn as written: gnuplot's scanner
    read '' as an escaped quote only after an ordinary character, so a name
    starting with a quote or holding a double prime (A'') broke the plot."""
    model = os.path.join(tmp, "primes.cfg")
    with open(model, "w") as f:
        f.write('name = "primes";\ntime_unit = "s";\nconc_unit = "\'\'nM";\n'
                'species = ( { id = "A"; name = "A\'\'"; initial = 1.0; },\n'
                '            { id = "B"; name = "\'B"; initial = 0.0; },\n'
                '            { id = "C"; name = "\'"; initial = 0.0; } );\n'
                'reactions = ( { id = "r"; equation = "A -> B"; rate = "A"; },\n'
                '              { id = "s"; equation = "B -> C"; rate = "B"; } );\n')
    out = os.path.join(tmp, "primes.svg")
    run([sg, "run", model, "--output", os.devnull, "--plot", out])
    t = svg_texts(out)
    expect_texts(t, ["A''", "'B", "'"])
    expect(any("''nM" in x for x in t), f"the unit ''nM on an axis: {t}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigode", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("case")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        globals()["case_" + a.case](a.sigode, a.source, tmp)
    print(f"1 passed, 0 failed: {a.case}")


if __name__ == "__main__":
    main()
