"""
CPU smoke run of templates/gpt/train.py with a tiny model, for a machine without a GPU.

Runs train.py's code (its knobs shrunk, "cuda" replaced by "cpu", torch.compile off) for a few
seconds on a small local corpus and checks that the summary block comes out. Works with
PyTorch >= 2.0; with an older PyTorch (Debian's 1.13) it first installs small stand-ins for
what it lacks (SDPA, torch.compile, torch.nn.attention). Not a benchmark: it catches shape,
dtype and bookkeeping mistakes before GPU time is spent.

Usage: python3 test/gpt/torch_smoke.py DATA_DIR   (exit 0 and "SMOKE OK" on success)
"""

import contextlib
import math
import os
import re
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "..", "templates", "gpt")


def install_shims(torch):
    F = torch.nn.functional
    if not hasattr(torch, "compile"):
        torch.compile = lambda model=None, **kw: model
    if not hasattr(F, "scaled_dot_product_attention"):
        def sdpa(q, k, v, is_causal=False, **kw):
            T = q.size(-2)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
            if is_causal:
                mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
                att = att.masked_fill(~mask, float("-inf"))
            return att.softmax(-1).to(v.dtype) @ v
        F.scaled_dot_product_attention = sdpa
    try:
        import torch.nn.attention  # noqa: F401
    except ImportError:
        mod = types.ModuleType("torch.nn.attention")

        class SDPBackend:
            FLASH_ATTENTION, EFFICIENT_ATTENTION, MATH, CUDNN_ATTENTION = range(4)

        @contextlib.contextmanager
        def sdpa_kernel(backends, set_priority=False):
            yield

        mod.SDPBackend, mod.sdpa_kernel = SDPBackend, sdpa_kernel
        sys.modules["torch.nn.attention"] = mod
        torch.nn.attention = mod
    import inspect
    if "fused" not in inspect.signature(torch.optim.AdamW.__init__).parameters:
        base = torch.optim.AdamW

        class AdamW(base):
            def __init__(self, *a, fused=None, **kw):
                super().__init__(*a, **kw)
        torch.optim.AdamW = AdamW
    torch.cuda.get_device_name = lambda *a: "cpu (smoke test)"
    torch.cuda.max_memory_allocated = lambda *a: 0


def main(data_dir):
    import torch
    install_shims(torch)
    os.environ["AUTORESEARCH_DATA"] = data_dir
    os.environ.setdefault("AUTORESEARCH_CACHE", tempfile.mkdtemp(prefix="gpt-smoke-"))
    os.environ["AUTORESEARCH_TIME_BUDGET"] = "4"
    sys.path.insert(0, TEMPLATE)
    import prepare
    prepare.EVAL_TOKENS = 4 * prepare.MAX_SEQ_LEN    # a short evaluation
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
    for key in ["val_bpb", "training_seconds", "total_seconds", "peak_vram_mb", "mfu_percent",
                "total_tokens_M", "num_steps", "num_params_M", "depth"]:
        assert key in keys, f"summary lacks {key}"
    bpb = float(keys["val_bpb"])
    assert 0 < bpb < 20, bpb
    print(f"SMOKE OK val_bpb={bpb:.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
