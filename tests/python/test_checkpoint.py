"""tests/python/test_checkpoint.py — python/flowzoo_checkpoint.py against real flowzoo runs
(NumPy only): the configuration and tensors of a run, the optimiser and EMA states named after
their parameters, `eval --log-probs` files agreeing with eval's own numbers, and a clear
ValueError naming the file for every kind of damaged file.

Usage: python3 tests/python/test_checkpoint.py BUILD_DIR/flowzoo
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)

import flowzoo_checkpoint as fzc  # noqa: E402
from check import Checks  # noqa: E402


def expect_value_error(fn, *fragments):
    try:
        fn()
    except ValueError as e:
        for f in fragments:
            assert f in str(e), "the error %r does not mention %r" % (str(e), f)
        assert "\n" not in str(e), "the error is not one line: %r" % str(e)
        return
    raise AssertionError("no ValueError")


def main():
    flowzoo = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="fz-python-")
    checks = Checks()
    common = ["--steps", "4", "--seed", "3", "--threads", "1", "--quiet", "--eval-every", "0", "--sample-every", "0"]
    glow = os.path.join(tmp, "glow")
    subprocess.run([flowzoo, "train", "--model", "glow", "--levels", "2", "--steps-per-level", "1", "--hidden", "8",
                    "--polyak", "0.9", "--final-eval-limit", "8", "--out", glow] + common,
                   check=True, stdout=subprocess.DEVNULL)
    toy = os.path.join(tmp, "toy")
    subprocess.run([flowzoo, "train", "--model", "realnvp", "--dataset", "toy", "--couplings", "2", "--hidden", "8",
                    "--out", toy] + common, check=True, stdout=subprocess.DEVNULL)
    ckpt = os.path.join(glow, "checkpoint.safetensors")

    def run_folder_and_file():
        a, b = fzc.load(glow), fzc.load(ckpt)
        assert a.path == b.path == ckpt
        with open(os.path.join(glow, "config.json")) as f:
            assert a.config == json.load(f), "flowzoo.config differs from config.json"
        assert a.step == 4, a.step
        assert set(a.parameters) | set(a.buffers) == set(a.model) and not set(a.parameters) & set(a.buffers)
        assert all(v.dtype == np.float32 for v in a.model.values())
        assert a.model["scale0.1.1.L"].shape == (4, 4)
    checks.run("load: a run folder and its checkpoint file give the config.json and every tensor", run_folder_and_file)

    def buffers_apart():
        run = fzc.load(glow)
        leaves = {n.rsplit(".", 1)[-1] for n in run.buffers}
        assert leaves == {"initialised", "P", "sign_s"}, leaves
        assert all(n.rsplit(".", 1)[-1] not in leaves for n in run.parameters)
    checks.run("load: parameters and buffers told apart (ActNorm initialised, LU P and sign_s are buffers)", buffers_apart)

    def ema_named():
        run = fzc.load(glow)
        assert run.ema_updates == 4, run.ema_updates
        assert list(run.ema) == run.parameters
        for i, name in enumerate(run.parameters):
            shadow = run.tensors["ema.shadow.%d" % i]
            assert run.ema[name].shape == run.model[name].shape, name
            assert np.array_equal(run.ema[name], shadow), name
        # After 4 updates with decay 0.9 an average differs from its parameter (it moved).
        moved = [n for n in run.parameters if not np.array_equal(run.ema[n], run.model[n])]
        assert moved, "no average differs from its parameter"
        state = run.model_state(use_ema=True)
        assert all(state[n] is run.ema[n] for n in run.parameters)
        assert all(state[n] is run.model[n] for n in run.buffers)
    checks.run("load: EMA copies named after their parameters (shadow.i = i-th parameter), model_state(use_ema)", ema_named)

    def optimizer_named():
        run = fzc.load(glow)
        for i, name in enumerate(run.parameters):
            for slot in ("exp_avg", "exp_avg_sq", "step"):
                assert np.array_equal(run.optimizer[name + "." + slot], run.tensors["optim.state.%d.%s" % (i, slot)])
            assert run.optimizer[name + ".exp_avg"].shape == run.model[name].shape
        assert float(run.optimizer["step"]) == 4
    checks.run("load: optimiser state named after its parameters (<name>.exp_avg, ...)", optimizer_named)

    def no_ema():
        run = fzc.load(toy)
        assert run.ema == {} and run.ema_updates == 0
        assert run.config["dataset"] == "toy"
        assert run.model_state(use_ema=True).keys() == run.model.keys()
    checks.run("load: a run without --polyak has no averages", no_ema)

    def log_probs_match_eval_images():
        out = os.path.join(tmp, "glow_lp.safetensors")
        r = subprocess.run([flowzoo, "eval", "--checkpoint", ckpt, "--limit", "12", "--log-probs", out, "--json"],
                           check=True, capture_output=True, text=True)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        meta, t = fzc.read_safetensors(out)
        assert t["inputs"].shape == (12, 1, 28, 28) and t["log_prob"].shape == (12,)
        assert t["inputs"].min() >= 0 and t["inputs"].max() < 1
        d = int(meta["flowzoo.dims"])
        assert d == 784 and meta["flowzoo.bits"] == "8" and meta["flowzoo.step"] == "4"
        bpd = np.mean(-(t["log_prob"].astype(np.float64) - d * math.log(256)) / (d * math.log(2)))
        assert abs(bpd - result["bpd"]) < 1e-5, (bpd, result["bpd"])
    checks.run("eval --log-probs: images' bits/dim from the file equal eval's", log_probs_match_eval_images)

    def log_probs_match_eval_toy():
        out = os.path.join(tmp, "toy_lp.safetensors")
        r = subprocess.run([flowzoo, "eval", "--checkpoint", os.path.join(toy, "checkpoint.safetensors"), "--limit",
                            "50", "--log-probs", out, "--json"], check=True, capture_output=True, text=True)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        _, t = fzc.read_safetensors(out)
        assert t["inputs"].shape == (50, 2)
        nll = -np.mean(t["log_prob"].astype(np.float64))
        assert abs(nll - result["nll_nats"]) < 1e-5, (nll, result["nll_nats"])
    checks.run("eval --log-probs: 2-D NLL from the file equals eval's", log_probs_match_eval_toy)

    with open(ckpt, "rb") as f:
        good = f.read()
    (header_len,) = struct.unpack("<Q", good[:8])

    def damaged(name, data):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    cases = [
        ("truncated in the data", good[: len(good) - 100], ["outside", "truncated"]),
        ("truncated in the header", good[: 8 + header_len // 2], ["header length"]),
        ("shorter than 8 bytes", good[:5], ["shorter than the 8-byte header length"]),
        ("a flipped data byte", good[:-3] + bytes([good[-3] ^ 0x40]) + good[-2:], ["checksum mismatch"]),
        ("a damaged header", good[:8] + b"x" + good[9:], ["not valid JSON"]),
        ("a header that is a list", struct.pack("<Q", 2) + b"[]", ["not a JSON object"]),
        ("an absurd header length", struct.pack("<Q", 1 << 62) + good[8:], ["does not fit the file"]),
    ]
    for what, data, fragments in cases:
        path = damaged(what.replace(" ", "_") + ".safetensors", data)
        checks.run("damaged file: %s -> ValueError naming the file" % what,
                   lambda p=path, fr=fragments: expect_value_error(lambda: fzc.load(p), p, *fr))

    def wrong_shape_entry():
        header = json.loads(good[8:8 + header_len])
        first = next(k for k in header if k != "__metadata__")
        header[first]["shape"] = [3, 3, 3]
        text = json.dumps(header).encode()
        path = damaged("wrong_shape.safetensors", struct.pack("<Q", len(text)) + text + good[8 + header_len:])
        expect_value_error(lambda: fzc.load(path), path, first, "needs")
    checks.run("damaged file: a shape that does not fit its offsets -> ValueError naming the tensor", wrong_shape_entry)

    checks.run("missing file -> ValueError naming it",
               lambda: expect_value_error(lambda: fzc.load(os.path.join(tmp, "nothing")), "nothing", "cannot be read"))
    checks.run("a folder without a checkpoint -> ValueError naming checkpoint.safetensors",
               lambda: expect_value_error(lambda: fzc.load(tmp), "checkpoint.safetensors"))
    checks.run("a safetensors file that is not a checkpoint -> ValueError naming the missing metadata",
               lambda: expect_value_error(lambda: fzc.load(os.path.join(tmp, "glow_lp.safetensors")),
                                          "flowzoo.config"))
    shutil.rmtree(tmp, ignore_errors=True)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
