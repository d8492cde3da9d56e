/**
 * The protected `evaluate.py` that `autoresearch init --guard` writes into a repository of the
 * original autoresearch layout. It runs after training, in a fresh process, and alone produces
 * the objective.
 *
 * Why it rebuilds the model this way: the original's train.py trains at import time (no
 * `if __name__ == "__main__"`), so it cannot be imported; a pickled model (`torch.save(model)`)
 * would name classes of `__main__` and also need train.py, and unpickling runs code chosen by the
 * writer. So train.py saves only a state dict and the config dict (loaded with
 * `weights_only=True`: no code runs from the checkpoint), and evaluate.py takes the model's
 * definitions from the edited train.py's source: every top-level statement up to the last of
 * `class GPTConfig` / `class GPT` (imports, kernels, helpers), then only imports, defs, classes and
 * call-free assignments (the training script after it never runs).
 *
 * What it defends against, since the model's code still runs in this process: it computes the
 * loss itself from the model's logits (`model(idx)`), so a forward that under-reports its own
 * loss does not count; it checks that the model is causal (changing later tokens must not change
 * earlier logits); it snapshots `prepare`'s namespace and function code, `math`, `torch` and
 * `torch.Tensor`, and refuses to print a score if any of them changed. Output: before any edited
 * code runs, stdout and stderr are redirected to a private file and copies of the real ones are
 * kept; what the edited code printed is replayed on stderr defused (each line indented, `\r` and
 * escapes shown, `METRIC` lower-cased: the harness's parser reads none of it as a metric), then the
 * summary is written last on the kept stdout and the process ends with `os._exit`, so exit
 * handlers, threads and children of the edited code cannot print after it, and an edited
 * `os._exit` before it leaves no score at all (a crash).
 */
export const GUARD_MARKER = 'autoresearch --guard';

/** The line inserted into train.py before its own evaluation. */
export const CHECKPOINT_LINE =
  'torch.save({"model": model.state_dict(), "config": asdict(config)}, os.path.join(os.environ.get("AUTORESEARCH_OUTPUT", "."), "model.pt"))  # autoresearch --guard: checkpoint for evaluate.py';

export const EVALUATE_PY = String.raw`"""
Protected evaluation, written by '${GUARD_MARKER}' (review it, then commit it).

Runs after train.py in a fresh process: loads the checkpoint train.py saved in
$AUTORESEARCH_OUTPUT/model.pt, rebuilds the model from train.py's class definitions (without
running its training), and prints the objective from prepare.evaluate_bpb. The harness reads
the objective from this output only.
"""
import ast
import math
import os
import sys
import tempfile
import time
import traceback

import torch
import torch.nn.functional as F

import prepare

EVAL_BATCH_SIZE = 32   # rows per evaluation step (memory only: the evaluated tokens are fixed by prepare.py)
TRAIN_FILE = "train.py"
MODEL_CLASSES = ("GPTConfig", "GPT")

_out = os.dup(1)  # stdout and stderr as they were before any edited code ran (not inherited)
_err = os.dup(2)
_write = os.write
_exit = os._exit
_cross_entropy = F.cross_entropy
_captured = tempfile.TemporaryFile()
REPLAY_LINES = 200


def silence():
    """From here on, whatever this process (and its children) print goes to a private file."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(_captured.fileno(), 1)
    os.dup2(_captured.fileno(), 2)


def defused(text, prefix):
    out = ""
    for line in text.splitlines():
        out += prefix + line.replace("\r", "\\r").replace("\x1b", "\\x1b").replace("METRIC", "metric") + "\n"
    return out.encode()


def replay():
    """Shows what was printed, defused so that the harness reads no metric from it."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    _captured.seek(0)
    lines = _captured.read().decode("utf-8", errors="replace").splitlines()
    if len(lines) > REPLAY_LINES:
        lines = ["[... %d lines left out]" % (len(lines) - REPLAY_LINES)] + lines[-REPLAY_LINES:]
    _write(_err, defused("\n".join(lines), "  | "))


def fail(message):
    replay()
    _write(_err, defused(message, "evaluate.py: "))
    _exit(1)


def snapshot():
    """Identity of everything the evaluation relies on, to detect edits made at run time."""
    seen = {}
    for name, mod in (("prepare", prepare), ("math", math), ("torch", torch), ("F", F)):
        for key, value in list(vars(mod).items()):
            seen[(name, key)] = id(value)
            code = getattr(value, "__code__", None)
            if code is not None and name == "prepare":
                seen[(name, key, "code")] = id(code)
                seen[(name, key, "defaults")] = id(getattr(value, "__defaults__", None))
    for key, value in list(vars(torch.Tensor).items()):
        seen[("Tensor", key)] = id(value)
    return seen


def model_namespace(path):
    """Runs train.py's model definitions (not its training) in a fresh namespace."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    last = -1
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.ClassDef) and node.name in MODEL_CLASSES:
            last = i
    if last < 0:
        fail(f"{path} defines none of {', '.join(MODEL_CLASSES)}")
    defs = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    prefix = tree.body[: last + 1]
    rest = []
    for node in tree.body[last + 1 :]:
        calls = any(isinstance(n, ast.Call) for n in ast.walk(node))
        if isinstance(node, defs) or (isinstance(node, (ast.Assign, ast.AnnAssign)) and not calls):
            rest.append(node)
    ns = {"__name__": "autoresearch_model", "__file__": os.path.abspath(path)}
    exec(compile(ast.Module(body=prefix, type_ignores=[]), path, "exec"), ns)
    for node in rest:
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), ns)
        except NameError:
            pass  # depends on something the training script computes; not needed by the model
    for name in MODEL_CLASSES:
        if name not in ns:
            fail(f"{path} does not define {name}")
    return ns


class LossFromLogits(torch.nn.Module):
    """Gives prepare.evaluate_bpb the loss computed here from the model's logits."""

    def __init__(self, model, vocab_size):
        super().__init__()
        self.model = model
        self.vocab_size = vocab_size

    def forward(self, idx, targets=None, reduction="mean"):
        logits = self.model(idx)
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (*idx.shape, self.vocab_size):
            fail(f"the model's forward(idx) must return logits of shape {(*idx.shape, self.vocab_size)}")
        loss = _cross_entropy(logits.float().reshape(-1, self.vocab_size), targets.reshape(-1), ignore_index=-1, reduction=reduction)
        return loss


def check_causal(model, tokenizer, vocab_size):
    x, _, _ = next(prepare.make_dataloader(tokenizer, 1, prepare.MAX_SEQ_LEN, "val"))
    half = x.shape[1] // 2
    changed = x.clone()
    changed[:, half:] = (changed[:, half:] + 1 + torch.arange(x.shape[1] - half, device=x.device)) % vocab_size
    a = model(x)[:, :half].float()
    b = model(changed)[:, :half].float()
    diff = (a - b).abs().mean().item()
    if not math.isfinite(diff) or diff > 1e-2:
        fail(f"the model is not causal: changing later tokens changed earlier logits (mean |diff| {diff:.4g})")


def main():
    t0 = time.time()
    before = snapshot()
    silence()
    path = os.path.join(os.environ.get("AUTORESEARCH_OUTPUT", "."), "model.pt")
    if not os.path.exists(path):
        fail(f"no checkpoint at {path}: train.py must save it (the line marked '${GUARD_MARKER}')")
    ckpt = torch.load(path, map_location="cuda", weights_only=True)
    ns = model_namespace(TRAIN_FILE)
    config = ns["GPTConfig"](**ckpt["config"])
    with torch.device("cuda"):
        model = ns["GPT"](config)
    if hasattr(model, "init_weights"):
        model.init_weights()  # dtypes and buffers as in training; the weights come from the checkpoint
    state = {k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    tokenizer = prepare.Tokenizer.from_directory()
    vocab_size = tokenizer.get_vocab_size()
    with torch.no_grad(), torch.amp.autocast(device_type="cuda", dtype=torch.bfloat16):
        check_causal(model, tokenizer, vocab_size)
        val_bpb = prepare.evaluate_bpb(LossFromLogits(model, vocab_size), tokenizer, EVAL_BATCH_SIZE)
    after = snapshot()
    if any(after.get(k) != v for k, v in before.items()):
        fail("the evaluation's code (prepare, math or torch) was changed while it ran; no score")
    if not isinstance(val_bpb, float) or not math.isfinite(val_bpb):
        fail(f"evaluate_bpb returned {val_bpb!r}")
    summary = (
        "---\n"
        f"val_bpb:          {val_bpb:.6f}\n"
        f"eval_seconds:     {time.time() - t0:.1f}\n"
        f"eval_peak_vram_mb: {torch.cuda.max_memory_allocated() / 1024 / 1024:.1f}\n"
    )
    replay()
    _write(_out, summary.encode())
    _exit(0)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        fail("the evaluation failed:\n" + traceback.format_exc())
`;
