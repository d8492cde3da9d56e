"""The tiny template's model (templates/tiny/train.ts) in PyTorch on the CPU, for a side-by-side
throughput (and learning) comparison. Same shapes, init, optimizer, schedule and loss; the data
are the raw bytes prepare.ts would give train.ts, dumped by bench/tiny/throughput.ts.

    python3 bench/tiny/torch_ref.py --train train.bin --val val.bin --budget 20 --threads 2 \
        --depth 2 --width 64 --heads 4 ... (throughput.ts passes train.ts's constants)

Prints the same `---` summary block as train.ts.
"""

import argparse
import math
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F

VOCAB = 256

p = argparse.ArgumentParser()
p.add_argument("--train", required=True)
p.add_argument("--val", required=True)
p.add_argument("--budget", type=float, default=60.0)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--depth", type=int, default=2)
p.add_argument("--width", type=int, default=64)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--mlp-ratio", type=float, default=4)
p.add_argument("--seq-len", type=int, default=64)
p.add_argument("--batch-size", type=int, default=16)
p.add_argument("--matrix-lr", type=float, default=3e-3)
p.add_argument("--embed-lr", type=float, default=3e-3)
p.add_argument("--norm-lr", type=float, default=3e-3)
p.add_argument("--warmup-ratio", type=float, default=0.02)
p.add_argument("--warmdown-ratio", type=float, default=0.3)
p.add_argument("--weight-decay", type=float, default=0.0)
p.add_argument("--beta1", type=float, default=0.9)
p.add_argument("--beta2", type=float, default=0.99)
p.add_argument("--adam-eps", type=float, default=1e-8)
p.add_argument("--grad-clip", type=float, default=1.0)
p.add_argument("--seed", type=int, default=42)
args = p.parse_args()

t_start = time.perf_counter()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
train = torch.from_numpy(np.fromfile(args.train, dtype=np.uint8).astype(np.int64))
val = torch.from_numpy(np.fromfile(args.val, dtype=np.uint8).astype(np.int64))
D, H, L, T, B = args.width, args.heads, args.depth, args.seq_len, args.batch_size
M = int(args.mlp_ratio * D)


def param(shape, std):  # std None: a norm gain (ones); 0: zeros
    if std is None:
        return torch.nn.Parameter(torch.ones(shape))
    return torch.nn.Parameter(torch.randn(shape) * std)


wte, wpe = param((VOCAB, D), 1.0), param((T, D), 1.0)
blocks = [dict(norm1=param((D,), None), wqkv=param((D, 3 * D), 1 / math.sqrt(D)), wo=param((D, D), 0.0),
               norm2=param((D,), None), wfc=param((D, M), 1 / math.sqrt(D)), wproj=param((M, D), 0.0)) for _ in range(L)]
normf, head = param((D,), None), param((D, VOCAB), 0.0)
mask = torch.ones(T, T).tril().bool()


def rmsnorm(x, g):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g


def forward(idx):
    b, t = idx.shape
    x = wte[idx] + wpe[:t]
    for blk in blocks:
        q, k, v = (rmsnorm(x, blk["norm1"]) @ blk["wqkv"]).split(D, dim=-1)
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        att = att.masked_fill(~mask[:t, :t], float("-inf")).softmax(-1)
        x = x + (att @ v).transpose(1, 2).reshape(b, t, D) @ blk["wo"]
        x = x + F.relu(rmsnorm(x, blk["norm2"]) @ blk["wfc"]).square() @ blk["wproj"]
    return rmsnorm(x, normf) @ head


matrices = [blk[k] for blk in blocks for k in ("wqkv", "wo", "wfc", "wproj")]
norms = [blk[k] for blk in blocks for k in ("norm1", "norm2")] + [normf]
groups = [dict(params=matrices, lr=args.matrix_lr, weight_decay=args.weight_decay, base=args.matrix_lr),
          dict(params=[wte, wpe, head], lr=args.embed_lr, weight_decay=0.0, base=args.embed_lr),
          dict(params=norms, lr=args.norm_lr, weight_decay=0.0, base=args.norm_lr)]
all_params = matrices + norms + [wte, wpe, head]
opt = torch.optim.AdamW(groups, betas=(args.beta1, args.beta2), eps=args.adam_eps)
num_params = sum(q.numel() for q in all_params)


def lr_mult(progress):
    if progress < args.warmup_ratio:
        return (progress + 1e-3) / args.warmup_ratio
    if progress > 1 - args.warmdown_ratio:
        return max(0.0, (1 - progress) / args.warmdown_ratio)
    return 1.0


gen = torch.Generator().manual_seed(args.seed)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {num_params / 1e6:.3f}M params")
step, train_seconds = 0, 0.0
while train_seconds < args.budget:
    t0 = time.perf_counter()
    starts = torch.randint(0, len(train) - T - 1, (B,), generator=gen)
    rows = torch.stack([train[s:s + T + 1] for s in starts.tolist()])
    x, y = rows[:, :-1], rows[:, 1:]
    loss = F.cross_entropy(forward(x).view(-1, VOCAB), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(all_params, args.grad_clip)
    m = lr_mult(train_seconds / args.budget)
    for g in opt.param_groups:
        g["lr"] = g["base"] * m
    opt.step()
    lv = loss.item()
    if not math.isfinite(lv) or lv > 100:
        print(f"FAIL: training diverged (loss {lv}) at step {step}")
        raise SystemExit(1)
    step += 1
    train_seconds += time.perf_counter() - t0

# Validation bits per byte, windows cut exactly like prepare.ts's evaluateBpb.
with torch.no_grad():
    n_targets = len(val) - 1
    n_windows = -(-n_targets // T)
    nats, scored = 0.0, 0
    for w0 in range(0, n_windows, B):
        xs = torch.zeros(B, T, dtype=torch.long)
        for b in range(min(B, n_windows - w0)):
            s = (w0 + b) * T
            n = min(T, n_targets - s)
            xs[b, :n] = val[s:s + n]
        logp = forward(xs).double().log_softmax(-1)
        for b in range(min(B, n_windows - w0)):
            s = (w0 + b) * T
            n = min(T, n_targets - s)
            nats -= logp[b, torch.arange(n), val[s + 1:s + n + 1]].sum().item()
            scored += n
val_bpb = nats / math.log(2) / scored

print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"training_seconds: {train_seconds:.1f}")
print(f"total_seconds:    {time.perf_counter() - t_start:.1f}")
print(f"num_steps:        {step}")
print(f"num_params_M:     {num_params / 1e6:.2f}")
print(f"tokens_per_second: {round(step * B * T / train_seconds)}")
print(f"peak_memory_mb:   {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
