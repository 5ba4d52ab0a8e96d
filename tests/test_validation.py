"""The bad-input sweep: every public entry point, fed wrong types, shapes and values.

Each case below is one bad input to one entry point, and the outcome it must
have: ``TypeError`` for a wrong type, ``ValueError`` for a wrong value (the
message names the argument), an ``OSError`` for a path the system refuses,
exit status 2 with one line and no traceback for the command line, or
"ok" where the input is legitimate and gives a documented result. Every case
also checks that the arrays, lists and dicts the user passed are unchanged
afterwards (compared with copies taken before the call), and that a network
whose method raised still has the parameters it had before.

Run this file as a script for the table of cases by entry point and outcome::

    python tests/test_validation.py            # summary table
    python tests/test_validation.py --cases    # and one line per case
"""
import contextlib
import gzip
import io
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

import numpy as np
import pytest

import fastbp
from fastbp import datasets, mnist_loader, network, network2
from fastbp.validation import check_choice, check_path, check_seed

# --------------------------------------------------------------------------- the cases


class Case(NamedTuple):
    """One bad input.

    entry : the public entry point, e.g. "Network.fit"
    label : what is wrong, e.g. "eta = NaN"
    build : ctx -> (callable, args, kwargs)
    expect : an exception class, "ok" (accepted) or "exit 2" (the command line)
    match : regex the exception message must contain (the argument's name)
    check : for "ok": result, ctx -> None, asserting the documented result
    """
    entry: str
    label: str
    build: Callable
    expect: Any
    match: Optional[str] = None
    check: Optional[Callable] = None


class Ctx:
    """Fresh objects for one case: a [4, 5, 3] network, its data, a scratch folder."""

    def __init__(self, folder):
        self.tmp = Path(folder)
        rng = np.random.default_rng(11)
        self.X = rng.uniform(-1.0, 1.0, size=(13, 4))
        self.y = rng.integers(0, 3, size=13)
        self.Y = np.eye(3)[self.y]
        self.net = fastbp.Network([4, 5, 3], seed=0)
        self._book = None
        self._book2 = None

    def networks(self):
        return [n for n in (self.net, self._book and self._book.core,
                            self._book2 and self._book2.core) if n is not None]

    @property
    def book(self):
        """A fastbp.network.Network([4, 5, 3]) (draws from np.random, as the book does)."""
        if self._book is None:
            self._book = network.Network([4, 5, 3])
        return self._book

    @property
    def book2(self):
        if self._book2 is None:
            self._book2 = network2.Network([4, 5, 3])
        return self._book2

    def training_data(self, n=6):
        return [(self.X[i].reshape(4, 1).copy(), self.Y[i].reshape(3, 1).copy()) for i in range(n)]

    def test_data(self, n=5):
        return [(self.X[i].reshape(4, 1).copy(), int(self.y[i])) for i in range(n)]

    def model_file(self, edit=None, name="model.json"):
        """A valid model file of self.net, optionally with its dict edited first."""
        data = fastbp.serialization.network_to_dict(self.net)
        if edit is not None:
            data = edit(data)
        path = self.tmp / name
        path.write_text(json.dumps(data))
        return path

    def text_file(self, text, name="model.json"):
        path = self.tmp / name
        path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
        return path


class D:
    """A value computed from the context when the case is built (fresh for each case)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, ctx):
        return self.fn(ctx)


def _resolve(ctx, value):
    return value(ctx) if isinstance(value, D) else value


CASES = []


def add(entry, label, build, expect, match=None, check=None):
    CASES.append(Case(entry, label, build, expect, match, check))


def method(entry, name, args, defaults=None, target="net"):
    """Add cases calling ctx.<target>.<name>(*args, **kwargs); overrides replace defaults.

    ``args`` is a list of (label, overrides, expect, match[, check]).
    """
    defaults = defaults or {}
    for row in args:
        label, overrides, expect, match = row[:4]
        check = row[4] if len(row) > 4 else None

        def build(ctx, overrides=overrides):
            kwargs = {k: _resolve(ctx, v) for k, v in {**defaults, **overrides}.items()}
            obj = getattr(ctx, target)
            return getattr(obj, name), (), kwargs
        add(entry, label, build, expect, match, check)


NAN, INF = float("nan"), float("inf")
X = D(lambda c: c.X)
Y = D(lambda c: c.Y)
y = D(lambda c: c.y)


def nan_at(a, index=(0, 0), value=NAN):
    def make(ctx):
        arr = _resolve(ctx, a).copy()
        arr[index] = value
        return arr
    return D(make)


# ---- Network(...) ----------------------------------------------------------------


def _network(**kwargs):
    def build(ctx):
        args = dict(sizes=[4, 5, 3])
        args.update({k: _resolve(ctx, v) for k, v in kwargs.items()})
        return fastbp.Network, (), args
    return build


for label, kwargs, exc, match in [
    ("sizes empty", dict(sizes=[]), ValueError, "sizes"),
    ("sizes one layer", dict(sizes=[4]), ValueError, "sizes"),
    ("sizes width 0", dict(sizes=[4, 0, 3]), ValueError, r"sizes\[1\]"),
    ("sizes width negative", dict(sizes=[4, -5, 3]), ValueError, r"sizes\[1\]"),
    ("sizes width float", dict(sizes=[4, 5.0, 3]), TypeError, r"sizes\[1\]"),
    ("sizes width bool", dict(sizes=[4, True, 3]), TypeError, r"sizes\[1\]"),
    ("sizes width str", dict(sizes=[4, "5", 3]), TypeError, r"sizes\[1\]"),
    ("sizes width None", dict(sizes=[4, None, 3]), TypeError, r"sizes\[1\]"),
    ("sizes width NaN", dict(sizes=[4, NAN, 3]), TypeError, r"sizes\[1\]"),
    ("sizes width 2**31 (BLAS int32)", dict(sizes=[4, 2**31, 3]), ValueError, r"sizes\[1\]"),
    ("sizes width 10**30", dict(sizes=[10**30, 3]), ValueError, r"sizes\[0\]"),
    ("sizes as a str", dict(sizes="4,5,3"), TypeError, "sizes"),
    ("sizes None", dict(sizes=None), TypeError, "sizes"),
    ("sizes an int", dict(sizes=5), TypeError, "sizes"),
    ("sizes a set (unordered)", dict(sizes={4, 3}), TypeError, "sizes"),
    ("sizes a dict", dict(sizes={4: 1, 3: 1}), TypeError, "sizes"),
    ("sizes a generator", dict(sizes=D(lambda c: (s for s in [4, 3]))), TypeError, "sizes"),
    ("sizes a 2-D array", dict(sizes=np.array([[4, 3]])), TypeError, "sizes"),
    ("activation unknown name", dict(activation="swish"), ValueError, "activation"),
    ("activation an int", dict(activation=3), TypeError, "activation"),
    ("activation None", dict(activation=None), TypeError, "activation"),
    ("activation a plain function", dict(activation=math.tanh), TypeError, "activation"),
    ("activation list too short", dict(activation=["tanh"]), ValueError, "activation"),
    ("activation list too long", dict(activation=["tanh"] * 3), ValueError, "activation"),
    ("activation list with unknown", dict(activation=["tanh", "nope"]), ValueError,
     r"activation\[1\]"),
    ("activation list with non-callable", dict(activation=["tanh", 5]), TypeError,
     r"activation\[1\]"),
    ("activation softmax in a hidden layer", dict(activation="softmax",
                                                  cost="log_likelihood"), ValueError,
     r"activation\[0\]"),
    ("output_activation an int", dict(output_activation=3), TypeError, "output_activation"),
    ("output_activation unknown", dict(output_activation="nope"), ValueError,
     "output_activation"),
    ("output softmax with quadratic cost", dict(output_activation="softmax"), ValueError,
     "softmax"),
    ("cost unknown", dict(cost="hinge"), ValueError, "cost"),
    ("cost None", dict(cost=None), TypeError, "cost"),
    ("cost an int", dict(cost=3), TypeError, "cost"),
    ("cost a list", dict(cost=["quadratic"]), TypeError, "cost"),
    ("cost a network2 class", dict(cost=network2.QuadraticCost), TypeError, "cost"),
    ("cross_entropy with tanh output", dict(activation="tanh", cost="cross_entropy"),
     ValueError, "cross_entropy"),
    ("log_likelihood with sigmoid output", dict(cost="log_likelihood"), ValueError,
     "log_likelihood"),
    ("dtype float16", dict(dtype=np.float16), ValueError, "dtype"),
    ("dtype int", dict(dtype=int), ValueError, "dtype"),
    ("dtype int32", dict(dtype=np.int32), ValueError, "dtype"),
    ("dtype complex", dict(dtype=np.complex128), ValueError, "dtype"),
    ("dtype object", dict(dtype=object), ValueError, "dtype"),
    ("dtype longdouble", dict(dtype=np.longdouble), ValueError, "dtype"),
    ("dtype big-endian float64", dict(dtype=">f8"), ValueError, "dtype"),
    ("dtype 'banana'", dict(dtype="banana"), TypeError, "dtype"),
    ("init unknown", dict(init="xavier"), ValueError, "init"),
    ("init None", dict(init=None), TypeError, "init"),  # None is not a name: a wrong type
    ("seed negative", dict(seed=-1), ValueError, "seed"),
    ("seed a float", dict(seed=1.5), TypeError, "seed"),
    ("seed a str", dict(seed="abc"), TypeError, "seed"),
    ("input_scale 0", dict(input_scale=0), ValueError, "input_scale"),
    ("input_scale negative", dict(input_scale=-1.0), ValueError, "input_scale"),
    ("input_scale NaN", dict(input_scale=NAN), ValueError, "input_scale"),
    ("input_scale inf", dict(input_scale=INF), ValueError, "input_scale"),
    ("input_scale 10**400", dict(input_scale=10**400), ValueError, "input_scale"),
    ("input_scale a str", dict(input_scale="1/255"), TypeError, "input_scale"),
    ("input_scale None", dict(input_scale=None), TypeError, "input_scale"),
    ("input_scale an array", dict(input_scale=np.array([1.0, 2.0])), TypeError, "input_scale"),
]:
    add("Network()", label, _network(**kwargs), exc, match)


def _is_network(sizes, dtype=np.float64):
    def check(net, ctx):
        assert isinstance(net, fastbp.Network)
        assert net.sizes == tuple(sizes) and net.dtype == dtype
    return check


add("Network()", "sizes np.int64 widths (accepted)", _network(sizes=[np.int64(4), np.int8(3)]),
    "ok", check=_is_network([4, 3]))
add("Network()", "sizes a 1-D int array (accepted)", _network(sizes=np.array([4, 5, 3])),
    "ok", check=_is_network([4, 5, 3]))
add("Network()", "dtype None (NumPy's float64, accepted)", _network(dtype=None), "ok",
    check=_is_network([4, 5, 3]))
method("Network.initialize", "initialize", [
    ("init unknown", dict(init="he"), ValueError, "init"),
    ("seed negative", dict(seed=-3), ValueError, "seed"),
])

# ---- Network.fit -------------------------------------------------------------------

FIT = dict(X=X, Y=Y, epochs=1, batch_size=5, eta=0.5)
method("Network.fit", "fit", [
    ("X wrong feature count", dict(X=np.zeros((13, 5))), ValueError, "X"),
    ("X 3-D", dict(X=np.zeros((13, 4, 1))), ValueError, "X"),
    ("X 1-D (one row)", dict(X=np.zeros(4), Y=np.zeros(3)), ValueError, "X"),
    ("X 0-D", dict(X=np.float64(1.0)), ValueError, "X"),
    ("X empty", dict(X=np.zeros((0, 4)), Y=np.zeros((0, 3))), ValueError, "X"),
    ("X NaN", dict(X=nan_at(X)), ValueError, "X"),
    ("X +inf", dict(X=nan_at(X, value=INF)), ValueError, "X"),
    ("X -inf", dict(X=nan_at(X, (12, 3), -INF)), ValueError, "X"),
    ("X object dtype", dict(X=D(lambda c: c.X.astype(object))), TypeError, "X"),
    ("X complex", dict(X=D(lambda c: c.X.astype(complex))), TypeError, "X"),
    ("X str array", dict(X=np.full((13, 4), "1.0")), TypeError, "X"),
    ("X a str", dict(X="data.csv"), TypeError, "X"),
    ("X None", dict(X=None), TypeError, "X"),
    ("X ragged lists", dict(X=[[1, 2, 3, 4], [1, 2]]), TypeError, "X"),
    ("X datetime64", dict(X=np.zeros((13, 4), "M8[s]")), TypeError, "X"),
    ("Y wrong width", dict(Y=np.zeros((13, 2))), ValueError, "Y"),
    ("Y fewer rows than X", dict(Y=D(lambda c: c.Y[:12])), ValueError, "Y"),
    ("Y more rows than X", dict(Y=np.zeros((14, 3))), ValueError, "Y"),
    ("Y 3-D", dict(Y=np.zeros((13, 3, 1))), ValueError, "Y"),
    ("Y NaN", dict(Y=nan_at(Y)), ValueError, "Y"),
    ("Y inf", dict(Y=nan_at(Y, value=INF)), ValueError, "Y"),
    ("Y object", dict(Y=D(lambda c: c.Y.astype(object))), TypeError, "Y"),
    ("Y complex", dict(Y=D(lambda c: c.Y.astype(complex))), TypeError, "Y"),
    ("Y None", dict(Y=None), TypeError, "Y"),
    ("labels out of range", dict(Y=np.full(13, 3)), ValueError, "Y"),
    ("labels negative", dict(Y=np.full(13, -1)), ValueError, "Y"),
    ("labels float, non-integer", dict(Y=np.full(13, 0.5)), ValueError, "Y"),
    ("labels float, integer-valued", dict(Y=D(lambda c: c.y.astype(float))), ValueError, "Y"),
    ("labels uint64 beyond int64", dict(Y=np.full(13, 2**63 + 5, dtype=np.uint64)),
     ValueError, "Y"),
    ("labels wrong length", dict(Y=D(lambda c: c.y[:7])), ValueError, "Y"),
    ("epochs 0", dict(epochs=0), ValueError, "epochs"),
    ("epochs negative", dict(epochs=-2), ValueError, "epochs"),
    ("epochs float", dict(epochs=2.0), TypeError, "epochs"),
    ("epochs bool", dict(epochs=True), TypeError, "epochs"),
    ("epochs NaN", dict(epochs=NAN), TypeError, "epochs"),
    ("epochs str", dict(epochs="3"), TypeError, "epochs"),
    ("epochs None", dict(epochs=None), TypeError, "epochs"),
    ("epochs 2**64", dict(epochs=2**64), ValueError, "epochs"),
    ("batch_size 0", dict(batch_size=0), ValueError, "batch_size"),
    ("batch_size negative", dict(batch_size=-5), ValueError, "batch_size"),
    ("batch_size float", dict(batch_size=5.0), TypeError, "batch_size"),
    ("batch_size bool", dict(batch_size=True), TypeError, "batch_size"),
    ("batch_size NaN", dict(batch_size=NAN), TypeError, "batch_size"),
    ("batch_size 2**64", dict(batch_size=2**64), ValueError, "batch_size"),
    ("eta 0", dict(eta=0.0), ValueError, "eta"),
    ("eta negative", dict(eta=-0.1), ValueError, "eta"),
    ("eta NaN", dict(eta=NAN), ValueError, "eta"),
    ("eta inf", dict(eta=INF), ValueError, "eta"),
    ("eta str", dict(eta="0.1"), TypeError, "eta"),
    ("eta None", dict(eta=None), TypeError, "eta"),
    ("eta complex", dict(eta=0.1j), TypeError, "eta"),
    ("eta bool", dict(eta=True), TypeError, "eta"),
    ("lmbda negative", dict(lmbda=-1.0), ValueError, "lmbda"),
    ("lmbda NaN", dict(lmbda=NAN), ValueError, "lmbda"),
    ("lmbda inf", dict(lmbda=INF), ValueError, "lmbda"),
    ("momentum 1", dict(momentum=1.0), ValueError, "momentum"),
    ("momentum 1.5", dict(momentum=1.5), ValueError, "momentum"),
    ("momentum negative", dict(momentum=-0.1), ValueError, "momentum"),
    ("momentum NaN", dict(momentum=NAN), ValueError, "momentum"),
    ("evaluation_data an array", dict(evaluation_data=X), TypeError, "evaluation_data"),
    ("evaluation_data a 3-tuple", dict(evaluation_data=D(lambda c: (c.X, c.y, 1))), TypeError,
     "evaluation_data"),
    ("evaluation_data a 1-tuple", dict(evaluation_data=D(lambda c: (c.X,))), TypeError,
     "evaluation_data"),
    ("evaluation_data a str", dict(evaluation_data="test.csv"), TypeError, "evaluation_data"),
    ("evaluation_data X wrong features", dict(evaluation_data=D(lambda c: (np.zeros((3, 5)),
                                                                          [0, 1, 2]))),
     ValueError, r"evaluation_data\[0\]"),
    ("evaluation_data labels out of range", dict(evaluation_data=D(lambda c: (c.X,
                                                                             np.full(13, 7)))),
     ValueError, r"evaluation_data\[1\]"),
    ("evaluation_data NaN X", dict(evaluation_data=D(lambda c: (nan_at(X)(c), c.y))),
     ValueError, r"evaluation_data\[0\]"),
    ("evaluation_data NaN Y", dict(evaluation_data=D(lambda c: (c.X, nan_at(Y)(c)))),
     ValueError, r"evaluation_data\[1\]"),
    ("evaluation_data empty", dict(evaluation_data=(np.zeros((0, 4)), np.zeros(0, int))),
     ValueError, r"evaluation_data\[0\]"),
    ("evaluation_data rows mismatch", dict(evaluation_data=D(lambda c: (c.X, c.y[:5]))),
     ValueError, r"evaluation_data\[1\]"),
    ("chunk_size 0", dict(chunk_size=0), ValueError, "chunk_size"),
    ("chunk_size negative", dict(chunk_size=-1), ValueError, "chunk_size"),
    ("chunk_size float", dict(chunk_size=1.5), TypeError, "chunk_size"),
    ("chunk_size bool", dict(chunk_size=True), TypeError, "chunk_size"),
    ("chunk_size str", dict(chunk_size="4"), TypeError, "chunk_size"),
    ("callback an int", dict(callback=3), TypeError, "callback"),
    ("callback a str", dict(callback="print"), TypeError, "callback"),
    ("on_progress an int", dict(on_progress=1), TypeError, "on_progress"),
    ("regularization unknown", dict(regularization="l3"), ValueError, "regularization"),
    ("regularization None", dict(regularization=None), TypeError, "regularization"),
    ("regularization a list", dict(regularization=["l2"]), TypeError, "regularization"),
    ("optimizer unknown", dict(optimizer="rmsprop"), ValueError, "optimizer"),
    ("optimizer a list", dict(optimizer=["sgd"]), TypeError, "optimizer"),
    ("lr_schedule unknown", dict(lr_schedule="linear"), ValueError, "lr_schedule"),
    ("warmup_epochs negative", dict(warmup_epochs=-1.0), ValueError, "warmup_epochs"),
    ("warmup_epochs inf", dict(warmup_epochs=INF), ValueError, "warmup_epochs"),
    ("step schedule without decay_epochs", dict(lr_schedule="step"), ValueError,
     "decay_epochs"),
    ("decay_epochs 0", dict(lr_schedule="step", decay_epochs=0), ValueError, "decay_epochs"),
    ("decay_factor 0", dict(decay_factor=0.0), ValueError, "decay_factor"),
    ("base_batch_size 0", dict(base_batch_size=0), ValueError, "base_batch_size"),
    ("lars negative", dict(lars=-0.001), ValueError, "lars"),
    ("beta1 1", dict(optimizer="adam", beta1=1.0), ValueError, "beta1"),
    ("beta2 negative", dict(optimizer="adam", beta2=-0.5), ValueError, "beta2"),
    ("epsilon 0", dict(optimizer="adam", epsilon=0.0), ValueError, "epsilon"),
    ("checkpoint_every 0", dict(checkpoint=D(lambda c: c.tmp / "c.npz"), checkpoint_every=0),
     ValueError, "checkpoint_every"),
    ("checkpoint_every float", dict(checkpoint=D(lambda c: c.tmp / "c.npz"),
                                    checkpoint_every=1.5), TypeError, "checkpoint_every"),
    ("resume without checkpoint", dict(resume=True), ValueError, "checkpoint"),
    ("resume from a model JSON file", dict(checkpoint=D(lambda c: c.model_file()),
                                           resume=True), ValueError, "model.json"),
    ("resume from a damaged checkpoint", dict(checkpoint=D(lambda c: c.text_file(
        b"PK\x03\x04 not a zip", "c.npz")), resume=True), ValueError, "c.npz"),
    ("checkpoint an int", dict(checkpoint=12345), TypeError, "checkpoint"),
    ("checkpoint in a missing folder", dict(checkpoint=D(lambda c: c.tmp / "no" / "c.npz")),
     FileNotFoundError, "checkpoint"),
    ("seed negative", dict(seed=-1), ValueError, "seed"),
    ("seed a float", dict(seed=0.5), TypeError, "seed"),
], defaults=FIT)


def _float32_fit(ctx):
    net = fastbp.Network([4, 5, 3], dtype=np.float32, seed=0)
    ctx.net = net
    return net.fit, (np.full((13, 4), 1e300), ctx.Y, 1, 5, 0.5), {}


add("Network.fit", "X 1e300 overflows a float32 network's dtype", _float32_fit, ValueError,
    r"X: .*float32")

# ---- inference and gradients --------------------------------------------------------

BAD_X = [
    ("X wrong feature count", dict(X=np.zeros((13, 5))), ValueError, "X"),
    ("X 3-D", dict(X=np.zeros((2, 4, 1))), ValueError, "X"),
    ("X NaN", dict(X=nan_at(X)), ValueError, "X"),
    ("X inf", dict(X=nan_at(X, value=-INF)), ValueError, "X"),
    ("X object", dict(X=D(lambda c: c.X.astype(object))), TypeError, "X"),
    ("X complex", dict(X=D(lambda c: c.X.astype(complex))), TypeError, "X"),
    ("X a str", dict(X="abcd"), TypeError, "X"),
    ("X None", dict(X=None), TypeError, "X"),
    ("X ragged", dict(X=[[1.0, 2.0, 3.0, 4.0], [1.0]]), TypeError, "X"),
    ("X a scalar", dict(X=3.0), ValueError, "X"),
    ("chunk_size 0", dict(chunk_size=0), ValueError, "chunk_size"),
]


def _empty_output(result, ctx):
    assert result.shape[0] == 0


method("Network.feedforward", "feedforward", BAD_X + [
    ("X (0, 4): no rows", dict(X=np.zeros((0, 4))), "ok", None,
     lambda r, c: r.shape == (0, 3) or pytest.fail(f"shape {r.shape}")),
    ("X (0,): one empty row", dict(X=np.zeros(0)), ValueError, "X"),
    ("X bool (accepted, as 0/1)", dict(X=np.ones((2, 4), bool)), "ok", None,
     lambda r, c: np.testing.assert_allclose(r, c.net.feedforward(np.ones((2, 4))))),
], defaults=dict(X=X))
method("Network.predict", "predict", BAD_X[:8] + [
    ("X (0, 4): no rows", dict(X=np.zeros((0, 4))), "ok", None, _empty_output),
], defaults=dict(X=X))
method("Network.gradients", "gradients", BAD_X[:9] + [
    ("X 1-D (one row)", dict(X=np.zeros(4), Y=np.zeros(3)), ValueError, "X"),
    ("X empty", dict(X=np.zeros((0, 4)), Y=np.zeros((0, 3))), ValueError, "X"),
    ("Y rows mismatch", dict(Y=D(lambda c: c.Y[:5])), ValueError, "Y"),
    ("Y NaN", dict(Y=nan_at(Y)), ValueError, "Y"),
    ("Y wrong width", dict(Y=np.zeros((13, 4))), ValueError, "Y"),
    ("labels out of range", dict(Y=np.full(13, 3)), ValueError, "Y"),
    ("Y None", dict(Y=None), TypeError, "Y"),
    ("chunk_size 0", dict(chunk_size=0), ValueError, "chunk_size"),
    ("chunk_size 2**64", dict(chunk_size=2**64), ValueError, "chunk_size"),
], defaults=dict(X=X, Y=Y))
method("Network.accuracy", "accuracy", [
    ("X wrong features", dict(X=np.zeros((13, 5))), ValueError, "X"),
    ("X 1-D", dict(X=np.zeros(4), y=[0]), ValueError, "X"),
    ("X empty", dict(X=np.zeros((0, 4)), y=np.zeros(0, int)), ValueError, "X"),
    ("X NaN", dict(X=nan_at(X)), ValueError, "X"),
    ("y out of range", dict(y=np.full(13, 3)), ValueError, "y"),
    ("y negative", dict(y=np.full(13, -1)), ValueError, "y"),
    ("y float non-integer", dict(y=np.full(13, 0.5)), ValueError, "y"),
    ("y NaN", dict(y=np.full(13, NAN)), ValueError, "y"),
    ("y one-hot with NaN", dict(y=nan_at(Y)), ValueError, "y"),
    ("y wrong length", dict(y=D(lambda c: c.y[:4])), ValueError, "y"),
    ("y 2-D wrong width", dict(y=np.zeros((13, 2))), ValueError, "y"),
    ("y str", dict(y="labels"), TypeError, "y"),
    ("y object", dict(y=D(lambda c: c.y.astype(object))), TypeError, "y"),
    ("y float integer-valued (accepted)", dict(y=D(lambda c: c.y.astype(float))), "ok", None,
     lambda r, c: r == c.net.accuracy(c.X, c.y) or pytest.fail(str(r))),
], defaults=dict(X=X, y=y))
method("Network.cost", "cost", [
    ("X wrong features", dict(X=np.zeros((13, 2))), ValueError, "X"),
    ("X empty", dict(X=np.zeros((0, 4)), Y=np.zeros((0, 3))), ValueError, "X"),
    ("Y rows mismatch", dict(Y=np.zeros((3, 3))), ValueError, "Y"),
    ("Y NaN", dict(Y=nan_at(Y)), ValueError, "Y"),
    ("Y complex", dict(Y=D(lambda c: c.Y.astype(complex))), TypeError, "Y"),
    ("lmbda negative", dict(lmbda=-1.0), ValueError, "lmbda"),
    ("lmbda NaN", dict(lmbda=NAN), ValueError, "lmbda"),
    ("lmbda str", dict(lmbda="0.1"), TypeError, "lmbda"),
], defaults=dict(X=X, Y=Y))
method("Network.trace", "trace", [
    ("X wrong features", dict(X=np.zeros((13, 3))), ValueError, "X"),
    ("X 1-D", dict(X=np.zeros(4), Y=np.zeros(3)), ValueError, "X"),
    ("X empty", dict(X=np.zeros((0, 4)), Y=np.zeros((0, 3))), ValueError, "X"),
    ("X NaN", dict(X=nan_at(X)), ValueError, "X"),
    ("Y wrong width", dict(Y=np.zeros((13, 1))), ValueError, "Y"),
    ("Y inf", dict(Y=nan_at(Y, value=INF)), ValueError, "Y"),
], defaults=dict(X=X, Y=Y))


def _with_nan_weight(entry_method, *arg_names):
    def build(ctx):
        ctx.net.weights[0][1, 2] = np.nan  # a user's in-place edit of the live view
        args = tuple(getattr(ctx, a) for a in arg_names)
        return getattr(ctx.net, entry_method), args, {}
    return build


for name, args in (("feedforward", "X"), ("predict", "X"), ("gradients", "XY"),
                   ("cost", "XY"), ("accuracy", "Xy"), ("fit", "XY")):
    extra = (1, 5, 0.5) if name == "fit" else ()

    def build(ctx, name=name, args=args, extra=extra):
        fn, a, k = _with_nan_weight(name, *args)(ctx)
        return fn, a + extra, k
    add(f"Network.{name}", "a weight set to NaN in place", build, ValueError, "weights")

# ---- parameters -----------------------------------------------------------------------


def _assign(attr, value):
    def build(ctx):
        return setattr, (ctx.net, attr, _resolve(ctx, value)), {}
    return build


def _set_item(attr, index, value):
    def build(ctx):
        return getattr(ctx.net, attr).__setitem__, (index, _resolve(ctx, value)), {}
    return build


for label, build, exc, match in [
    ("weights = an int", _assign("weights", 5), TypeError, "weights"),
    ("weights = list too short", _assign("weights", [np.zeros((5, 4))]), ValueError, "weights"),
    ("weights = list too long", _assign("weights", [np.zeros((5, 4)), np.zeros((3, 5)),
                                                    np.zeros(2)]), ValueError, "weights"),
    ("weights = transposed arrays", _assign("weights", [np.zeros((4, 5)), np.zeros((5, 3))]),
     ValueError, r"weights\[0\]"),
    ("weights = NaN in the second", _assign("weights", [np.zeros((5, 4)),
                                                        np.full((3, 5), NAN)]),
     ValueError, r"weights\[1\]"),
    ("weights = object arrays", _assign("weights", [np.zeros((5, 4), object),
                                                    np.zeros((3, 5))]),
     TypeError, r"weights\[0\]"),
    ("biases = wrong length", _assign("biases", [np.zeros(5), np.zeros(4)]), ValueError,
     r"biases\[1\]"),
    ("biases = inf", _assign("biases", [np.zeros(5), np.full(3, INF)]), ValueError,
     r"biases\[1\]"),
    ("weights[0] = wrong shape", _set_item("weights", 0, np.zeros((5, 5))), ValueError,
     r"weights\[0\]"),
    ("weights[0] = NaN", _set_item("weights", 0, np.full((5, 4), NAN)), ValueError,
     r"weights\[0\]"),
    ("weights[1] = str", _set_item("weights", 1, "zeros"), TypeError, r"weights\[1\]"),
    ("weights[1] = complex", _set_item("weights", 1, np.zeros((3, 5), complex)), TypeError,
     r"weights\[1\]"),
    ("weights[0] = None", _set_item("weights", 0, None), TypeError, r"weights\[0\]"),
    ("biases[1] = NaN", _set_item("biases", 1, np.full(3, NAN)), ValueError, r"biases\[1\]"),
    ("weights[0:1] = slice", _set_item("weights", slice(0, 1), [np.zeros((5, 4))]), TypeError,
     "weights"),
    ("weights[5] = index out of range", _set_item("weights", 5, np.zeros((5, 4))), IndexError,
     "index"),
]:
    add("Network.weights/biases", label, build, exc, match)
method("Network.set_parameters", "set_parameters", [
    ("theta wrong length", dict(theta=np.zeros(7)), ValueError, "theta"),
    ("theta 2-D", dict(theta=D(lambda c: np.zeros((1, c.net.n_parameters)))), ValueError,
     "theta"),
    ("theta NaN", dict(theta=D(lambda c: np.full(c.net.n_parameters, NAN))), ValueError,
     "theta"),
])


def _float32_assign(fn):
    def build(ctx):
        ctx.net = fastbp.Network([4, 5, 3], dtype=np.float32, seed=0)
        return fn(ctx)
    return build


add("Network.weights/biases", "weights[0] = 1e300 into a float32 network",
    _float32_assign(lambda c: (c.net.weights.__setitem__, (0, np.full((5, 4), 1e300)), {})),
    ValueError, r"weights\[0\]")
add("Network.set_parameters", "theta 1e300 into a float32 network",
    _float32_assign(lambda c: (c.net.set_parameters, (np.full(c.net.n_parameters, 1e300),),
                               {})), ValueError, "theta")
add("Network.weights/biases", "weights[0] = float16 (accepted, converted)",
    _set_item("weights", 0, np.ones((5, 4), np.float16)), "ok",
    check=lambda r, c: np.testing.assert_array_equal(c.net.weights[0], np.ones((5, 4))))

# ---- save and load ------------------------------------------------------------------------

method("Network.save", "save", [
    ("path None", dict(path=None), TypeError, "path"),
    ("path an int (a file descriptor)", dict(path=1), TypeError, "path"),
    ("path empty", dict(path=""), ValueError, "path"),
    ("path with a NUL byte", dict(path="a\0b.json"), ValueError, "path"),
    ("folder missing", dict(path=D(lambda c: c.tmp / "missing" / "m.json")), FileNotFoundError,
     "missing"),
    ("path is a folder", dict(path=D(lambda c: c.tmp)), IsADirectoryError, None),
    ("folder is a file", dict(path=D(lambda c: c.text_file("x", "f") / "m.json")),
     NotADirectoryError, None),
    ("read-only file system (/proc)", dict(path="/proc/fastbp-model.json"), OSError, None),
])


def _load(path_fn, **kwargs):
    def build(ctx):
        return fastbp.load, (_resolve(ctx, path_fn),), kwargs
    return build


def _edit(**changes):
    return D(lambda c: c.model_file(lambda d: {**d, **changes}))


def _truncated(fraction):
    def make(ctx):
        text = ctx.model_file().read_text()
        return ctx.text_file(text[:int(len(text) * fraction)])
    return D(make)


for label, path, exc, match in [
    ("missing file", D(lambda c: c.tmp / "none.json"), FileNotFoundError, "none.json"),
    ("path is a folder", D(lambda c: c.tmp), IsADirectoryError, None),
    ("path None", None, TypeError, "path"),
    ("path an int (stdin's descriptor)", 0, TypeError, "path"),
    ("truncated to 0%", _truncated(0.0), ValueError, "model.json"),
    ("truncated to 10%", _truncated(0.1), ValueError, "model.json"),
    ("truncated to 50%", _truncated(0.5), ValueError, "model.json"),
    ("truncated to 99%", _truncated(0.99), ValueError, "model.json"),
    ("binary garbage", D(lambda c: c.text_file(b"\xff\xfe\x00\x81garbage")), ValueError,
     "model.json"),
    ("a pickle", D(lambda c: c.text_file(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00.")),
     ValueError, "model.json"),
    ("an .npz file", D(lambda c: c.text_file(b"PK\x03\x04" + bytes(60))), ValueError,
     "model.json"),
    ("JSON nested 100000 deep", D(lambda c: c.text_file("[" * 100000 + "]" * 100000)),
     ValueError, "model.json"),
    ("weights nested 3000 deep", D(lambda c: c.text_file(json.dumps(
        {**fastbp.serialization.network_to_dict(c.net), "weights": "W"}).replace(
        '"W"', "[" + "[" * 3000 + "1.0" + "]" * 3000 + "]"))), ValueError, "model.json"),
    ("a key given twice", D(lambda c: c.text_file(c.model_file().read_text()[:-1]
                                                  + ', "sizes": [4, 5, 3]}')),
     ValueError, "twice"),
    ("NaN literal in weights", D(lambda c: c.text_file(c.model_file().read_text().replace(
        "[[", "[[NaN, ", 1))), ValueError, "model.json"),
    ("Infinity literal", D(lambda c: c.text_file(c.model_file().read_text().replace(
        '"input_scale": 1.0', '"input_scale": Infinity'))), ValueError, "model.json"),
    ("1e400 (inf) weight", D(lambda c: c.text_file(c.model_file().read_text().replace(
        "[[", "[[1e400, ", 1))), ValueError, "model.json"),
    ("10**400 integer weight", D(lambda c: c.model_file(lambda d: {**d, "weights": [
        [[10**400] * 4] * 5, d["weights"][1]]})), ValueError, r"weights\[0\]"),
    ("5000-digit integer", D(lambda c: c.text_file(c.model_file().read_text().replace(
        "[[", "[[" + "1" * 5000 + ", ", 1))), ValueError, "model.json"),
    ("top level a list", D(lambda c: c.text_file("[1, 2, 3]")), ValueError, "model.json"),
    ("empty object", D(lambda c: c.text_file("{}")), ValueError, "missing"),
    ("version 0", _edit(version=0), ValueError, "version"),
    ("version -1", _edit(version=-1), ValueError, "version"),
    ("version 99", _edit(version=99), ValueError, "version"),
    ("version '1'", _edit(version="1"), ValueError, "version"),
    ("version 1.0", _edit(version=1.0), ValueError, "version"),
    ("format another program's", _edit(format="keras"), ValueError, "format"),
    ("sizes a str", _edit(sizes="4,5,3"), ValueError, "sizes"),
    ("sizes 10**30", _edit(sizes=[10**30, 5, 3]), ValueError, "sizes"),
    ("sizes disagree with weights", _edit(sizes=[4, 6, 3]), ValueError, "weights"),
    ("weights transposed", D(lambda c: c.model_file(lambda d: {**d, "weights": [
        np.array(w).T.tolist() for w in d["weights"]]})), ValueError, r"weights\[0\]"),
    ("a weight is a str", D(lambda c: c.model_file(lambda d: {**d, "weights": [
        [["0.5"] * 4] * 5, d["weights"][1]]})), ValueError, r"weights\[0\]"),
    ("a weight is true", D(lambda c: c.model_file(lambda d: {**d, "weights": [
        [[True] * 4] * 5, d["weights"][1]]})), ValueError, r"weights\[0\]"),
    ("a weight is null", D(lambda c: c.model_file(lambda d: {**d, "weights": [
        [[None] * 4] * 5, d["weights"][1]]})), ValueError, r"weights\[0\]"),
    ("ragged weights", D(lambda c: c.model_file(lambda d: {**d, "weights": [
        [[0.0] * 4] * 4 + [[0.0] * 3], d["weights"][1]]})), ValueError, r"weights\[0\]"),
    ("biases a dict", _edit(biases={"0": 1}), ValueError, "biases"),
    ("cost a Python name", _edit(cost="__import__"), ValueError, "cost"),
    ("cost a list", _edit(cost=["quadratic"]), ValueError, "cost"),
    ("activation a module path", _edit(activations=["os.system", "sigmoid"]), ValueError,
     "activation"),
    ("activation softmax hidden", _edit(activations=["softmax", "sigmoid"]), ValueError,
     "softmax"),
    ("custom activation not supplied", _edit(activations=["custom:swish", "sigmoid"]),
     ValueError, "custom_activations"),
    ("dtype float16", _edit(dtype="float16"), ValueError, "dtype"),
    ("dtype a list", _edit(dtype=["float64"]), ValueError, "dtype"),
    ("input_scale 0", _edit(input_scale=0), ValueError, "input_scale"),
    ("input_scale 10**400", _edit(input_scale=10**400), ValueError, "input_scale"),
    ("input_scale a str", _edit(input_scale="1"), ValueError, "input_scale"),
]:
    add("fastbp.load", label, _load(path), exc, match)
add("fastbp.load", "custom_activations an int", _load(D(lambda c: c.model_file()),
                                                      custom_activations=3),
    TypeError, "custom_activations")
add("fastbp.load", "custom_activations a str", _load(D(lambda c: c.model_file()),
                                                     custom_activations="swish"),
    TypeError, "custom_activations")
add("fastbp.load", "custom_activations values not Activation",
    _load(_edit(activations=["custom:sq", "sigmoid"]), custom_activations={"sq": math.tanh}),
    ValueError, "custom_activations")
add("fastbp.load", "a book network2.py file (no version, accepted)",
    _load(D(lambda c: c.model_file(lambda d: {k: d[k] for k in ("sizes", "weights", "biases")}
                                   | {"cost": "CrossEntropyCost"}))),
    "ok", check=lambda net, c: np.testing.assert_array_equal(net.get_parameters(),
                                                             c.net.get_parameters()))

# ---- gradcheck, Activation -----------------------------------------------------------------


def _gradcheck(**kwargs):
    def build(ctx):
        args = dict(net=ctx.net, X=ctx.X[:3], Y=ctx.Y[:3])
        args.update({k: _resolve(ctx, v) for k, v in kwargs.items()})
        return fastbp.gradcheck, (), args
    return build


for label, kwargs, exc, match in [
    ("net a str", dict(net="net"), TypeError, "net"),
    ("net a book network", dict(net=D(lambda c: c.book)), TypeError, "net"),
    ("X wrong features", dict(X=np.zeros((3, 2))), ValueError, "X"),
    ("X NaN", dict(X=np.full((3, 4), NAN)), ValueError, "X"),
    ("Y wrong rows", dict(Y=np.zeros((2, 3))), ValueError, "Y"),
    ("eps 0", dict(eps=0.0), ValueError, "eps"),
    ("eps NaN", dict(eps=NAN), ValueError, "eps"),
    ("eps str", dict(eps="1e-6"), TypeError, "eps"),
    ("max_parameters 0", dict(max_parameters=0), ValueError, "max_parameters"),
    ("max_parameters float", dict(max_parameters=2.5), TypeError, "max_parameters"),
    ("seed negative (with max_parameters)", dict(max_parameters=3, seed=-1), ValueError,
     "seed"),
]:
    add("fastbp.gradcheck", label, _gradcheck(**kwargs), exc, match)


def _activation(name, f, fprime):
    return lambda ctx: (fastbp.Activation, (name, f, fprime), {})


def _raises(z):
    raise RuntimeError("no")


for label, args, exc, match in [
    ("name empty", ("", math.tanh, math.tanh), TypeError, "name"),
    ("name an int", (3, math.tanh, math.tanh), TypeError, "name"),
    ("f None", ("a", None, math.tanh), TypeError, "f"),
    ("fprime an int", ("a", math.tanh, 3), TypeError, "fprime"),
    ("f of two arguments", ("a", lambda a, b: a, math.tanh), TypeError, "f"),
    ("f returns an array", ("a", lambda z: np.zeros(3), math.tanh), TypeError, "f"),
    ("f returns a str", ("a", lambda z: "z", math.tanh), TypeError, "f"),
    ("f a NumPy ufunc", ("a", np.tanh, math.tanh), TypeError, "f"),
    ("f raises on the probe points", ("a", lambda z: 1.0 / (z - z), math.tanh), TypeError,
     "Activation 'a'"),
    ("fprime raises", ("a", math.tanh, _raises), TypeError, "Activation 'a'"),
]:
    add("fastbp.Activation", label, _activation(*args), exc, match)

# ---- fastbp.network / fastbp.network2 drop-ins ------------------------------------------------


def _book(target, name, *args, **kwargs):
    def build(ctx):
        return (getattr(getattr(ctx, target), name), tuple(_resolve(ctx, a) for a in args),
                {k: _resolve(ctx, v) for k, v in kwargs.items()})
    return build


TR = D(lambda c: c.training_data())
TE = D(lambda c: c.test_data())


def _tuples(items):
    return D(lambda c: [tuple(_resolve(c, v) for v in item) for item in items])


for entry, label, build, exc, match in [
    ("network.Network()", "sizes empty", lambda c: (network.Network, ([],), {}), ValueError,
     "sizes"),
    ("network.Network()", "sizes a str", lambda c: (network.Network, ("4,5,3",), {}),
     TypeError, "sizes"),
    ("network.Network()", "sizes width 0", lambda c: (network.Network, ([4, 0],), {}),
     ValueError, r"sizes\[1\]"),
    ("network.SGD", "training_data arrays, not tuples",
     _book("book", "SGD", D(lambda c: [np.zeros(4)] * 3), 1, 2, 1.0), TypeError,
     r"training_data\[0\]"),
    ("network.SGD", "training_data an ndarray", _book("book", "SGD", X, 1, 2, 1.0), TypeError,
     r"training_data\[0\]"),
    ("network.SGD", "training_data a zip (Python 3 port)", _book(
        "book", "SGD", D(lambda c: zip([1], [2])), 1, 2, 1.0), TypeError, "training_data"),
    ("network.SGD", "training_data None", _book("book", "SGD", None, 1, 2, 1.0), TypeError,
     "training_data"),
    ("network.SGD", "training_data empty", _book("book", "SGD", [], 1, 2, 1.0), ValueError,
     "training_data"),
    ("network.SGD", "x of the wrong shape", _book("book", "SGD", _tuples(
        [(np.zeros((5, 1)), np.zeros((3, 1)))]), 1, 1, 1.0), ValueError,
     r"training_data\[0\]\[0\]"),
    ("network.SGD", "y an int label", _book("book", "SGD", _tuples(
        [(np.zeros((4, 1)), 1)]), 1, 1, 1.0), ValueError, r"training_data\[0\]\[1\]"),
    ("network.SGD", "x NaN", _book("book", "SGD", _tuples(
        [(np.full((4, 1), NAN), np.zeros((3, 1)))]), 1, 1, 1.0), ValueError, "training_data"),
    ("network.SGD", "y inf", _book("book", "SGD", _tuples(
        [(np.zeros((4, 1)), np.full((3, 1), INF))]), 1, 1, 1.0), ValueError, "training_data"),
    ("network.SGD", "x a str", _book("book", "SGD", _tuples(
        [("abcd", np.zeros((3, 1)))]), 1, 1, 1.0), TypeError, r"training_data\[0\]\[0\]"),
    ("network.SGD", "x object", _book("book", "SGD", _tuples(
        [(np.array([1, 2, 3, None]), np.zeros((3, 1)))]), 1, 1, 1.0), TypeError,
     r"training_data\[0\]\[0\]"),
    ("network.SGD", "epochs negative", _book("book", "SGD", TR, -1, 2, 1.0), ValueError,
     "epochs"),
    ("network.SGD", "epochs float", _book("book", "SGD", TR, 1.5, 2, 1.0), TypeError,
     "epochs"),
    ("network.SGD", "mini_batch_size 0", _book("book", "SGD", TR, 1, 0, 1.0), ValueError,
     "mini_batch_size"),
    ("network.SGD", "eta NaN", _book("book", "SGD", TR, 1, 2, NAN), ValueError, "eta"),
    ("network.SGD", "eta 0", _book("book", "SGD", TR, 1, 2, 0.0), ValueError, "eta"),
    ("network.SGD", "test_data with vector targets", _book("book", "SGD", TR, 1, 2, 1.0,
                                                           test_data=TR),
     ValueError, "test_data"),
    ("network.SGD", "test_data labels out of range", _book("book", "SGD", TR, 1, 2, 1.0,
                                                           test_data=_tuples(
                                                               [(np.zeros((4, 1)), 7)])),
     ValueError, "test_data"),
    ("network.SGD", "test_data labels float", _book("book", "SGD", TR, 1, 2, 1.0,
                                                    test_data=_tuples(
                                                        [(np.zeros((4, 1)), 0.5)])),
     ValueError, "test_data"),
    ("network.SGD", "test_data an int", _book("book", "SGD", TR, 1, 2, 1.0, test_data=5),
     TypeError, "test_data"),
    ("network.SGD", "test_data an ndarray", _book("book", "SGD", TR, 1, 2, 1.0,
                                                  test_data=np.zeros((3, 4))),
     TypeError, "test_data"),
    ("network.feedforward", "a of the wrong shape", _book("book", "feedforward",
                                                          np.zeros((5, 1))), ValueError, "a"),
    ("network.feedforward", "a NaN", _book("book", "feedforward", np.full((4, 1), NAN)),
     ValueError, "a"),
    ("network.feedforward", "a a str", _book("book", "feedforward", "abcd"), TypeError, "a"),
    ("network.feedforward", "a 3-D", _book("book", "feedforward", np.zeros((4, 1, 1))),
     ValueError, "a"),
    ("network.backprop", "x of the wrong size", _book("book", "backprop", np.zeros((5, 1)),
                                                      np.zeros((3, 1))), ValueError, "x"),
    ("network.backprop", "y NaN", _book("book", "backprop", np.zeros((4, 1)),
                                        np.full((3, 1), NAN)), ValueError, "y"),
    ("network.update_mini_batch", "empty mini-batch", _book("book", "update_mini_batch", [],
                                                            1.0), ValueError, "mini_batch"),
    ("network.update_mini_batch", "eta negative", _book("book", "update_mini_batch", TR,
                                                        -1.0), ValueError, "eta"),
    ("network.evaluate", "vector targets", _book("book", "evaluate", TR), ValueError,
     "test_data"),
    ("network.evaluate", "None", _book("book", "evaluate", None), TypeError, "test_data"),
    ("network.weights", "wrong list length",
     lambda c: (setattr, (c.book, "weights", [np.zeros((5, 4))]), {}), ValueError, "weights"),
    ("network.biases", "wrong shape", lambda c: (setattr, (c.book, "biases",
                                                          [np.zeros((5, 1)), np.zeros((4, 1))]),
                                                 {}), ValueError, r"biases\[1\]"),
    ("network2.Network()", "cost a str", lambda c: (network2.Network, ([4, 5, 3],),
                                                    dict(cost="quadratic")), ValueError, "cost"),
    ("network2.Network()", "cost an instance", lambda c: (
        network2.Network, ([4, 5, 3],), dict(cost=network2.QuadraticCost())), ValueError, "cost"),
    ("network2.Network()", "sizes one layer", lambda c: (network2.Network, ([4],), {}),
     ValueError, "sizes"),
    ("network2.cost", "set to an int", lambda c: (setattr, (c.book2, "cost", 3), {}),
     ValueError, "cost"),
    ("network2.SGD", "lmbda negative", _book("book2", "SGD", TR, 1, 2, 1.0, lmbda=-1.0),
     ValueError, "lmbda"),
    ("network2.SGD", "monitor without evaluation_data", _book(
        "book2", "SGD", TR, 1, 2, 1.0, monitor_evaluation_cost=True), ValueError,
     "evaluation_data"),
    ("network2.SGD", "evaluation_data with vectors", _book(
        "book2", "SGD", TR, 1, 2, 1.0, evaluation_data=TR, monitor_evaluation_accuracy=True),
     ValueError, "evaluation_data"),
    ("network2.SGD", "evaluation_data an int", _book(
        "book2", "SGD", TR, 1, 2, 1.0, evaluation_data=5, monitor_evaluation_accuracy=True),
     TypeError, "evaluation_data"),
    ("network2.SGD", "training_data not tuples", _book("book2", "SGD", X, 1, 2, 1.0),
     TypeError, "training_data"),
    ("network2.SGD", "mini_batch_size float", _book("book2", "SGD", TR, 1, 2.0, 1.0),
     TypeError, "mini_batch_size"),
    ("network2.update_mini_batch", "n 0", _book("book2", "update_mini_batch", TR, 1.0, 0.1, 0),
     ValueError, "n"),
    ("network2.accuracy", "labels with convert=True", _book("book2", "accuracy", TE,
                                                            convert=True),
     ValueError, r"data\[0\]\[1\]"),
    ("network2.accuracy", "vectors with convert=False", _book("book2", "accuracy", TR),
     ValueError, "data"),
    ("network2.total_cost", "lmbda NaN", _book("book2", "total_cost", TR, NAN), ValueError,
     "lmbda"),
    ("network2.total_cost", "labels without convert", _book("book2", "total_cost", TE, 0.0),
     ValueError, r"data\[0\]\[1\]"),
    ("network2.save", "filename None", _book("book2", "save", None), TypeError, "path"),
    ("network2.save", "folder missing", _book("book2", "save", D(
        lambda c: c.tmp / "no" / "n.json")), FileNotFoundError, None),
    ("network2.load", "missing file", lambda c: (network2.load, (c.tmp / "none.json",), {}),
     FileNotFoundError, "none.json"),
    ("network2.load", "truncated", lambda c: (network2.load, (c.text_file('{"sizes": [4'),),
                                              {}), ValueError, "model.json"),
    ("network2.load", "JSON nested 100000 deep", lambda c: (
        network2.load, (c.text_file("[" * 100000 + "]" * 100000),), {}), ValueError,
     "model.json"),
    ("network2.load", "a fastbp tanh network", lambda c: (network2.load, (c.model_file(
        lambda d: {**d, "activations": ["tanh", "sigmoid"]}),), {}), ValueError, "activations"),
    ("network2.load", "unknown cost", lambda c: (network2.load, (c.model_file(
        lambda d: {**d, "cost": "HingeCost"}),), {}), ValueError, "cost"),
]:
    add(entry, label, build, exc, match)

# ---- fastbp.datasets and fastbp.mnist_loader (never downloading) -----------------------------


def _npz(**arrays):
    def make(ctx):
        path = ctx.tmp / "data.npz"
        np.savez(path, **arrays)
        return path
    return D(make)


GOOD_NPZ = dict(X_train=np.zeros((3, 4)), y_train=np.zeros(3, int), X_test=np.zeros((2, 4)),
                y_test=np.zeros(2, int))


def _call(fn, *args, **kwargs):
    return lambda c: (fn, tuple(_resolve(c, a) for a in args),
                      {k: _resolve(c, v) for k, v in kwargs.items()})


for entry, label, build, exc, match in [
    ("datasets.load_npz", "missing file", _call(datasets.load_npz, D(
        lambda c: c.tmp / "none.npz")), FileNotFoundError, "none.npz"),
    ("datasets.load_npz", "path None", _call(datasets.load_npz, None), TypeError, None),
    ("datasets.load_npz", "a text file", _call(datasets.load_npz, D(
        lambda c: c.text_file("x,y\n1,2\n", "d.csv"))), ValueError, "d.csv"),
    ("datasets.load_npz", "a single .npy array", _call(datasets.load_npz, D(
        lambda c: (np.save(c.tmp / "a.npy", np.zeros(3)), c.tmp / "a.npy")[1])), ValueError,
     "a.npy"),
    ("datasets.load_npz", "arrays missing", _call(datasets.load_npz, _npz(
        X_train=np.zeros((3, 4)))), ValueError, "missing"),
    ("datasets.load_npz", "an object array", _call(datasets.load_npz, _npz(
        **{**GOOD_NPZ, "X_train": np.array([None, 1], dtype=object)})), ValueError, None),
    ("datasets.load_npz", "features disagree", _call(datasets.load_npz, _npz(
        **{**GOOD_NPZ, "X_test": np.zeros((2, 5))})), ValueError, "features"),
    ("datasets.load_npz", "negative labels", _call(datasets.load_npz, _npz(
        **{**GOOD_NPZ, "y_train": -np.ones(3, int)})), ValueError, "y_train"),
    ("datasets.load_npz", "float labels", _call(datasets.load_npz, _npz(
        **{**GOOD_NPZ, "y_train": np.zeros(3)})), ValueError, "y_train"),
    ("datasets.load_npz", "labels of the wrong length", _call(datasets.load_npz, _npz(
        **{**GOOD_NPZ, "y_train": np.zeros(2, int)})), ValueError, "y_train"),
    ("datasets.load_npz", "dtype int32", _call(datasets.load_npz, _npz(**GOOD_NPZ),
                                               dtype=np.int32), ValueError, "dtype"),
    ("datasets.load_idx_folder", "missing folder", _call(datasets.load_idx_folder, D(
        lambda c: c.tmp / "none")), FileNotFoundError, "missing"),
    ("datasets.load_idx_folder", "a file, not a folder", _call(datasets.load_idx_folder, D(
        lambda c: c.text_file("x", "f"))), FileNotFoundError, "missing"),
    ("datasets.load_idx_folder", "files with a huge header", _call(
        datasets.load_idx_folder, D(lambda c: _idx_folder(c, b"\x00\x00\x08\x03"
                                                          + (2).to_bytes(4, "big")
                                                          + (10**6).to_bytes(4, "big") * 2))),
     ValueError, "truncated"),
    ("datasets.load_idx_folder", "bad magic number", _call(datasets.load_idx_folder, D(
        lambda c: _idx_folder(c, b"GIF89a" + bytes(20)))), ValueError, "IDX"),
    ("datasets.load_idx_folder", "header cut short", _call(datasets.load_idx_folder, D(
        lambda c: _idx_folder(c, b"\x00\x00\x08\xff"))), ValueError, "IDX"),
    ("datasets.load_digits", "n_train 0", _call(datasets.load_digits, n_train=0), ValueError,
     "n_train"),
    ("datasets.load_digits", "n_train all rows", _call(datasets.load_digits, n_train=1797),
     ValueError, "n_train"),
    ("datasets.load_digits", "n_train float", _call(datasets.load_digits, n_train=100.0),
     TypeError, "n_train"),
    ("datasets.load_digits", "dtype int32", _call(datasets.load_digits, dtype=np.int32),
     ValueError, "dtype"),
    ("datasets.load_digits", "dtype 'banana'", _call(datasets.load_digits, dtype="banana"),
     TypeError, "dtype"),
    ("datasets.load_fashion_mnist", "not in the folder, no download", _call(
        datasets.load_fashion_mnist, D(lambda c: c.tmp), download=False),
     datasets.DatasetNotFoundError, "Fashion-MNIST"),
    ("datasets.load_mnist", "not in the folder, no download", _call(
        datasets.load_mnist, D(lambda c: c.tmp), download=False),
     datasets.DatasetNotFoundError, "MNIST"),
    ("datasets.locate", "unknown name", _call(datasets.locate, "cifar10", download=False),
     ValueError, "name"),
    ("mnist_loader.load_data", "missing file", _call(mnist_loader.load_data, D(
        lambda c: c.tmp / "mnist.pkl.gz")), FileNotFoundError, "mnist.pkl.gz"),
    ("mnist_loader.load_data", "not gzip", _call(mnist_loader.load_data, D(
        lambda c: c.text_file("not gzip", "mnist.pkl.gz"))), ValueError, "mnist.pkl.gz"),
    ("mnist_loader.load_data", "gzip of text, not a pickle", _call(mnist_loader.load_data, D(
        lambda c: c.text_file(gzip.compress(b"hello"), "mnist.pkl.gz"))), ValueError,
     "mnist.pkl.gz"),
    ("mnist_loader.load_data", "validation_size negative", _call(
        mnist_loader.load_data, D(lambda c: _idx_folder(c, _IDX_28)), validation_size=-1),
     ValueError, "validation_size"),
]:
    add(entry, label, build, exc, match)

_IDX_28 = b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(
    2 * 28 * 28)


def _idx_folder(ctx, image_bytes):
    """A folder of the four IDX files: images from ``image_bytes``, two valid labels."""
    folder = ctx.tmp / "idx"
    folder.mkdir(exist_ok=True)
    labels = b"\x00\x00\x08\x01" + (2).to_bytes(4, "big") + bytes([1, 2])
    for stem in ("train", "t10k"):
        (folder / f"{stem}-images-idx3-ubyte").write_bytes(image_bytes)
        (folder / f"{stem}-labels-idx1-ubyte").write_bytes(labels)
    return folder

# ---- the command line ----------------------------------------------------------------------


def _cli(*argv):
    def build(ctx):
        args = [a.replace("{tmp}", str(ctx.tmp)) for a in argv]
        return _run_cli, (args, ctx.tmp), {}
    return build


def _run_cli(argv, folder):
    """fastbp.cli.main(argv) run in ``folder``, output captured: (exit status, stderr)."""
    from fastbp import cli
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)  # anything written by mistake (./fastbp-run) lands in the scratch folder
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    finally:
        os.chdir(cwd)
    return code, err.getvalue()


for label, argv in [
    ("no command", ()),
    ("unknown command", ("fit",)),
    ("unknown option", ("train", "--epohcs", "3")),
    ("--epochs 0", ("train", "--epochs", "0")),
    ("--epochs not a number", ("train", "--epochs", "ten")),
    ("--epochs 1.5", ("train", "--epochs", "1.5")),
    ("--batch-size 0", ("train", "--batch-size", "0")),
    ("--eta NaN", ("train", "--eta", "nan")),
    ("--eta negative", ("train", "--eta", "-1")),
    ("--eta inf", ("train", "--eta", "inf")),
    ("--lmbda negative", ("train", "--lmbda", "-0.1")),
    ("--sizes 0,3", ("train", "--sizes", "0,3")),
    ("--sizes letters", ("train", "--sizes", "a,b")),
    ("--sizes that do not fit the data", ("train", "--sizes", "5,30,10")),
    ("--dtype float16", ("train", "--dtype", "float16")),
    ("--activation unknown", ("train", "--activation", "swish")),
    ("--cost unknown", ("train", "--cost", "hinge")),
    ("--init unknown", ("train", "--init", "xavier")),
    ("--seed not a number", ("train", "--seed", "abc")),
    ("--seed negative", ("train", "--seed", "-1")),
    ("--cost cross_entropy with softmax output", ("train", "--cost", "cross_entropy",
                                                  "--output-activation", "softmax")),
    ("--dataset missing path", ("train", "--dataset", "{tmp}/none")),
    ("--dataset a text file", ("train", "--dataset", "{tmp}/model.json")),
    ("--out an existing file", ("train", "--epochs", "1", "--no-progress", "--out",
                                "{tmp}/model.json")),
    ("evaluate without MODEL", ("evaluate",)),
    ("evaluate missing MODEL", ("evaluate", "{tmp}/none.json")),
    ("evaluate truncated MODEL", ("evaluate", "{tmp}/trunc.json")),
    ("evaluate MODEL nested too deep", ("evaluate", "{tmp}/deep.json")),
    ("evaluate MODEL of another data set", ("evaluate", "{tmp}/model.json")),
    ("info with an argument", ("info", "--verbose")),
]:
    def build(ctx, argv=argv):
        ctx.model_file()
        ctx.text_file('{"sizes": [4, ', "trunc.json")
        ctx.text_file("[" * 50000 + "]" * 50000, "deep.json")
        return _cli(*argv)(ctx)
    add("fastbp (command line)", label, build, "exit 2")

# ---- fastbp.sklearn (if present: scikit-learn's own checks cover most) ------------------------

try:
    from fastbp import sklearn as fastbp_sklearn
except Exception:  # not written yet, or scikit-learn missing
    fastbp_sklearn = None

if fastbp_sklearn is not None:
    def _estimator(cls_name, params, fit_args):
        def build(ctx):
            est = getattr(fastbp_sklearn, cls_name)(**params)
            args = tuple(_resolve(ctx, a) for a in fit_args)
            return est.fit, args, {}
        return build

    LABELS = D(lambda c: c.y)
    for cls_name, label, params, fit_args, exc, match in [
        ("MLPClassifier", "hidden_layer_sizes (0,)", dict(hidden_layer_sizes=(0,)), (X, LABELS),
         ValueError, "hidden_layer_sizes"),
        ("MLPClassifier", "hidden_layer_sizes a str", dict(hidden_layer_sizes="10"),
         (X, LABELS), (TypeError, ValueError), "hidden_layer_sizes"),
        ("MLPClassifier", "learning_rate_init negative", dict(learning_rate_init=-1.0),
         (X, LABELS), ValueError, "learning_rate_init"),
        ("MLPClassifier", "max_iter 0", dict(max_iter=0), (X, LABELS), ValueError, "max_iter"),
        ("MLPClassifier", "batch_size 0", dict(batch_size=0), (X, LABELS), ValueError,
         "batch_size"),
        ("MLPClassifier", "X with NaN", {}, (nan_at(X), LABELS), ValueError, "NaN|nan"),
        ("MLPClassifier", "y rows mismatch", {}, (X, D(lambda c: c.y[:5])), ValueError,
         "samples|rows|length"),
        ("MLPRegressor", "y with inf", {}, (X, D(lambda c: np.full(13, INF))), ValueError,
         "inf|infinity|NaN"),
        ("MLPRegressor", "X 3-D", {}, (np.zeros((13, 4, 1)), D(lambda c: np.zeros(13))),
         ValueError, "dim|2D|shape"),
    ]:
        add(f"sklearn.{cls_name}.fit", label, _estimator(cls_name, params, fit_args), exc,
            match)

# ---- the validation helpers themselves ------------------------------------------------------

for label, fn, args, exc, match in [
    ("check_seed -1", check_seed, (-1,), ValueError, "seed"),
    ("check_seed 1.5", check_seed, (1.5,), TypeError, "seed"),
    ("check_seed 'abc'", check_seed, ("abc",), TypeError, "seed"),
    ("check_seed True", check_seed, (True,), TypeError, "seed"),
    ("check_choice a list", check_choice, (["l2"], "regularization", ("l1", "l2")), TypeError,
     "regularization"),
    ("check_choice unknown", check_choice, ("l3", "regularization", ("l1", "l2")), ValueError,
     "regularization"),
    ("check_path an int", check_path, (3, "checkpoint"), TypeError, "checkpoint"),
    ("check_path None", check_path, (None, "checkpoint"), TypeError, "checkpoint"),
    ("check_path empty", check_path, ("", "checkpoint"), ValueError, "checkpoint"),
]:
    add("fastbp.validation", label, lambda c, fn=fn, args=args: (fn, args, {}), exc, match)


# --------------------------------------------------------------------------- running a case


def snapshot(value):
    """A deep copy of the containers and arrays in ``value`` (other objects by identity)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.copy(), value.dtype, value.shape, value.flags.writeable)
    if isinstance(value, fastbp.Network):
        return ("network", value.get_parameters())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [snapshot(v) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: snapshot(v) for k, v in value.items()})
    return ("object", value)


def same(before, value):
    """True if ``value`` still matches the snapshot ``before``."""
    kind = before[0]
    if kind == "ndarray":
        if not isinstance(value, np.ndarray) or value.dtype != before[2] \
                or value.shape != before[3] or value.flags.writeable != before[4]:
            return False
        if value.dtype.kind in "fc":
            return bool(np.array_equal(value, before[1], equal_nan=True))
        return bool(np.array_equal(value, before[1]))
    if kind == "network":
        return np.array_equal(value.get_parameters(), before[1], equal_nan=True)
    if kind in ("list", "tuple"):
        return (type(value).__name__ == kind and len(value) == len(before[1])
                and all(same(b, v) for b, v in zip(before[1], value)))
    if kind == "dict":
        return (isinstance(value, dict) and value.keys() == before[1].keys()
                and all(same(before[1][k], value[k]) for k in value))
    return value is before[1]


class Outcome(NamedTuple):
    kind: str              # exception class name, "ok", "exit 2" or "exit N"
    message: str
    result: Any
    exception: Optional[BaseException]


def run_case(case, folder):
    """Build and call one case in ``folder``; return (Outcome, list of problems found)."""
    ctx = Ctx(folder)
    fn, args, kwargs = case.build(ctx)
    before = snapshot((args, kwargs))
    nets_before = [(n, n.get_parameters()) for n in ctx.networks()]
    problems = []
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # what came out is judged below
        outcome = Outcome(type(exc).__name__, str(exc), None, exc)
    else:
        outcome = Outcome("ok", "", result, None)
        if case.expect == "exit 2":
            code, err = result
            outcome = Outcome(f"exit {code}", err, result, None)
    if not same(before, (args, kwargs)):
        problems.append("the arguments were modified")
    if outcome.exception is not None:
        for net, theta in nets_before:
            if not np.array_equal(net.get_parameters(), theta, equal_nan=True):
                problems.append("the network's parameters changed although the call raised")
    problems += judge(case, outcome, ctx)
    return outcome, problems


def judge(case, outcome, ctx):
    """Problems with ``outcome`` for ``case`` (empty when it is the documented one)."""
    expect = case.expect
    if expect == "exit 2":
        if outcome.kind != "exit 2":
            return [f"expected exit status 2, got {outcome.kind}: {outcome.message[:300]}"]
        lines = [ln for ln in outcome.message.splitlines() if ln.strip()]
        problems = []
        if len(lines) != 1:
            problems.append(f"expected one line on stderr, got {len(lines)}: {lines[:3]}")
        if "Traceback" in outcome.message:
            problems.append("a traceback on stderr")
        return problems
    if expect == "ok":
        if outcome.exception is not None:
            return [f"expected a result, got {outcome.kind}: {outcome.message[:300]}"]
        if case.check is not None:
            case.check(outcome.result, ctx)
        return []
    exc = outcome.exception
    if exc is None:
        return [f"expected {_names(expect)}, got a result {type(outcome.result).__name__}"]
    if not isinstance(exc, expect) or type(exc).__module__.startswith("numba"):
        return [f"expected {_names(expect)}, got {type(exc).__module__}.{outcome.kind}: "
                f"{outcome.message[:300]}"]
    pattern = case.match
    if pattern and re.fullmatch(r"\w+", pattern):  # a bare name: as a whole word
        pattern = rf"\b{pattern}\b"
    if pattern and not re.search(pattern, outcome.message):
        return [f"the message does not name {case.match!r}: {outcome.message[:300]!r}"]
    if not outcome.message.strip():
        return ["an empty message"]
    return []


def _names(expect):
    if isinstance(expect, tuple):
        return " or ".join(e.__name__ for e in expect)
    return expect.__name__


def _case_id(case):
    return f"{case.entry}: {case.label}"


def _params():
    return [pytest.param(case, id=_case_id(case)) for case in CASES]


# --------------------------------------------------------------------------- the tests


def test_case_ids_are_unique():
    ids = [_case_id(c) for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", _params())
def test_bad_input(case, tmp_path):
    outcome, problems = run_case(case, tmp_path)
    assert not problems, "; ".join(problems)


@pytest.mark.slow
def test_valid_calls_leave_every_input_unchanged(tmp_path):
    """The arrays a user passes are read, never written: checked for every entry point."""
    rng = np.random.default_rng(5)
    Xf = np.asfortranarray(rng.uniform(-1, 1, size=(11, 4)))     # converted internally
    X32 = rng.uniform(-1, 1, size=(11, 4)).astype(np.float32)    # converted to float64
    X8 = rng.integers(0, 256, size=(11, 4), dtype=np.uint8)      # used as it is
    Xro = rng.uniform(-1, 1, size=(11, 4))
    Xro.flags.writeable = False
    labels = rng.integers(0, 3, size=11)
    Y = np.eye(3)[labels]
    for Xv in (Xf, X32, X8, Xro, Xro[::-1], Xro[:, ::-1]):
        net = fastbp.Network([4, 5, 3], seed=1, input_scale=1 / 255 if Xv is X8 else 1.0)
        before = snapshot((Xv, Y, labels))
        net.feedforward(Xv)
        net.predict(Xv)
        net.accuracy(Xv, labels)
        net.accuracy(Xv, Y)
        net.cost(Xv, Y, lmbda=0.1)
        net.gradients(Xv, labels)
        net.trace(Xv, Y)
        fastbp.gradcheck(net, Xv[:3], Y[:3], max_parameters=4)
        net.fit(Xv, Y, epochs=2, batch_size=4, eta=0.1, evaluation_data=(Xv, labels), seed=0)
        net.fit(Xv, labels, epochs=1, batch_size=4, eta=0.1, momentum=0.5, seed=0,
                checkpoint=tmp_path / "c.npz")
        assert same(before, (Xv, Y, labels)), Xv.flags
    # parameters assigned by the user are copied in, not kept or changed
    net = fastbp.Network([4, 5, 3], seed=2)
    W = [rng.standard_normal((5, 4)), rng.standard_normal((3, 5))]
    b = [rng.standard_normal(5), rng.standard_normal((3, 1))]
    before = snapshot((W, b))
    net.weights = W
    net.biases = b
    net.fit(Xro, Y, epochs=1, batch_size=4, eta=0.5, seed=0)
    assert same(before, (W, b))
    assert not np.array_equal(net.weights[0], W[0])  # training moved the copy, not W
    # save reads the parameters without touching them
    theta = net.get_parameters()
    net.save(tmp_path / "m.json")
    np.testing.assert_array_equal(net.get_parameters(), theta)


def test_save_is_not_fooled_by_a_reshaped_or_retyped_view(tmp_path):
    """save reads the flat parameter buffer, so in-place edits of the view objects are harmless."""
    net = fastbp.Network([4, 5, 3], seed=3)
    theta = net.get_parameters()
    view = net.weights[0]
    view.shape = (20,)            # legal NumPy on a contiguous view
    other = net.weights[1]
    other.dtype = np.int32        # reinterprets the same bytes
    net.save(tmp_path / "m.json")
    loaded = fastbp.load(tmp_path / "m.json")
    np.testing.assert_array_equal(loaded.get_parameters(), theta)


def test_the_sweep_covers_every_entry_point():
    entries = {c.entry.split(".")[0].split("(")[0] for c in CASES}
    for name in ("Network", "fastbp", "network", "network2", "datasets", "mnist_loader"):
        assert name in entries, name
    assert sum(c.entry == "fastbp (command line)" for c in CASES) >= 20
    assert len(CASES) >= 300


# --------------------------------------------------------------------------- the table


def bucket(outcome, status):
    """The table column of one case: how its bad input was handled."""
    if status != "as documented":
        return "UNEXPECTED"
    exc = outcome.exception
    if exc is None:
        return "exit 2" if outcome.kind == "exit 2" else "accepted"
    for cls in (TypeError, ValueError, OSError):
        if isinstance(exc, cls):
            return cls.__name__
    return type(exc).__name__


COLUMNS = ["TypeError", "ValueError", "OSError", "IndexError", "exit 2", "accepted",
           "UNEXPECTED"]


def table(verbose=False):
    """Run every case (outside pytest); print the cases by entry point and how each was handled.

    Columns: the exception raised (OSError includes FileNotFoundError and its
    kin), "exit 2" for the command line, "accepted" for legitimate inputs with
    a documented result, "UNEXPECTED" for anything else (a bug in the sweep
    or a regression).
    """
    import warnings
    warnings.simplefilter("ignore")
    rows = {}
    notes = []
    with tempfile.TemporaryDirectory() as top:
        for i, case in enumerate(CASES):
            folder = Path(top) / str(i)
            folder.mkdir()
            try:
                outcome, problems = run_case(case, folder)
            except AssertionError as exc:  # a "check" of an accepted input failed
                outcome, problems = Outcome("ok", "", None, None), [f"check failed: {exc}"]
            status = "as documented" if not problems else "UNEXPECTED"
            column = bucket(outcome, status)
            if status != "as documented":
                notes.append((case, outcome, problems, status))
            row = rows.setdefault(case.entry, dict.fromkeys(COLUMNS, 0))
            row[column if column in COLUMNS else "UNEXPECTED"] += 1
            if verbose:
                print(f"{column:<11} {case.entry:<28} {case.label:<46} {outcome.kind}")
    width = max(len(e) for e in rows) + 2
    print("entry point".ljust(width) + "cases  " + "  ".join(COLUMNS))
    total = dict.fromkeys(COLUMNS, 0)
    for entry, row in rows.items():
        for k in COLUMNS:
            total[k] += row[k]
        print(entry.ljust(width) + str(sum(row.values())).ljust(7)
              + "  ".join(str(row[k]).ljust(len(k)) for k in COLUMNS))
    print("TOTAL".ljust(width) + str(sum(total.values())).ljust(7)
          + "  ".join(str(total[k]).ljust(len(k)) for k in COLUMNS))
    print(f"\n{sum(total.values())} bad inputs tried at {len(rows)} entry points: "
          f"{total['TypeError']} TypeError, {total['ValueError']} ValueError, "
          f"{total['OSError']} OSError, {total['IndexError']} IndexError, {total['exit 2']} "
          f"command-line exit 2, {total['accepted']} accepted with a documented result; "
          f"{total['UNEXPECTED']} unexpected.")
    for case, outcome, problems, status in notes:
        print(f"\n[{status}] {case.entry}: {case.label}\n    got {outcome.kind}: "
              f"{outcome.message[:160]!r}")
    return total


if __name__ == "__main__":
    table(verbose="--cases" in sys.argv)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_a_bad_value_anywhere_in_its_blocks(dtype, bad):
    from fastbp.validation import FINITE_BLOCK, all_finite
    n = 2 * FINITE_BLOCK + 7  # two whole blocks and a short one
    for position in (0, FINITE_BLOCK - 1, FINITE_BLOCK, 2 * FINITE_BLOCK, n - 1):
        a = np.ones(n, dtype)
        assert all_finite(a)
        a[position] = bad
        assert not all_finite(a), position
        assert not all_finite(a.reshape(-1, 1)), position
    b = np.ones((FINITE_BLOCK + 3, 2), dtype).T  # not contiguous
    assert all_finite(b)
    b[1, -1] = bad
    assert not all_finite(b)


def test_all_finite_of_integers_and_empty_arrays():
    from fastbp.validation import all_finite
    assert all_finite(np.array([1, 2, 3]))
    assert all_finite(np.zeros((0, 4)))
    assert all_finite(np.array([True]))
    assert not all_finite(np.array([1 + 1j, complex(np.inf, 0)]))
