"""
CPU tests of the gpt template's evaluate step (`python3 prepare.py evaluate`), with PyTorch:
a tiny model saved like train.py saves it is scored in a fresh process, and hostile versions of
train.py (module-level code that prints a fake metric, replaces prepare.evaluate_bpb or
F.cross_entropy, registers an atexit print, exits early; a model that looks ahead, keeps state,
or edits its input) cannot change the score: the evaluate step's last `---` block is the true
value, or the step fails.

Needs torch, numpy and regex (Debian: python3-torch python3-numpy python3-regex). Works with
Debian's PyTorch 1.13 through torch_shims (put into every process by shims/sitecustomize.py).

Run: python3 test/gpt/torch_evaluate.py   (unittest)
"""

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.abspath(os.path.join(HERE, "..", "..", "templates", "gpt"))
SHIMS = os.path.join(HERE, "shims")
EVAL_ROWS = 2

# train.py's knobs for a model that runs on a CPU in a second
TINY = {"DEPTH": "2", "ASPECT_RATIO": "64", "HEAD_DIM": "64", "TOTAL_BATCH_SIZE": "2 * 2048",
        "DEVICE_BATCH_SIZE": "1", "EVAL_BATCH_SIZE": "2", "COMPILE": "False", "ATTENTION": '"cudnn"'}


def tiny_train_source(extra_top="", extra_bottom=""):
    with open(os.path.join(TEMPLATE, "train.py")) as f:
        src = f.read()
    for name, value in TINY.items():
        src, n = re.subn(rf"^{name} = .*$", f"{name} = {value}", src, flags=re.M)
        assert n == 1, name
    src = src.replace('"cuda"', '"cpu"')
    marker = "# ---------------------------------------------------------------------------\n# Knobs"
    assert marker in src
    return src.replace(marker, extra_top + "\n" + marker, 1) + extra_bottom


def corpus(folder):
    rng = random.Random(0)
    words = ("the quick brown fox jumps over a lazy dog while seven wizards quietly hum numbers like 12 "
             "and 345 in caf\u00e9s").split()
    os.makedirs(folder, exist_ok=True)
    for name, n in (("train.txt", 400), ("val.txt", 60)):
        docs = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 600))) for _ in range(n)]
        with open(os.path.join(folder, name), "w") as f:
            f.write("<|endoftext|>".join(docs))


class Workspace:
    """A workspace laid out like init --template gpt: prepare.py, a (tiny) train.py, data/."""

    def __init__(self, root):
        self.root = root
        shutil.copy(os.path.join(TEMPLATE, "prepare.py"), root)
        corpus(os.path.join(root, "corpus"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AUTORESEARCH_")}
        self.env.update(AUTORESEARCH_DATA="corpus", AUTORESEARCH_VAL_DATA="corpus/val.txt",
                        AUTORESEARCH_WORKSPACE=root, AUTORESEARCH_EVAL_TOKENS=str(EVAL_ROWS * 2048),
                        AUTORESEARCH_OUTPUT=os.path.join(root, "out"), PYTHONDONTWRITEBYTECODE="1",
                        PYTHONPATH=SHIMS)

    def write_train(self, source):
        with open(os.path.join(self.root, "train.py"), "w") as f:
            f.write(source)

    def python(self, code, timeout=300):
        return subprocess.run([sys.executable, "-c", code], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def evaluate(self, timeout=300):
        r = subprocess.run([sys.executable, "prepare.py", "evaluate"], cwd=self.root, env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr


# Saves a randomly initialised tiny model the way train.py does, then scores it in this process
# with the same evaluate_bpb (on the CPU, no autocast, like the evaluate step on a CPU).
SAVE_AND_SCORE = """
import json, torch, prepare, train
torch.manual_seed(0)
cfg = dict(vocab_size=prepare.VOCAB_SIZE, seq_len=prepare.MAX_SEQ_LEN, n_layer=2, n_embd=128, n_head=2, head_dim=64,
           mlp_hidden=512, windows=[prepare.MAX_SEQ_LEN] * 2, rope_base=10000.0, softcap=15.0, attention="cudnn", compile=False)
model = train.build_model(cfg, "cpu")
model.init_weights()
with torch.no_grad():
    for p in model.parameters():
        p.add_(0.02 * torch.randn_like(p))       # not the identity blocks of a fresh init
    model.lm_head.weight.normal_(std=0.3)        # confident predictions: a cheat's numbers differ from them
train.save_checkpoint(model, train.checkpoint_dir())
with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
    print(json.dumps({"bpb": prepare.evaluate_bpb(model, 2, device="cpu")}))
"""


def last_block(text):
    """The keys of the last `---` block, as the harness reads them."""
    parts = re.split(r"^---$", text, flags=re.M)
    if len(parts) < 2:
        return {}
    out = {}
    for line in parts[-1].strip().splitlines():
        m = re.match(r"^(\w+):\s+(\S+)$", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


class EvaluateStepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gpt-eval-")
        cls.ws = Workspace(cls.dir)
        cls.ws.write_train(tiny_train_source())
        r = cls.ws.python(SAVE_AND_SCORE)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.true_bpb = json.loads(r.stdout.strip().splitlines()[-1])["bpb"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.ws.write_train(tiny_train_source())

    def assert_true_value_or_failure(self, code, out, must_fail=False):
        block = last_block(out)
        if code == 0 and not must_fail:
            self.assertIn("val_bpb", block, out[-3000:])
            self.assertAlmostEqual(float(block["val_bpb"]), self.true_bpb, places=4, msg=out[-3000:])
        else:
            self.assertNotEqual(code, 0, out[-3000:])
            self.assertRegex(out, r"FAIL: ")
            self.assertEqual(block.get("val_bpb"), "nan", out[-3000:])

    def test_scores_the_saved_model_like_evaluate_bpb_in_process(self):
        self.assertTrue(1 < self.true_bpb < 30, self.true_bpb)
        code, out = self.ws.evaluate()
        self.assertEqual(code, 0, out[-3000:])
        block = last_block(out)
        self.assertAlmostEqual(float(block["val_bpb"]), self.true_bpb, places=5)
        self.assertEqual(block["eval_tokens"], str(EVAL_ROWS * 2048))
        self.assertEqual(block["eval_seq_len"], "2048")
        self.assertNotIn("heldout_split", block)

    def test_the_heldout_split_only_when_the_harness_asks(self):
        # AUTORESEARCH_SPLIT=heldout (the harness's held-out checks): other documents, the same model
        env = dict(self.ws.env, AUTORESEARCH_SPLIT="heldout")
        r = subprocess.run([sys.executable, "prepare.py", "evaluate"], cwd=self.ws.root, env=env,
                           capture_output=True, text=True, timeout=300)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out[-3000:])
        block = last_block(out)
        self.assertEqual(block.get("heldout_split"), "1", out[-3000:])
        self.assertEqual(block["eval_tokens"], str(EVAL_ROWS * 2048))
        held = float(block["val_bpb"])
        self.assertTrue(1 < held < 30 and abs(held - self.true_bpb) > 1e-6, (held, self.true_bpb))
        vfolder = [os.path.join(dp) for dp, _, files in os.walk(self.ws.root) if "heldout.bin" in files]
        self.assertEqual(len(vfolder), 1)
        self.assertIn(os.sep + "validation" + os.sep, vfolder[0] + os.sep)   # hidden from training with val.bin
        env["AUTORESEARCH_SPLIT"] = "train"
        r = subprocess.run([sys.executable, "prepare.py", "evaluate"], cwd=self.ws.root, env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("AUTORESEARCH_SPLIT must be", r.stdout + r.stderr)

    def test_importing_train_does_not_train(self):
        r = self.ws.python("import time; t = time.time(); import train; print('imported', round(time.time() - t))")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("step 0", r.stdout)

    def test_module_level_fake_metric_and_atexit_print(self):
        hostile = ("import atexit, sys\n"
                   "print('---'); print('val_bpb:          0.010000', flush=True)\n"
                   "atexit.register(lambda: print('---\\nval_bpb:          0.020000', flush=True))\n")
        self.ws.write_train(tiny_train_source(extra_top=hostile))
        code, out = self.ws.evaluate()
        self.assertIn("0.010000", out)            # its print was forwarded, before the real block
        self.assert_true_value_or_failure(code, out)
        self.assertEqual(code, 0, out[-3000:])

    def test_monkeypatching_prepare_or_the_loss(self):
        cases = {
            "prepare.evaluate_bpb": "import prepare\nprepare.evaluate_bpb = lambda *a, **k: 0.01\n",
            "__main__.evaluate_bpb": "import sys\nsys.modules['__main__'].evaluate_bpb = lambda *a, **k: 0.01\n",
            "F.cross_entropy": ("import torch, torch.nn.functional as _F\n_ce = _F.cross_entropy\n"
                                "_F.cross_entropy = lambda *a, **k: 0.0 * _ce(*a, **k)\n"),
            "Tensor.sum": "import torch\n_s = torch.Tensor.sum\ntorch.Tensor.sum = lambda self, *a, **k: 0 * _s(self, *a, **k)\n",
            "code swap": ("import sys\n_m = sys.modules['__main__']\n"
                          "_m._row_nats.__code__ = (lambda logits, targets, weights: 0 * logits[:, 0, 0].double()).__code__\n"),
            "MAX_SEQ_LEN": "import sys\nsys.modules['__main__'].MAX_SEQ_LEN = 16\n",
            "builtins.len": "import builtins\n_len = builtins.len\nbuiltins.len = lambda x: _len(x)\n",
            "trace": "import sys\nsys.settrace(lambda *a: None)\n",
        }
        for name, hostile in cases.items():
            with self.subTest(name):
                self.ws.write_train(tiny_train_source(extra_top=hostile))
                code, out = self.ws.evaluate()
                self.assert_true_value_or_failure(code, out, must_fail=name != "prepare.evaluate_bpb")

    def test_early_exit_or_exception_at_import_fails(self):
        for hostile in ["import os\nprint('---\\nval_bpb: 0.01', flush=True)\nos._exit(0)\n",
                        "import sys\nprint('---\\nval_bpb: 0.01', flush=True)\nsys.exit(0)\n",
                        "raise ImportError('broken')\n"]:
            with self.subTest(hostile.splitlines()[-1]):
                self.ws.write_train(tiny_train_source(extra_top=hostile))
                code, out = self.ws.evaluate()
                self.assert_true_value_or_failure(code, out, must_fail=True)

    def test_a_forged_result_without_the_secret_fails(self):
        hostile = ("import os, json\n"
                   "for fd in range(3, 64):\n"
                   "    try: os.write(fd, (json.dumps({'nonce': 'guess', 'val_bpb': 0.01}) + '\\n').encode())\n"
                   "    except OSError: pass\n")
        self.ws.write_train(tiny_train_source(extra_top=hostile))
        code, out = self.ws.evaluate()
        self.assert_true_value_or_failure(code, out, must_fail=True)

    def test_models_that_cheat_at_evaluation_are_refused(self):
        cases = {
            # looks one token ahead
            "lookahead": ("    logits = _forward(self, idx, targets)\n"
                          "    if targets is None:\n"
                          "        onehot = torch.nn.functional.one_hot(idx[:, 1:], logits.size(-1)).float() * 30\n"
                          "        logits = torch.cat([onehot, logits[:, -1:]], dim=1)\n"
                          "    return logits\n"),
            # looks ahead after the first two calls (the fixed causality check)
            "lookahead later": ("    logits = _forward(self, idx, targets)\n"
                                "    GPT.calls = getattr(GPT, 'calls', 0) + 1\n"
                                "    if targets is None and GPT.calls > 2:\n"
                                "        onehot = torch.nn.functional.one_hot(idx[:, 1:], logits.size(-1)).float() * 30\n"
                                "        logits = torch.cat([onehot, logits[:, -1:]], dim=1)\n"
                                "    return logits\n"),
            # edits its input in place, hoping the targets share its memory
            "input edit": ("    logits = _forward(self, idx, targets)\n"
                           "    if targets is None:\n"
                           "        idx.zero_()\n"
                           "        logits = torch.zeros_like(logits); logits[..., 0] = 30\n"
                           "    return logits\n"),
            # good numbers after the first calls (the checks come first, or so it hopes)
            "stateful": ("    logits = _forward(self, idx, targets)\n"
                         "    GPT.calls = getattr(GPT, 'calls', 0) + 1\n"
                         "    if targets is None and GPT.calls > 3:\n"
                         "        logits = logits * 0\n"
                         "    return logits\n"),
        }
        for name, body in cases.items():
            with self.subTest(name):
                wrap = "\n_forward = GPT.forward\ndef _cheat(self, idx, targets=None):\n" + body + "GPT.forward = _cheat\n"
                self.ws.write_train(tiny_train_source(extra_bottom=wrap))
                code, out = self.ws.evaluate()
                if name == "input edit":     # harmless now: the score is the true one
                    self.assertEqual(code, 0, out[-3000:])
                    self.assertGreater(float(last_block(out)["val_bpb"]), self.true_bpb * 0.5)
                else:
                    self.assert_true_value_or_failure(code, out, must_fail=True)

    def test_no_checkpoint_fails(self):
        env = dict(self.ws.env, AUTORESEARCH_OUTPUT=os.path.join(self.dir, "nothing"))
        r = subprocess.run([sys.executable, "prepare.py", "evaluate"], cwd=self.dir, env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAIL: no checkpoint", r.stdout)


class CausalCheckTest(unittest.TestCase):
    """_check_causal itself, in process: the altered tail must differ at its first position in
    every row, or a one-token look-ahead hides where two rows share that token."""

    def test_a_one_token_lookahead_is_caught_even_when_the_rows_share_the_token(self):
        sys.path.insert(0, SHIMS)
        sys.path.insert(0, TEMPLATE)
        try:
            import torch
            import prepare
        finally:
            sys.path.remove(TEMPLATE)
            sys.path.remove(SHIMS)
        T = prepare.MAX_SEQ_LEN
        row = [prepare.BOS_ID] + [7] * T          # two identical rows: every tail token is shared
        rows = __import__("numpy").array([row, row], dtype="int64")

        def lookahead(x):                            # predicts token t+1 by reading it
            onehot = torch.nn.functional.one_hot(x[:, 1:], prepare.VOCAB_SIZE).float() * 30
            return torch.cat([onehot, torch.zeros(x.size(0), 1, prepare.VOCAB_SIZE)], dim=1)

        def honest(x):
            return torch.zeros(x.size(0), x.size(1), prepare.VOCAB_SIZE)

        for p in (1, T // 2, T - 1):
            with self.assertRaisesRegex(RuntimeError, "not causal"):
                prepare._check_causal(lookahead, rows, "cpu", p=p)
            prepare._check_causal(honest, rows, "cpu", p=p)


if __name__ == "__main__":
    unittest.main()
