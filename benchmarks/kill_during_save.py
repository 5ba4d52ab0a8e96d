"""Demonstration: ``kill -9`` during ``Network.save`` never damages the model file.

A child process saves a large network to one path over and over, each time
with new parameters; the parent kills it with SIGKILL at random moments
(mostly in the middle of writing several MB of JSON) and after each kill
loads the file with :func:`fastbp.load`. Every load must give a complete,
valid model: exactly one of the versions the child saved (or the one that
was there before), compared value for value.

Each version k is ``Network(sizes, seed=k)`` saved with ``input_scale = k + 1``,
so the file says which version it holds and the parent can rebuild it.

The child prints ``saving k`` before and ``saved k`` after each save, so
the parent knows whether its SIGKILL landed in the middle of a save. Only
real kills are counted: the child was still running when the signal was
sent and its exit status says SIGKILL ended it; a child that exited on its
own is reported as a problem.

A SIGKILL in the middle of a save can leave the temporary file
``.<name>.<random>.tmp`` behind (nothing can delete it: the process is
gone); that is expected and reported. The target file itself is only ever
replaced whole by ``os.replace``. Any other file in the folder is reported
as unexpected.

Usage::

    python benchmarks/kill_during_save.py                  # 20 kills, [784, 1024, 1024, 10]
    python benchmarks/kill_during_save.py --kills 5 --sizes 784,128,10

Prints one line per kill and a summary line::

    kills: 20/20 (19 during a save), intact loads: 20/20, previous version kept: 14,
    newer version: 6, leftover temp files: 13, unexpected files: 0
"""
import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

DEFAULT_SIZES = (784, 1024, 1024, 10)

_CHILD = r"""
import sys
import fastbp
path, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
net = fastbp.Network(sizes, seed=0)
print("ready", flush=True)
k = int(sys.argv[3])
while True:
    k += 1
    net.initialize(seed=k)
    net.input_scale = float(k + 1)
    print("saving", k, flush=True)
    net.save(path)
    print("saved", k, flush=True)
"""


def version(sizes, k):
    """The parameters of version k: Network(sizes, seed=k)."""
    import fastbp
    return fastbp.Network(list(sizes), seed=k).get_parameters()


def save_version(path, sizes, k):
    import fastbp
    net = fastbp.Network(list(sizes), seed=k)
    net.input_scale = float(k + 1)
    net.save(path)


def check_file(path, sizes):
    """Load ``path``; return (k, problem): the version it holds, or what is wrong with it."""
    import fastbp
    try:
        net = fastbp.load(path)
    except Exception as exc:  # the point of the demonstration: this must not happen
        return None, f"load failed: {type(exc).__name__}: {exc}"
    if list(net.sizes) != list(sizes):
        return None, f"sizes {net.sizes}, expected {sizes}"
    k = int(round(net.input_scale)) - 1
    if net.input_scale != k + 1 or k < 0:
        return None, f"input_scale {net.input_scale} is no version tag"
    if not np.array_equal(net.get_parameters(), version(sizes, k)):
        return k, f"parameters differ from version {k}"
    return k, None


def run(kills=20, sizes=DEFAULT_SIZES, folder=None, seed=0, verbose=True, python=None):
    """Kill a saving child ``kills`` times; return a dict summary (see the module docstring).

    Summary: ``attempts`` (children started), ``kills`` (those really ended by
    SIGKILL while running), ``during_save`` (kills that landed between a
    ``saving k`` and its ``saved k``), ``intact`` (loads that gave a complete,
    expected version after a kill), ``previous_kept``, ``newer``,
    ``leftovers``, ``unexpected_files``, ``problems`` (one line each),
    ``file_mb`` and ``line`` (the summary line).
    """
    rng = random.Random(seed)
    python = python or sys.executable
    own = folder is None
    folder = tempfile.mkdtemp(prefix="fastbp-kill-") if own else os.fspath(folder)
    path = os.path.join(folder, "model.json")
    name = os.path.basename(path)
    leftover_pattern = re.compile(r"^\." + re.escape(name) + r"\..+\.tmp$")

    save_version(path, sizes, 0)  # the version the file holds at first (imports fastbp)
    t0 = time.perf_counter()
    save_version(path, sizes, 0)
    save_seconds = time.perf_counter() - t0
    size_mb = os.path.getsize(path) / 2**20
    if verbose:
        print(f"network {list(sizes)}: {size_mb:.1f} MB of JSON, one save takes about "
              f"{save_seconds:.2f} s; killing the saving child {kills} times", flush=True)

    summary = {"attempts": 0, "kills": 0, "during_save": 0, "intact": 0, "previous_kept": 0,
               "newer": 0, "leftovers": 0, "unexpected_files": 0, "problems": [],
               "file_mb": size_mb}
    current = 0  # the version the file held before this round
    for i in range(kills):
        child = subprocess.Popen([python, "-c", _CHILD, path, ",".join(map(str, sizes)),
                                  str(current)], stdout=subprocess.PIPE, text=True)
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the child did not start")
        summary["attempts"] += 1
        delay = rng.uniform(0.0, 2.0 * save_seconds)
        time.sleep(delay)
        alive = child.poll() is None
        if alive:
            child.send_signal(signal.SIGKILL)
        child.wait()
        lines = child.stdout.read().splitlines()
        child.stdout.close()
        saved = [int(line.split()[1]) for line in lines if line.startswith("saved ")]
        # a kill counts only if the child was running and SIGKILL is what ended it
        killed = alive and child.returncode == -signal.SIGKILL
        in_save = killed and bool(lines) and lines[-1].startswith("saving ")
        summary["kills"] += killed
        summary["during_save"] += in_save

        names = sorted(os.listdir(folder))
        leftovers = [n for n in names if leftover_pattern.match(n)]
        unexpected = [n for n in names if n != name and n not in leftovers]
        k, problem = check_file(path, sizes)
        newest_complete = saved[-1] if saved else current
        if problem is None and not (current <= k <= newest_complete + 1):
            problem = f"version {k}, expected one from {current} to {newest_complete + 1}"
        if not killed:
            problem = (f"the child was not killed by SIGKILL (exit status {child.returncode})"
                       + (f"; {problem}" if problem else ""))
        if problem is None:
            summary["intact"] += 1
            summary["previous_kept" if k == current else "newer"] += 1
        else:
            summary["problems"].append(f"kill {i + 1}: {problem}")
        summary["leftovers"] += len(leftovers)
        summary["unexpected_files"] += len(unexpected)
        if verbose:
            when = "during a save" if in_save else "between saves" if killed else "no kill"
            print(f"kill {i + 1:>2} after {delay:5.2f} s, {when} (child had completed "
                  f"{len(saved)} save(s)): file holds version {k} "
                  f"({'intact' if problem is None else 'BROKEN: ' + problem}), "
                  f"leftover temp files {leftovers or 'none'}"
                  + (f", UNEXPECTED {unexpected}" if unexpected else ""), flush=True)
        for n in leftovers:  # counted; cleared so that each round is judged on its own
            os.unlink(os.path.join(folder, n))
        current = k if k is not None else current

    if own:
        for n in os.listdir(folder):
            os.unlink(os.path.join(folder, n))
        os.rmdir(folder)
    line = (f"kills: {summary['kills']}/{summary['attempts']} ({summary['during_save']} during "
            f"a save), intact loads: {summary['intact']}/{summary['kills']}, "
            f"previous version kept: {summary['previous_kept']}, newer version: "
            f"{summary['newer']}, leftover temp files: {summary['leftovers']}, "
            f"unexpected files: {summary['unexpected_files']}")
    summary["line"] = line
    if verbose:
        print(line, flush=True)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    parser.add_argument("--folder", default=None, help="work here (default: a temporary one)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    summary = run(args.kills, sizes, args.folder, args.seed)
    ok = (summary["kills"] == summary["attempts"] and summary["intact"] == summary["kills"]
          and summary["unexpected_files"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
