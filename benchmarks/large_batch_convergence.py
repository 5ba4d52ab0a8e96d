"""Large-batch recipe check: batch 1024 with linear scaling and warmup vs batch 32.

Fashion-MNIST (from /usr/share/datasets/fashion-mnist, or $FASTBP_DATA), a
[784, 100, 10] network (sigmoid hidden layer, softmax output, log-likelihood
cost), the same initial weights and the same number of epochs. The small-batch
run uses eta; the large-batch run uses the linear scaling rule
(eta x 1024 / 32) with a linear warmup over the first ``--warmup`` epochs.
Prints the test accuracy of each and the difference in percentage points.

    python benchmarks/large_batch_convergence.py --epochs 30
"""
import argparse
import json
import time

import numpy as np

import fastbp
from fastbp.datasets import load_fashion_mnist


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--eta", type=float, default=0.1, help="learning rate at batch 32")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--large-batch", type=int, default=1024)
    p.add_argument("--small-batch", type=int, default=32)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)

    X_train, y_train, X_test, y_test = load_fashion_mnist()
    sizes = [784, 100, 10]
    results = {}
    for name, batch, extra in [
            ("small", args.small_batch, {}),
            ("large", args.large_batch, dict(base_batch_size=args.small_batch,
                                             warmup_epochs=args.warmup))]:
        net = fastbp.Network(sizes, output_activation="softmax", cost="log_likelihood",
                             dtype=np.float32, seed=args.seed, input_scale=1 / 255)
        t0 = time.perf_counter()
        history = net.fit(X_train, y_train, args.epochs, batch, args.eta,
                          momentum=args.momentum, seed=args.seed,
                          evaluation_data=(X_test, y_test), **extra)
        results[name] = {"batch_size": batch, "seconds": time.perf_counter() - t0,
                         "final_accuracy": history["eval_accuracy"][-1],
                         "best_accuracy": max(history["eval_accuracy"]),
                         "eta_used": history["eta"][-1], "history": history}
        print(f"batch {batch:5d}: final test accuracy {history['eval_accuracy'][-1]:.4f} "
              f"(best {max(history['eval_accuracy']):.4f}), peak eta {history['eta'][-1]:g}, "
              f"{results[name]['seconds']:.1f} s", flush=True)
    gap = 100 * (results["small"]["final_accuracy"] - results["large"]["final_accuracy"])
    print(f"gap (small - large): {gap:+.2f} percentage points after {args.epochs} epochs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()
