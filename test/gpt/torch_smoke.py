"""
CPU smoke run of templates/gpt/train.py with a tiny model, for a machine without a GPU.

Runs train.py's code (its knobs shrunk, "cuda" replaced by "cpu", torch.compile off) for a few
seconds on a small local corpus and checks that the summary block comes out, then scores the
checkpoint it saved with the evaluate step (`prepare.py evaluate`, a fresh process). Works with
PyTorch >= 2.0; with an older PyTorch (Debian's 1.13) it first installs small stand-ins for
what it lacks (SDPA, torch.compile, torch.nn.attention). Not a benchmark: it catches shape,
dtype and bookkeeping mistakes before GPU time is spent.

Usage: python3 test/gpt/torch_smoke.py DATA_DIR   (exit 0 and "SMOKE OK" on success)
"""

import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "..", "templates", "gpt")


def main(data_dir):
    import torch
    sys.path.insert(0, HERE)
    from torch_shims import install_shims
    install_shims(torch)
    os.environ["AUTORESEARCH_DATA"] = data_dir
    os.environ.setdefault("AUTORESEARCH_CACHE", tempfile.mkdtemp(prefix="gpt-smoke-"))
    os.environ["AUTORESEARCH_TIME_BUDGET"] = "4"
    os.environ["AUTORESEARCH_EVAL_TOKENS"] = str(4 * 2048)     # a short evaluation
    out_dir = os.environ["AUTORESEARCH_OUTPUT"] = tempfile.mkdtemp(prefix="gpt-smoke-out-")
    sys.path.insert(0, TEMPLATE)
    import prepare
    src = open(os.path.join(TEMPLATE, "train.py")).read()
    knobs = {"DEPTH": "2", "ASPECT_RATIO": "64", "HEAD_DIM": "64", "TOTAL_BATCH_SIZE": "4 * 2048",
             "DEVICE_BATCH_SIZE": "2", "EVAL_BATCH_SIZE": "2", "COMPILE": "False", "WINDOW_PATTERN": '"SL"',
             "ATTENTION": '"cudnn"'}
    for name, value in knobs.items():
        src, n = re.subn(rf"^{name} = .*$", f"{name} = {value}", src, flags=re.M)
        assert n == 1, name
    src = src.replace('"cuda"', '"cpu"')
    if not hasattr(torch.nn.attention, "flex_attention"):
        # no FlexAttention here: windowed layers fall back to full causal attention (shapes only)
        src = src.replace('windows[-1] = MAX_SEQ_LEN', 'windows = [MAX_SEQ_LEN] * DEPTH')
    import io
    out = io.StringIO()
    code = compile(src, "train.py", "exec")
    glob = {"__name__": "__main__"}
    real = sys.stdout

    class Tee:
        def write(self, s):
            real.write(s)
            out.write(s)

        def flush(self):
            real.flush()

    sys.stdout = Tee()
    try:
        exec(code, glob)
    finally:
        sys.stdout = real
    text = out.getvalue()
    block = text.split("\n---\n", 1)[1]
    keys = dict(line.split(":", 1) for line in block.strip().splitlines())
    assert "val_bpb" not in keys, "training must not print the metric"
    for key in ["training_seconds", "total_seconds", "peak_vram_mb", "mfu_percent",
                "total_tokens_M", "num_steps", "num_params_M", "depth"]:
        assert key in keys, f"summary lacks {key}"
    import subprocess
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "shims"), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "prepare.py", "evaluate", "--checkpoint", out_dir], cwd=TEMPLATE, env=env,
                       capture_output=True, text=True)
    print(r.stdout[-2000:], r.stderr[-2000:])
    assert r.returncode == 0, "the evaluate step failed"
    block = r.stdout.rsplit("\n---\n", 1)[1]
    bpb = float(dict(line.split(":", 1) for line in block.strip().splitlines())["val_bpb"])
    assert 0 < bpb < 20, bpb
    print(f"SMOKE OK val_bpb={bpb:.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
