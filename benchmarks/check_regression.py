#!/usr/bin/env python
"""Before merging: did HEAD make fastbp's training epoch slower than BASE? One command.

    python benchmarks/check_regression.py [BASE [HEAD]]     # default: main HEAD

Runs, from the repository root (where asv.conf.json is)::

    asv continuous --factor 1.1 -b "bench_epoch.TimeEpoch|bench_ratio.TrackSpeedupVsNumpy" BASE HEAD

that is, the six one-epoch benchmarks (S, M, L x float32, float64) with
absolute times, and the six in-process speedups over the NumPy matrix form
(bench_ratio.py), for both commits, each built into asv's virtualenv, with
asv's rounds interleaved between the two commits. Then it reads asv's
comparison table and calls a regression when either holds:

1. overall: the speedup vs NumPy (measured in one process, alternating
   fastbp and NumPy epochs) fell, as a geometric mean over the six configs,
   by more than ``--overall`` (default 1.1, i.e. 10%); or
2. per config: asv calls the epoch time worse (slower by more than
   ``--factor`` *and* the samples clearly apart, "+" in its table) and that
   config's speedup vs NumPy fell by more than ``--confirm`` (default 5%).

Why: on a shared machine a neighbour's job can slow one commit's epochs by
10-50% between two runs of identical code; asv's statistics sometimes
accept such a change as real, and at load averages of 4-6 on 2 cores they
also missed a real 20% slowdown. A neighbour slows the NumPy epochs of the
same process too, so the speedup moves less; averaging over the six configs
damps what noise is left, while a slowdown of fastbp's epoch driver moves
all six. (asv knows no "higher is better", so in its table a fall of the
speedup shows as an improvement, "-"; this script reads it the right way
round.) A slowdown confined to one config is caught by rule 2 only, so
under heavy load it may be missed: rerun when the machine is quieter.

Exit status: 0 no regression, 1 regression, 2 asv failed or a benchmark
failed. Measured false-alarm rate, detection of a 20% slowdown and run time:
benchmarks/README.md, "Regression check before merging".
"""
import argparse
import math
import re
import subprocess
import sys

EPOCH = "bench_epoch.TimeEpoch.time_epoch"
RATIO = "bench_ratio.TrackSpeedupVsNumpy.track_speedup_vs_numpy"
BENCH = r"bench_epoch\.TimeEpoch|bench_ratio\.TrackSpeedupVsNumpy"
ROW = re.compile(r"^\|\s*(?P<mark>[-+x!~ ]*?)\s*\|\s*(?P<before>[^|]*?)\s*\|\s*(?P<after>[^|]*?)"
                 r"\s*\|\s*(?P<ratio>[^|]*?)\s*\|\s*(?P<name>[^|]*?)\s*\|\s*$")


def parse_compare(text):
    """{(benchmark, params): (mark, ratio after/before or None)} from asv compare's table."""
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if not m or m["name"].startswith(("Benchmark", "-")):
            continue
        name, _, params = m["name"].partition("(")
        try:
            ratio = float(m["ratio"].lstrip("~"))
        except ValueError:
            ratio = None
        rows[(name.strip(), params.rstrip(")").strip())] = (m["mark"].strip(), ratio,
                                                             m["before"], m["after"])
    return rows


def _num(text):
    try:
        return f"{float(text):.3f}"
    except ValueError:
        return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?", default="main")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument("--factor", type=float, default=1.1,
                        help="asv's factor for the epoch times (default 1.1: 10%% slower)")
    parser.add_argument("--confirm", type=float, default=1.05,
                        help="the speedup vs NumPy must fall by this factor too (default 1.05)")
    parser.add_argument("--asv", default="asv", help="the asv command")
    parser.add_argument("--overall", type=float, default=1.1,
                        help="regression when the geometric mean over the configs of the "
                             "speedup's fall exceeds this (default 1.1)")
    parser.add_argument("--no-run", action="store_true",
                        help="only compare the results asv already has for BASE and HEAD")
    args = parser.parse_args(argv)

    run = [args.asv, "continuous", "--factor", str(args.factor), "-b", BENCH,
           args.base, args.head]
    print("$ " + " ".join(run), flush=True)
    rc = 0 if args.no_run else subprocess.run(run).returncode
    if rc not in (0, 1):
        print(f"check_regression: asv continuous failed (exit {rc})", file=sys.stderr)
        return 2
    # The full table (continuous prints only the changes), factor-only for the ratios.
    table = subprocess.run([args.asv, "compare", "--factor", str(args.factor),
                            args.base, args.head], capture_output=True, text=True)
    if table.returncode != 0:
        print(table.stdout + table.stderr, file=sys.stderr)
        return 2
    rows = parse_compare(table.stdout)
    params = sorted({p for (n, p) in rows if n in (EPOCH, RATIO)})
    if not params:
        print("check_regression: no results found in asv compare's output", file=sys.stderr)
        return 2

    print("\nconfig, dtype     | epoch time after/before (asv) | speedup vs NumPy before -> after"
          " (fall) | verdict")
    regressions, failed = [], False
    for p in params:
        mark, t_ratio, _, _ = rows.get((EPOCH, p), ("?", None, "", ""))
        rmark, s_ratio, s_before, s_after = rows.get((RATIO, p), ("?", None, "", ""))
        failed |= "!" in (mark, rmark) or t_ratio is None or s_ratio is None
        fall = (1.0 / s_ratio) if s_ratio else float("nan")  # before / after
        slower = mark == "+"
        confirmed = fall > args.confirm
        verdict = ("REGRESSION" if slower and confirmed else
                   "slower (time only)" if slower else
                   "speedup fell" if confirmed else "ok")
        if slower and confirmed:
            regressions.append(p)
        t_text = "failed" if t_ratio is None else f"{t_ratio:.2f} {mark or ' '}"
        s_text = ("failed" if s_ratio is None else
                  f"{_num(s_before)} -> {_num(s_after)} ({fall:.2f})")
        print(f"{p:17} | {t_text:29} | {s_text:39} | {verdict}")
    if failed:
        print("check_regression: a benchmark failed or is missing (see above)", file=sys.stderr)
        return 2
    falls = [1.0 / rows[(RATIO, p)][1] for p in params]
    overall = math.exp(sum(math.log(f) for f in falls) / len(falls))
    print(f"\nspeedup vs NumPy, geometric mean of the falls over the {len(falls)} configs: "
          f"{overall:.3f} (regression above {args.overall})")
    if overall > args.overall:
        regressions.append(f"all configs (geometric mean fall {overall:.2f})")
    if regressions:
        print("\nREGRESSION: " + ", ".join(regressions))
        return 1
    print(f"\nno regression ({len(params)} configs: epoch time and speedup vs NumPy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
