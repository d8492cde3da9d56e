"""
Stand-ins for what an old PyTorch (Debian's 1.13, the CPU test machines' python3-torch) lacks
and templates/gpt/train.py uses: SDPA, torch.compile, torch.nn.attention, AdamW(fused=...), and
CUDA device queries. Used by torch_smoke.py and, through shims/sitecustomize.py, by the evaluate
step's processes in test_evaluate (torch.py is never touched on a machine with a real PyTorch).
"""

import contextlib
import math
import sys
import types


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
