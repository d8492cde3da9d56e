"""
train.py: the file the research agent edits. One GPU, one file, a fixed time budget.

Trains a small GPT on the data that prepare.py serves for TIME_BUDGET seconds of training
(compilation not counted), saves the model in $AUTORESEARCH_OUTPUT (model.json + model.pt) and
prints a summary block after a line `---`. The metric, val_bpb, is not computed here: the
harness then runs `prepare.py evaluate` in a fresh process, which imports this file (so nothing
may train at import time), rebuilds the model with build_model() and scores the saved weights.

Usage: uv run train.py   (or: python3 train.py; then python3 prepare.py evaluate)

Everything here is fair game: the architecture, the optimizer, the schedules, the batch size.
The knobs at the top are plain literals so that a search can tweak them one at a time.
"""

import gc
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from prepare import CHECKPOINT_FORMAT, MAX_SEQ_LEN, TIME_BUDGET, VOCAB_SIZE, make_dataloader

# ---------------------------------------------------------------------------
# Knobs
# ---------------------------------------------------------------------------

# Model shape
DEPTH = 8                    # transformer blocks; the width follows from ASPECT_RATIO
ASPECT_RATIO = 64            # model width = DEPTH * ASPECT_RATIO, rounded up to a multiple of HEAD_DIM
HEAD_DIM = 128               # channels per attention head
MLP_RATIO = 4                # MLP hidden width = MLP_RATIO * model width
WINDOW_PATTERN = "L"         # attention span per layer, cycled over the layers: "L" | "SL" | "SSSL" (S = half the context, L = all of it; the last layer is always L)
ROPE_BASE = 10000.0          # rotary position embedding base
LOGIT_SOFTCAP = 15.0         # logits = cap * tanh(logits / cap)

# Batch
TOTAL_BATCH_SIZE = 2**19     # tokens per optimizer step
DEVICE_BATCH_SIZE = 128      # rows of MAX_SEQ_LEN tokens per forward/backward (lower it if out of memory)

# Optimizer: Muon for the weight matrices inside the blocks, AdamW for the embedding and the head
MATRIX_LR = 0.04             # Muon learning rate
EMBEDDING_LR = 0.6           # AdamW learning rate of the token embedding (scaled by (width/768)^-0.5)
UNEMBEDDING_LR = 0.004       # AdamW learning rate of the output head (scaled likewise)
ADAM_BETA1 = 0.8             # AdamW first-moment decay
ADAM_BETA2 = 0.95            # AdamW second-moment decay
WEIGHT_DECAY = 0.2           # Muon decoupled weight decay at the start, fading linearly to 0 at the end
MUON_MOMENTUM = 0.95         # Muon (Nesterov) momentum after the warmup
MUON_MOMENTUM_START = 0.85   # Muon momentum at the start
MUON_MOMENTUM_WARMUP = 0.1   # fraction of the budget over which the momentum ramps up
NS_STEPS = 5                 # Newton-Schulz iterations that orthogonalize each Muon update

# Learning-rate schedule, as fractions of the time budget
WARMUP_RATIO = 0.0           # linear warmup
WARMDOWN_RATIO = 0.5         # linear decay at the end
FINAL_LR_FRAC = 0.0          # learning rate at the very end, as a fraction of the peak

# Runtime
ATTENTION = "cudnn"          # kernel for full-context layers: "cudnn" | "flash" | "flex" (windowed layers always use flex)
COMPILE = True               # torch.compile each block and the loss
SEED = 42                    # model init and data order (plus AUTORESEARCH_SEED, which the harness varies for repeat runs)
EVAL_BATCH_SIZE = 32         # rows per forward pass in the evaluate step (saved with the checkpoint)
PROGRESS_EVERY = max(1.0, TIME_BUDGET / 50)  # seconds between "progress: elapsed=S loss=L" lines (the harness may stop a clearly worse run early)

# ---------------------------------------------------------------------------
# Model: a GPT with RoPE, QK-norm, RMSNorm (no weights), ReLU^2 MLP, untied head
# ---------------------------------------------------------------------------


@dataclass
class GPTConfig:
    vocab_size: int
    seq_len: int
    n_layer: int
    n_embd: int
    n_head: int
    head_dim: int
    mlp_hidden: int
    windows: tuple        # attention span of each layer, in tokens
    rope_base: float
    softcap: float


def norm(x):
    """RMSNorm without a gain, computed in float32, returned in the input's dtype."""
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(x)


def rotary_tables(seq_len, head_dim, base, device):
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim)
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32, device=device), inv_freq)
    return angles.cos().bfloat16(), angles.sin().bfloat16()


def rotate(x, cos, sin):
    """Rotary embedding of x (batch, time, heads, head_dim): each half-pair is rotated by a
    position-dependent angle."""
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat((x1 * cos + x2 * sin, x2 * cos - x1 * sin), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg, window):
        super().__init__()
        self.n_head, self.head_dim, self.window = cfg.n_head, cfg.head_dim, window
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_head * cfg.head_dim, bias=False)
        self.qkv.weight.muon_split = 3          # Muon orthogonalizes q, k and v separately
        self.proj = nn.Linear(cfg.n_head * cfg.head_dim, cfg.n_embd, bias=False)

    def forward(self, x, cos, sin, block_mask):
        B, T, _ = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, self.head_dim).unbind(2)
        q, k = rotate(norm(q), cos, sin), rotate(norm(k), cos, sin)   # QK-norm, then RoPE
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if block_mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = flex_attention(q, k, v, block_mask=block_mask)
        return self.proj(y.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, cfg.mlp_hidden, bias=False)
        self.proj = nn.Linear(cfg.mlp_hidden, cfg.n_embd, bias=False)

    def forward(self, x):
        return self.proj(F.relu(self.fc(x)).square())


class Block(nn.Module):
    def __init__(self, cfg, window):
        super().__init__()
        self.attn = Attention(cfg, window)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, block_mask):
        x = x + self.attn(norm(x), cos, sin, block_mask)
        return x + self.mlp(norm(x))


def embed(weight, idx):
    return norm(F.embedding(idx, weight).bfloat16())


def head_loss(x, weight, targets, softcap):
    """Mean cross-entropy of the (soft-capped) logits; compiled, so the float32 logits are fused."""
    logits = F.linear(norm(x), weight).float()
    logits = softcap * torch.tanh(logits / softcap)
    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg, w) for w in cfg.windows)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        cos, sin = rotary_tables(cfg.seq_len, cfg.head_dim, cfg.rope_base, "cpu")
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.masks = [None] * cfg.n_layer      # flex BlockMask per layer (None: SDPA causal)
        self.train_blocks = list(self.blocks)  # compiled wrappers when COMPILE (training only)
        self.train_embed, self.train_loss = embed, head_loss

    @torch.no_grad()
    def init_weights(self):
        d = self.cfg.n_embd
        bound = 3 ** 0.5 * d ** -0.5           # uniform with std 1/sqrt(width)
        nn.init.normal_(self.wte.weight, std=1.0)
        nn.init.normal_(self.lm_head.weight, std=0.001)
        for block in self.blocks:
            nn.init.uniform_(block.attn.qkv.weight, -bound, bound)
            nn.init.uniform_(block.mlp.fc.weight, -bound, bound)
            nn.init.zeros_(block.attn.proj.weight)   # every block starts as the identity
            nn.init.zeros_(block.mlp.proj.weight)

    def setup_attention(self, kind, compile_kernels):
        """Flex BlockMasks for windowed layers (and for every layer when kind == 'flex')."""
        global flex_attention
        T = self.cfg.seq_len
        if kind != "flex" and all(w >= T for w in self.cfg.windows):
            return
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention as flex
        flex_attention = torch.compile(flex, dynamic=False) if compile_kernels else flex
        cache = {}
        for i, w in enumerate(self.cfg.windows):
            if w >= T and kind != "flex":
                continue
            if w not in cache:
                cache[w] = create_block_mask(causal_window(w), None, None, T, T, device=self.cos.device)
            self.masks[i] = cache[w]

    def forward(self, idx, targets=None):
        """Logits (batch, time, vocab) in float32, or the mean loss when targets are given."""
        T = idx.size(1)
        cos, sin = self.cos[:T], self.sin[:T]
        if self.training:
            x, blocks = self.train_embed(self.wte.weight, idx), self.train_blocks
        else:
            x, blocks = embed(self.wte.weight, idx), self.blocks
        for block, mask in zip(blocks, self.masks):
            x = block(x, cos, sin, mask)
        if targets is not None:
            return self.train_loss(x, self.lm_head.weight, targets, self.cfg.softcap)
        logits = self.lm_head(norm(x)).float()
        return self.cfg.softcap * torch.tanh(logits / self.cfg.softcap)


def causal_window(w):
    """Flex mask: a query sees itself and the w - 1 tokens before it."""
    def mask_mod(b, h, q, kv):
        return (q >= kv) & (q - kv < w)
    return mask_mod


def flex_attention(*args, **kwargs):
    raise RuntimeError("flex attention used before GPT.setup_attention")


# ---------------------------------------------------------------------------
# Checkpoint: what the evaluate step (prepare.py evaluate, a fresh process) scores
# ---------------------------------------------------------------------------


def build_model(config, device):
    """The model described by model.json's "config", on `device`, ready to be called (weights
    are loaded by the caller). prepare.py's evaluate step calls this after importing train.py."""
    fields = {k: config[k] for k in GPTConfig.__dataclass_fields__}
    fields["windows"] = tuple(fields["windows"])
    model = GPT(GPTConfig(**fields)).to(device)
    model.setup_attention(config.get("attention", "cudnn"), config.get("compile", False))
    return model


def save_checkpoint(model, out_dir):
    """model.json (the config and how to run it) + model.pt (the state dict of the uncompiled
    model, in the dtype the weights have). Returns the seconds it took."""
    t0 = time.time()
    os.makedirs(out_dir, exist_ok=True)
    config = dict(vars(model.cfg), windows=list(model.cfg.windows), attention=ATTENTION, compile=COMPILE)
    torch.save(model.state_dict(), os.path.join(out_dir, "model.pt"))
    meta = {"format": CHECKPOINT_FORMAT, "config": config, "eval_batch_size": EVAL_BATCH_SIZE}
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return time.time() - t0


def checkpoint_dir():
    out = os.environ.get("AUTORESEARCH_OUTPUT")
    if not out:
        out = os.path.abspath("checkpoint")
        print(f"note: AUTORESEARCH_OUTPUT is not set (run by hand?): saving the model in {out}; "
              "score it with: python3 prepare.py evaluate --checkpoint checkpoint")
    return out


# ---------------------------------------------------------------------------
# Optimizer: Muon (orthogonalized momentum) for block matrices
# ---------------------------------------------------------------------------


def orthogonalize(G, steps):
    """Approximately replaces G (a stack of matrices) by the nearest semi-orthogonal matrices
    (U V^T of its SVD) with a quintic Newton-Schulz iteration in bfloat16."""
    X = G.bfloat16()
    tall = X.size(-2) > X.size(-1)
    if tall:
        X = X.mT
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    a, b, c = 3.4445, -4.7750, 2.0315
    for _ in range(steps):
        A = X @ X.mT
        B = torch.baddbmm(A, A, A, beta=b, alpha=c)     # b*A + c*A@A
        X = torch.baddbmm(X, B, X, beta=a)               # a*X + B@X
    return X.mT if tall else X


class Muon:
    """Nesterov momentum, then orthogonalization, for 2-D weights. Matrices of one shape are
    stacked and orthogonalized in one batched pass; a weight marked `muon_split = k` counts as k
    stacked matrices (q, k, v). Updates are scaled by sqrt(max(1, rows/cols))."""

    def __init__(self, params, ns_steps):
        self.ns_steps = ns_steps
        self.groups = {}
        for p in params:
            shape = (p.size(0) // getattr(p, "muon_split", 1), p.size(1))
            self.groups.setdefault(shape, []).append(p)
        self.views = {s: [v for p in ps for v in p.view(-1, *s).unbind(0)] for s, ps in self.groups.items()}
        self.momentum = {s: torch.zeros(len(v), *s, device=ps[0].device) for (s, ps), v in zip(self.groups.items(), self.views.values())}

    @torch.no_grad()
    def step(self, lr, momentum, weight_decay):
        for shape, params in self.groups.items():
            grad = torch.cat([p.grad.view(-1, *shape) for p in params]).float()
            buf = self.momentum[shape]
            buf.lerp_(grad, 1 - momentum)
            update = orthogonalize(grad.lerp_(buf, momentum), self.ns_steps).float()
            scale = max(1.0, shape[0] / shape[1]) ** 0.5
            views = self.views[shape]
            torch._foreach_mul_(views, 1 - lr * weight_decay)
            torch._foreach_add_(views, list(update.unbind(0)), alpha=-lr * scale)


# ---------------------------------------------------------------------------
# Schedules (progress = training seconds so far / TIME_BUDGET)
# ---------------------------------------------------------------------------


def lr_multiplier(progress):
    if progress < WARMUP_RATIO:
        return progress / WARMUP_RATIO
    if progress < 1 - WARMDOWN_RATIO:
        return 1.0
    left = (1 - progress) / WARMDOWN_RATIO
    return FINAL_LR_FRAC + (1 - FINAL_LR_FRAC) * left


def muon_momentum(progress):
    ramp = min(1.0, progress / MUON_MOMENTUM_WARMUP) if MUON_MOMENTUM_WARMUP > 0 else 1.0
    return MUON_MOMENTUM_START + (MUON_MOMENTUM - MUON_MOMENTUM_START) * ramp


def weight_decay(progress):
    return WEIGHT_DECAY * (1 - progress)


# ---------------------------------------------------------------------------
# Accounting
# ---------------------------------------------------------------------------

# dense bf16 peak of known GPUs (FLOP/s), for MFU
PEAK_FLOPS = [("h100 pcie", 756e12), ("h100", 989.5e12), ("h200", 989.5e12), ("h800", 989.5e12),
              ("b200", 2250e12), ("a100", 312e12), ("l40s", 362e12), ("a10g", 125e12), ("4090", 165e12)]


def peak_flops(gpu_name):
    name = gpu_name.lower()
    return next((f for key, f in PEAK_FLOPS if key in name), None)


def flops_per_token(model):
    """6 x (weights used in matmuls, head included, embedding excluded) + attention
    (12 x layers x heads x head_dim x span): the usual estimate, forward and backward."""
    cfg = model.cfg
    matmul = sum(p.numel() for name, p in model.named_parameters() if p.dim() == 2 and not name.startswith("wte"))
    attention = sum(12 * cfg.n_head * cfg.head_dim * min(w, cfg.seq_len) for w in cfg.windows)
    return 6 * matmul + attention


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def sdpa_backends(kind):
    """Context that makes SDPA prefer the chosen kernel (falling back to the others)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    order = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    if kind == "cudnn":
        order.insert(0, SDPBackend.CUDNN_ATTENTION)
    try:
        return sdpa_kernel(order, set_priority=True)
    except TypeError:            # older torch: no priorities, only the allowed set
        return sdpa_kernel(order)


def main():
    with sdpa_backends(ATTENTION):
        train()


def train():
    t_start = time.time()
    device = "cuda"
    seed = SEED + int(os.environ.get("AUTORESEARCH_SEED") or 0)
    torch.manual_seed(seed)
    torch.set_float32_matmul_precision("high")
    gpu = torch.cuda.get_device_name()
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16)

    # model
    width = -(-DEPTH * ASPECT_RATIO // HEAD_DIM) * HEAD_DIM
    pattern = WINDOW_PATTERN.upper()
    spans = {"L": MAX_SEQ_LEN, "S": MAX_SEQ_LEN // 2}
    windows = [spans[pattern[i % len(pattern)]] for i in range(DEPTH)]
    windows[-1] = MAX_SEQ_LEN
    cfg = GPTConfig(vocab_size=VOCAB_SIZE, seq_len=MAX_SEQ_LEN, n_layer=DEPTH, n_embd=width,
                    n_head=width // HEAD_DIM, head_dim=HEAD_DIM, mlp_hidden=MLP_RATIO * width,
                    windows=tuple(windows), rope_base=ROPE_BASE, softcap=LOGIT_SOFTCAP)
    model = GPT(cfg).to(device)
    model.init_weights()
    model.setup_attention(ATTENTION, COMPILE)
    if COMPILE:
        torch._dynamo.config.cache_size_limit = max(64, torch._dynamo.config.cache_size_limit)
        model.train_blocks = [torch.compile(b, dynamic=False) for b in model.blocks]
        model.train_embed = torch.compile(embed, dynamic=False)
        model.train_loss = torch.compile(head_loss, dynamic=False)
    num_params = sum(p.numel() for p in model.parameters())
    fpt = flops_per_token(model)

    # optimizers
    adam_scale = (width / 768) ** -0.5
    adam = torch.optim.AdamW(
        [dict(params=[model.wte.weight], lr=EMBEDDING_LR * adam_scale),
         dict(params=[model.lm_head.weight], lr=UNEMBEDDING_LR * adam_scale)],
        betas=(ADAM_BETA1, ADAM_BETA2), eps=1e-10, weight_decay=0.0, fused=True)
    for group in adam.param_groups:
        group["initial_lr"] = group["lr"]
    muon = Muon([p for p in model.blocks.parameters() if p.dim() == 2], NS_STEPS)

    # batches
    rows = min(DEVICE_BATCH_SIZE, max(1, TOTAL_BATCH_SIZE // MAX_SEQ_LEN))   # a small step shrinks the micro-batch
    tokens_per_micro = rows * MAX_SEQ_LEN
    assert TOTAL_BATCH_SIZE % tokens_per_micro == 0, "TOTAL_BATCH_SIZE must be a multiple of DEVICE_BATCH_SIZE * MAX_SEQ_LEN"
    accum = TOTAL_BATCH_SIZE // tokens_per_micro
    loader = make_dataloader(rows, MAX_SEQ_LEN, "train", device=device, seed=seed)
    x, y, epoch = next(loader)

    peak = peak_flops(gpu)
    print(f"gpu: {gpu} | torch {torch.__version__} | attention {ATTENTION} | windows {pattern} | compile {COMPILE} | seed {seed}")
    print(f"model: {DEPTH} layers, width {width}, {cfg.n_head} heads, {num_params / 1e6:.1f}M parameters, "
          f"{fpt / 1e6:.0f} MFLOP/token")
    print(f"batch: {TOTAL_BATCH_SIZE} tokens/step = {accum} x {rows} x {MAX_SEQ_LEN} | budget {TIME_BUDGET:g}s")
    print(f"setup: {time.time() - t_start:.1f}s", flush=True)

    # The first steps compile; they are not counted in the budget (nor in MFU).
    uncounted_steps = 2
    step, train_time, counted_steps = 0, 0.0, 0
    smooth = None
    next_progress = 0.0
    while True:
        t0 = time.time()
        step_loss = torch.zeros((), device=device)
        for _ in range(accum):
            with autocast:
                loss = model(x, y)
            (loss / accum).backward()
            step_loss += loss.detach()
            x, y, epoch = next(loader)          # built on the CPU while the GPU works
        progress = min(train_time / TIME_BUDGET, 1.0)
        lrm = lr_multiplier(progress)
        for group in adam.param_groups:
            group["lr"] = group["initial_lr"] * lrm
        muon.step(MATRIX_LR * lrm, muon_momentum(progress), weight_decay(progress))
        adam.step()
        model.zero_grad(set_to_none=True)
        loss_value = step_loss.item() / accum   # waits for the step to finish
        dt = time.time() - t0

        if not math.isfinite(loss_value) or loss_value > 100:
            print(f"FAIL: loss is {loss_value} at step {step}; stopping", flush=True)
            sys.exit(1)
        if step >= uncounted_steps:
            train_time += dt
            counted_steps += 1
        step += 1
        if step == 1:
            gc.collect()
            gc.freeze()      # keep the collector from pausing the loop
            gc.disable()
        smooth = loss_value if smooth is None else 0.95 * smooth + 0.05 * loss_value
        if step <= 5 or step % 25 == 0:
            tps = TOTAL_BATCH_SIZE / dt
            mfu = 100 * fpt * tps / peak if peak else 0.0
            print(f"step {step:05d} ({100 * progress:4.1f}%) | loss {smooth:.4f} | lr x{lrm:.2f} | "
                  f"dt {1000 * dt:.0f}ms | {tps / 1e6:.2f}M tok/s | mfu {mfu:.1f}% | epoch {epoch}", flush=True)
        if step > uncounted_steps and train_time >= next_progress:
            # the harness's progress line (early stopping reads it): counted seconds, smoothed loss
            print(f"progress: elapsed={train_time:.2f} step={step} loss={smooth:.5f}", flush=True)
            next_progress = train_time + PROGRESS_EVERY
        if step > uncounted_steps and train_time >= TIME_BUDGET:
            break

    tokens = counted_steps * TOTAL_BATCH_SIZE
    tps = tokens / train_time
    mfu = 100 * fpt * tps / peak if peak else 0.0
    print(f"training: {step} steps, {train_time:.1f}s counted, {tps / 1e6:.2f}M tok/s, mfu {mfu:.1f}%, "
          f"epoch {epoch}", flush=True)

    save_seconds = save_checkpoint(model, checkpoint_dir())
    print(f"checkpoint: {save_seconds:.1f}s")

    print("---")
    print(f"training_seconds: {train_time:.1f}")
    print(f"total_seconds:    {time.time() - t_start:.1f}")
    print(f"peak_vram_mb:     {torch.cuda.max_memory_allocated() / 1024 ** 2:.1f}")
    print(f"mfu_percent:      {mfu:.2f}")
    print(f"total_tokens_M:   {step * TOTAL_BATCH_SIZE / 1e6:.1f}")
    print(f"num_steps:        {step}")
    print(f"num_params_M:     {num_params / 1e6:.1f}")
    print(f"depth:            {DEPTH}")
    print(f"tokens_per_sec:   {tps:.0f}")
    print(f"save_seconds:     {save_seconds:.1f}")


if __name__ == "__main__":
    main()
