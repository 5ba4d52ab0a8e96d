#!/usr/bin/env python
"""Plot the history of fastbp's speedup vs NumPy (bench_ratio.py) from asv's results, as a PNG.

    python benchmarks/plot_history.py [--results .asv/results] [--machine NAME]
                                      [--branch main] [--out benchmarks/ratio_history.png]

Reads asv's result files (``<results>/<machine>/<commit>-<env>.json``),
keeps the commits reachable from ``--branch`` in the repository (``--branch
''`` keeps every commit with a result), orders them as git does (oldest
first) and draws one line per config and dtype: the value of
``bench_ratio.TrackSpeedupVsNumpy.track_speedup_vs_numpy`` at each commit.
Commits with no ratio result (older than the benchmark, or failed) are left
out. Needs matplotlib. Works offline, unlike asv's HTML pages.
"""
import argparse
import glob
import itertools
import json
import os
import subprocess
import sys

NAME = "bench_ratio.TrackSpeedupVsNumpy.track_speedup_vs_numpy"


def load(results_dir, machine=None, env=None):
    """{commit_hash: {(config, dtype): value}} from asv's result files, and the machine used."""
    machines = sorted(d for d in os.listdir(results_dir)
                      if os.path.isdir(os.path.join(results_dir, d)))
    if machine is None:
        if not machines:
            raise SystemExit(f"no machine folders in {results_dir}")
        machine = machines[0]
    out = {}
    for path in sorted(glob.glob(os.path.join(results_dir, machine, "*.json"))):
        if os.path.basename(path) == "machine.json":
            continue
        if env and env not in os.path.basename(path):
            continue
        with open(path) as f:
            data = json.load(f)
        entry = data.get("results", {}).get(NAME)
        if entry is None:
            continue
        columns = data.get("result_columns", ["result", "params"])
        row = dict(zip(columns, entry))
        values, params = row.get("result"), row.get("params")
        if not values or not params:
            continue
        for key, v in zip(itertools.product(*params), values):
            if v is not None and v == v:  # skip None and NaN (failed or skipped)
                key = tuple(k.strip("'\"") for k in key)
                out.setdefault(data["commit_hash"], {})[key] = float(v)
    return out, machine


def commit_order(branch, repo="."):
    """Commit hashes reachable from ``branch``, oldest first, with their subjects."""
    log = subprocess.run(["git", "log", "--reverse", "--format=%H %s", branch], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    return [tuple(line.split(" ", 1)) if " " in line else (line, "")
            for line in log.splitlines()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=".asv/results")
    parser.add_argument("--machine", default=None, help="default: the first machine folder")
    parser.add_argument("--env", default=None,
                        help="only result files whose name contains this (an asv env name)")
    parser.add_argument("--branch", default="main",
                        help="plot only commits reachable from this branch ('' for all)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "ratio_history.png"))
    args = parser.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values, machine = load(args.results, args.machine, args.env)
    if args.branch:
        commits = [(h, s) for h, s in commit_order(args.branch) if h in values]
    else:
        commits = [(h, "") for h in values]
    if not commits:
        raise SystemExit(f"no {NAME} results for commits of {args.branch or 'any branch'}")
    keys = sorted({k for h, _ in commits for k in values[h]},
                  key=lambda k: ("SML".find(k[0]), k[1]))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.9 * len(commits)), 4.5))
    x = range(len(commits))
    for key in keys:
        ys = [values[h].get(key, float("nan")) for h, _ in commits]
        ax.plot(x, ys, marker="o", label=f"{key[0]} {key[1]}")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_xticks(list(x))
    ax.set_xticklabels([h[:7] for h, _ in commits], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("speedup vs NumPy matrix form (ratio, log scale)")
    ax.set_title(f"fastbp / NumPy epoch speed by commit ({machine}; higher is better)",
                 fontsize=10)
    ax.legend(fontsize=8, ncol=3)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"{args.out}: {len(commits)} commits, {len(keys)} series")
    for h, s in commits:
        print(h[:7], " ".join(f"{k[0]}/{k[1]}={values[h][k]:.3f}" for k in keys if k in values[h]),
              "|", s[:60])
    return 0


if __name__ == "__main__":
    sys.exit(main())
