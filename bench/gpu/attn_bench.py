"""
Attention kernels available to templates/gpt/train.py on this GPU, at the model's shapes
(depth 8: 4 heads of 128, sequence 2048), forward + backward, bf16, inputs laid out as the
model makes them (transposed views of a (B, T, H, D) tensor).

Prints one line per kernel: median ms, and TFLOP/s both by the PaLM/MFU convention that
train.py's mfu_percent uses (12*H*D*T per token per layer, i.e. the full square) and by the
work a causal kernel really does (half of it; for a window w: T*w - w^2/2 of T^2).
Usage: python3 bench/gpu/attn_bench.py [batch]
"""

import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

B = int(sys.argv[1]) if len(sys.argv) > 1 else 32
H, T, D = 4, 2048, 128


def timed(fn, q, k, v, g, reps=20):
    for _ in range(3):
        fn(q, k, v).backward(g)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn(q, k, v).backward(g)
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    return sorted(times)[len(times) // 2]


def main():
    print(f"{torch.cuda.get_device_name()} | torch {torch.__version__} | cudnn {torch.backends.cudnn.version()} | B={B} H={H} T={T} D={D}")
    base = torch.randn(B, T, 3, H, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    q, k, v = (t.transpose(1, 2) for t in base.unbind(2))
    g = torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16)
    counted_full = 12 * H * D * T * B * T              # fwd+bwd, full square, PaLM convention
    rows = []
    ref = None
    for name, backend in [("sdpa-cudnn", SDPBackend.CUDNN_ATTENTION), ("sdpa-flash", SDPBackend.FLASH_ATTENTION),
                          ("sdpa-efficient", SDPBackend.EFFICIENT_ATTENTION)]:
        def fn(q, k, v, backend=backend):
            with sdpa_kernel(backend):
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        try:
            out = fn(q, k, v).float()
            ref = out if ref is None else ref
            err = ((out - ref).norm() / ref.norm()).item()
            ms = timed(fn, q, k, v, g)
            rows.append((name, ms, counted_full / ms / 1e9, counted_full / 2 / ms / 1e9, err))
        except Exception as e:  # noqa: BLE001
            print(f"{name}: unavailable ({str(e).splitlines()[0][:120]})")
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    flex = torch.compile(flex_attention, dynamic=False)
    for w in (T, T // 2):
        mask = create_block_mask(lambda b, h, qi, ki, w=w: (qi >= ki) & (qi - ki < w), None, None, T, T, device="cuda")
        fn = lambda q, k, v, mask=mask: flex(q, k, v, block_mask=mask)  # noqa: E731
        try:
            out = fn(q, k, v).float()
            err = ((out - ref).norm() / ref.norm()).item() if w == T and ref is not None else float("nan")
            ms = timed(fn, q, k, v, g)
            counted = 12 * H * D * w * B * T
            real = counted_full * (T * w - w * w / 2) / (T * T)
            rows.append((f"flex window {w}", ms, counted / ms / 1e9, real / ms / 1e9, err))
        except Exception as e:  # noqa: BLE001
            print(f"flex window {w}: failed ({str(e).splitlines()[0][:160]})")
    print(f"{'kernel':18s} {'ms':>8s} {'TFLOP/s(MFU conv.)':>19s} {'TFLOP/s(real)':>14s} {'rel.err':>8s}")
    for name, ms, conv, real, err in rows:
        print(f"{name:18s} {ms:8.2f} {conv:19.0f} {real:14.0f} {err:8.1e}")


if __name__ == "__main__":
    main()
