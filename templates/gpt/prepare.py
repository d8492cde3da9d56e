"""
prepare.py: data, tokenizer, dataloader and the fixed evaluation of the gpt workload.

This file is PROTECTED: the research agent never edits it (the harness hashes it before every
run). train.py imports it. Everything that decides what `val_bpb` means lives here: the sequence
length, the validation tokens, the tokenizer and the way the loss is computed from the model's
logits.

Usage (ahead of the first run, on a machine with internet, like the original):
    python prepare.py                       # default dataset (climbmix): download, tokenizer, tokens
    AUTORESEARCH_DATASET=tinystories python prepare.py
    AUTORESEARCH_DATA=/path/to/corpus python prepare.py     # local .txt/.jsonl[.gz|.xz]/.parquet
    python prepare.py --num-shards 4        # fewer training shards of a sharded dataset
    python prepare.py --info                # what would be used, and what is cached
The first preparation downloads (network); afterwards runs need none. Training data goes to
data/<source>/, validation data to data/validation/<source>/, which training never opens (the
template lists it in [files].validation so that the sandbox hides it from training runs).

Environment (all optional):
    AUTORESEARCH_DATA          a local file or folder of documents (wins over the dataset name)
    AUTORESEARCH_VAL_DATA      a local file or folder for validation (else held out, see below)
    AUTORESEARCH_DATASET       a dataset name from DATASETS below (default: climbmix)
    AUTORESEARCH_CACHE         data folder (default: data/ of the workspace: AUTORESEARCH_WORKSPACE
                               when the harness runs us in a worktree, else the current folder)
    AUTORESEARCH_TIME_BUDGET   training budget in seconds (default 300; the harness sets it)
    AUTORESEARCH_OUTPUT        where training leaves its checkpoint and the evaluate step reads it
    AUTORESEARCH_EVAL_TOKENS   tests only: a shorter evaluation (changes the metric)
    AUTORESEARCH_SPLIT         (evaluate) "heldout": score the held-out split (heldout.bin: validation
                               documents after those in val.bin, never in it) instead of val.bin; the
                               block then says `heldout_split: 1`. Only the harness sets it, for the
                               checks that never drive a decision (heldout, ablate, transfer, [heldout])

Evaluation (after training, in a fresh process; the harness's [run].evaluate):
    python prepare.py evaluate              # val_bpb of the checkpoint in $AUTORESEARCH_OUTPUT

No torch at import time: the data readers, the downloader and the tokenizer run on any CPU
machine (torch and numpy are imported inside the functions that need them).
"""

import argparse
import base64
import bisect
import gzip
import hashlib
import io
import json
import lzma
import math
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from array import array
from collections import Counter, defaultdict

# ---------------------------------------------------------------------------
# Fixed constants (the metric depends on them: do not change during a study)
# ---------------------------------------------------------------------------

MAX_SEQ_LEN = 2048                 # context length of training and evaluation
TIME_BUDGET = float(os.environ.get("AUTORESEARCH_TIME_BUDGET") or 300)  # training seconds
EVAL_TOKENS = int(os.environ.get("AUTORESEARCH_EVAL_TOKENS") or 2048 * 2048)  # validation target tokens (~4.2M), the same every run (the variable is for tests only)
VOCAB_SIZE = 8192                  # BPE tokens + the BOS special token
BOS_TOKEN = "<|bos|>"              # starts every row of training and validation data
BOS_ID = VOCAB_SIZE - 1            # the last id is BOS; ids below it are BPE tokens
TOKENIZER_TRAIN_CHARS = 50_000_000  # characters of training text the BPE merges are learned from
PYTHON_TRAIN_CHARS = 10_000_000    # ... by the pure-Python trainer (when tokenizers is missing)
SHARD_TOKENS = 2**26               # tokens per on-disk training shard (128 MB of uint16)
FORMAT_VERSION = 1                 # bump when the on-disk token format changes

# GPT-4 style pre-tokenizer split (numbers in groups of at most two digits).
SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s+"""
)

DOC_SEPARATOR = "<|endoftext|>"    # splits a .txt file into documents (when present)
VAL_EVERY = 50                     # single-file data: every 50th document is held out for val
SPLITS = ("val", "heldout")        # what AUTORESEARCH_SPLIT may name (the evaluate step only)

# ---------------------------------------------------------------------------
# Named datasets (downloaded on first use when online)
# ---------------------------------------------------------------------------

HF = "https://huggingface.co/datasets"
DATASETS = {
    # pre-shuffled web text; 6543 parquet shards, the last one is the pinned validation shard
    "climbmix": {
        "url": HF + "/karpathy/climbmix-400b-shuffle/resolve/main/shard_{index:05d}.parquet",
        "val_index": 6542,
        "default_shards": 10,
    },
    # educational web pages; 1823 parquet shards, the last one is the pinned validation shard
    "fineweb-edu": {
        "url": HF + "/karpathy/fineweb-edu-100b-shuffle/resolve/main/shard_{index:05d}.parquet",
        "val_index": 1822,
        "default_shards": 10,
    },
    # short synthetic stories (~2 GB of text), documents separated by <|endoftext|>
    "tinystories": {
        "train_url": HF + "/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-train.txt",
        "val_url": HF + "/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-valid.txt",
    },
}
DEFAULT_DATASET = "climbmix"


def _resolve_path(path):
    """A path from the environment; relative ones are taken from the workspace root when the
    harness runs us in a worktree (AUTORESEARCH_WORKSPACE), else from the current folder."""
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(os.environ.get("AUTORESEARCH_WORKSPACE") or os.getcwd(), path)
    return os.path.abspath(path)


def cache_dir():
    """Where the data lives: data/ of the workspace (the sandbox hides $HOME from runs), or
    AUTORESEARCH_CACHE. Training reads <cache>/<source>/; only the evaluate step reads
    <cache>/validation/ (list it in [files].validation so that the sandbox hides it from training)."""
    return _resolve_path(os.environ.get("AUTORESEARCH_CACHE") or "data")


def validation_root():
    return os.path.join(cache_dir(), "validation")


# ---------------------------------------------------------------------------
# Reading documents (.txt, .jsonl, .parquet; optionally .gz / .xz compressed)
# ---------------------------------------------------------------------------

DATA_SUFFIXES = (".txt", ".jsonl", ".json", ".parquet")
COMPRESSION_SUFFIXES = ("", ".gz", ".xz")


def _split_name(path):
    """('.jsonl', '.gz') for 'a/b.jsonl.gz'; (None, None) for unsupported names."""
    name = os.path.basename(path).lower()
    for comp in COMPRESSION_SUFFIXES:
        for kind in DATA_SUFFIXES:
            if name.endswith(kind + comp) and not (kind == ".parquet" and comp):
                return kind, comp
    return None, None


def _open_text(path, comp):
    if comp == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    if comp == ".xz":
        return io.TextIOWrapper(lzma.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, "r", encoding="utf-8", errors="replace")


def read_documents(path):
    """Yields the text documents of one file. .txt: documents separated by <|endoftext|> (the
    whole file is one document without it); .jsonl: one JSON object per line with a "text" (or
    "content") field; .parquet: the "text" column (needs pyarrow)."""
    kind, comp = _split_name(path)
    if kind is None:
        raise ValueError(f"{path}: unsupported file type (use {', '.join(DATA_SUFFIXES)}, optionally .gz/.xz)")
    if kind == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise SystemExit(f"{path}: reading .parquet needs pyarrow (pip install pyarrow)")
        pf = pq.ParquetFile(path)
        for group in range(pf.num_row_groups):
            for text in pf.read_row_group(group, columns=["text"]).column("text").to_pylist():
                if text:
                    yield text
        return
    with _open_text(path, comp) as f:
        if kind == ".txt":
            # stream the file, cutting documents at the separator without holding it all
            pending = ""
            while True:
                block = f.read(1 << 22)
                if not block:
                    break
                pending += block
                parts = pending.split(DOC_SEPARATOR)
                pending = parts.pop()
                for doc in parts:
                    if doc.strip():
                        yield doc.strip("\n")
            if pending.strip():
                yield pending.strip("\n")
            return
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not a JSON object ({e.msg})") from None
            text = obj.get("text", obj.get("content")) if isinstance(obj, dict) else obj if isinstance(obj, str) else None
            if isinstance(text, str) and text:
                yield text


def list_data_files(path):
    """The data files of a file or folder (folders are walked, files sorted by path)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise SystemExit(f"data path not found: {path}")
    found = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if _split_name(name)[0] is not None and not name.startswith("."):
                found.append(os.path.join(root, name))
    if not found:
        raise SystemExit(f"no data files in {path} (looked for {', '.join(DATA_SUFFIXES)}, optionally .gz/.xz)")
    return found


def _looks_like_val(path):
    words = set("".join(c if c.isalnum() else " " for c in os.path.basename(path).lower()).split())
    return bool(words & {"val", "valid", "validation", "test", "heldout", "dev"})


class Source:
    """Where the documents of each split come from, and the cache key of their tokens."""

    def __init__(self, key, description, train_files, val_files, holdout=False, download=None, signature=None):
        self.key = key                  # folder name under the cache
        self.signature = signature or key  # what the prepared tokens were made from
        self.description = description
        self.train_files = train_files  # list of paths
        self.val_files = val_files      # list of paths ([] when held out of train)
        self.holdout = holdout          # True: every VAL_EVERY-th train document is validation
        self.download = download        # callable(split) that fetches the files of a split, or None

    def documents(self, split):
        """Yields the documents of 'train' or 'val'."""
        if not self.holdout:
            for path in (self.train_files if split == "train" else self.val_files):
                yield from read_documents(path)
            return
        index = 0
        for path in self.train_files:
            for doc in read_documents(path):
                is_val = index % VAL_EVERY == VAL_EVERY - 1
                index += 1
                if is_val == (split == "val"):
                    yield doc


def _local_source(data, val):
    data = _resolve_path(data)
    files = list_data_files(data)
    if val:
        val_files = list_data_files(_resolve_path(val))
        train_files = [f for f in files if f not in val_files]
    else:
        val_files = [f for f in files if _looks_like_val(f)]
        train_files = [f for f in files if f not in val_files]
        if not val_files and len(train_files) > 1:
            val_files = train_files[-1:]
            train_files = train_files[:-1]
    if not train_files:
        raise SystemExit(f"no training files in {data} (every file looks like validation data)")
    holdout = not val_files
    # the key depends on the files' names and sizes, not on where the folder is mounted
    ident = hashlib.sha1()
    for tag, group in (("train", train_files), ("val", val_files)):
        for f in group:
            ident.update(f"{tag}\0{os.path.relpath(f, os.path.dirname(data))}\0{os.path.getsize(f)}\n".encode())
    name = os.path.basename(data.rstrip("/")) or "data"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
    how = "every %dth document held out for validation" % VAL_EVERY if holdout else f"{len(val_files)} validation file(s)"
    desc = f"local data {data}: {len(train_files)} training file(s), {how}"
    return Source(f"local-{safe}-{ident.hexdigest()[:10]}", desc, train_files, val_files, holdout)


def _named_source(name, num_shards=None):
    if name not in DATASETS:
        raise SystemExit(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))} (or set AUTORESEARCH_DATA to a local path)")
    spec = DATASETS[name]
    raw = os.path.join(cache_dir(), name, "raw")
    val_raw = os.path.join(validation_root(), name, "raw")   # the validation download stays apart
    if "url" in spec:
        n = num_shards or _prepared_meta(name).get("num_shards") or spec["default_shards"]
        train = [(spec["url"].format(index=i), os.path.join(raw, f"shard_{i:05d}.parquet")) for i in range(n)]
        val = [(spec["url"].format(index=spec["val_index"]), os.path.join(val_raw, f"shard_{spec['val_index']:05d}.parquet"))]
        desc = f"dataset {name}: {n} training shard(s) + pinned validation shard {spec['val_index']}"
    else:
        n = None
        train = [(spec["train_url"], os.path.join(raw, os.path.basename(spec["train_url"])))]
        val = [(spec["val_url"], os.path.join(val_raw, os.path.basename(spec["val_url"])))]
        desc = f"dataset {name}"

    def fetch(split):
        for url, dest in (train if split == "train" else val):
            if not os.path.exists(dest):
                try:
                    download(url, dest)
                except RuntimeError as e:
                    raise SystemExit(str(e)) from None

    signature = name if n is None else f"{name}:{n}"
    source = Source(name, desc, [d for _, d in train], [d for _, d in val], download=fetch, signature=signature)
    source.num_shards = n
    return source


def _prepared_meta(key):
    """meta.json of a prepared cache folder ({} when there is none)."""
    try:
        with open(os.path.join(cache_dir(), key, "meta.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def resolve_source(num_shards=None):
    """The data source chosen by the environment: AUTORESEARCH_DATA, else the dataset name."""
    data = os.environ.get("AUTORESEARCH_DATA")
    if data:
        return _local_source(data, os.environ.get("AUTORESEARCH_VAL_DATA"))
    if os.environ.get("AUTORESEARCH_NUM_SHARDS") and num_shards is None:
        num_shards = int(os.environ["AUTORESEARCH_NUM_SHARDS"])
    return _named_source(os.environ.get("AUTORESEARCH_DATASET") or DEFAULT_DATASET, num_shards)


# ---------------------------------------------------------------------------
# Downloading (retries with backoff, resume of a cut transfer with an HTTP Range request)
# ---------------------------------------------------------------------------

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def download(url, dest, attempts=6, backoff=2.0, timeout=60, chunk_size=1 << 20, quiet=False):
    """Downloads url to dest. Bytes arrive in dest + '.part'; after a cut connection or a
    retryable error the next attempt asks for the rest (Range: bytes=N-) and appends to it
    (a server that ignores Range sends the whole file again, which replaces the part). The
    file is renamed into place only when complete. Raises RuntimeError after `attempts`."""
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    part = dest + ".part"
    last_error = None
    for attempt in range(1, attempts + 1):
        have = os.path.getsize(part) if os.path.exists(part) else 0
        request = urllib.request.Request(url, headers={"User-Agent": "autoresearch-prepare/1"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                if have and status == 206:
                    mode, expected = "ab", _range_total(response.headers.get("Content-Range"))
                else:
                    mode, have = "wb", 0
                    length = response.headers.get("Content-Length")
                    expected = int(length) if length and length.isdigit() else None
                with open(part, mode) as f:
                    while True:
                        block = response.read(chunk_size)
                        if not block:
                            break
                        f.write(block)
            size = os.path.getsize(part)
            if expected is not None and size < expected:
                raise ConnectionError(f"connection closed after {size} of {expected} bytes")
            os.replace(part, dest)
            if not quiet:
                print(f"  downloaded {os.path.basename(dest)} ({size / 1e6:.1f} MB)")
            return dest
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:          # the part is already complete (or bogus): start over
                os.remove(part)
            elif e.code not in RETRY_STATUS:
                raise RuntimeError(f"download of {url} failed: HTTP {e.code} {e.reason}") from None
            last_error = f"HTTP {e.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            last_error = str(getattr(e, "reason", None) or e)
            if isinstance(getattr(e, "reason", None), socket.gaierror) and attempt >= 2:
                break                              # the host name does not resolve: offline
        if attempt < attempts:
            wait = backoff * 2 ** (attempt - 1)
            if not quiet:
                print(f"  {os.path.basename(dest)}: attempt {attempt}/{attempts} failed ({last_error}); retrying in {wait:.0f}s")
            time.sleep(wait)
    raise RuntimeError(
        f"download of {url} failed after {attempt} attempts ({last_error}). Offline? "
        "Set AUTORESEARCH_DATA to a local file or folder of documents instead."
    )


def _range_total(content_range):
    """Total size from 'bytes 100-199/200' (None when unknown)."""
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    return None


# ---------------------------------------------------------------------------
# Tokenizer: byte-level BPE, stored as its tokens in rank order
# ---------------------------------------------------------------------------
# Training uses the `tokenizers` library when installed (fast), else a pure-Python trainer.
# Encoding uses `tiktoken` when installed (fast), else a pure-Python encoder with the same
# rule as tiktoken (repeatedly merge the adjacent pair whose joined bytes have the lowest rank),
# so both give the same tokens.


def _byte_to_unicode():
    """The reversible byte -> printable character map of byte-level BPE vocabularies: printable
    Latin-1 bytes stand for themselves, the others are moved to code points from 256 on."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _train_with_tokenizers(texts, n_tokens):
    from tokenizers import Regex, Tokenizer as HFTokenizer, models, pre_tokenizers, trainers

    tok = HFTokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(
        vocab_size=n_tokens, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[],
    )
    tok.train_from_iterator(texts, trainer)
    back = {ch: b for b, ch in _byte_to_unicode().items()}
    merged = sorted(((i, bytes(back[c] for c in s)) for s, i in tok.get_vocab().items()), key=lambda t: t[0])
    tokens = [bytes([b]) for b in range(256)]
    seen = set(tokens)
    for _, t in merged:
        if t not in seen:
            seen.add(t)
            tokens.append(t)
    return tokens[:n_tokens]


def _regex():
    try:
        import regex
    except ImportError:
        raise SystemExit("the tokenizer needs tiktoken + tokenizers (fast), or at least the regex package "
                         "(slow pure-Python fallback): pip install tiktoken tokenizers") from None
    return regex


def train_bpe_python(texts, n_tokens, pattern=SPLIT_PATTERN):
    """Pure-Python byte-level BPE training: count the pre-tokenized pieces, then repeatedly
    merge the most frequent adjacent pair (ties: the smallest pair of ids), keeping pair counts
    up to date incrementally. Returns the tokens (bytes) in rank order."""
    split = _regex().compile(pattern)
    counts = Counter()
    for text in texts:
        counts.update(split.findall(text))
    words = [list(piece.encode("utf-8")) for piece in counts]
    freqs = list(counts.values())
    pair_count = defaultdict(int)
    pair_words = defaultdict(set)
    for wi, word in enumerate(words):
        for pair in zip(word, word[1:]):
            pair_count[pair] += freqs[wi]
            pair_words[pair].add(wi)
    import heapq
    heap = [(-c, pair) for pair, c in pair_count.items()]
    heapq.heapify(heap)
    tokens = [bytes([b]) for b in range(256)]
    while len(tokens) < n_tokens and heap:
        neg, pair = heapq.heappop(heap)
        current = pair_count.get(pair, 0)
        if current != -neg:                      # stale heap entry: re-queue its real count
            if current > 0:
                heapq.heappush(heap, (-current, pair))
            continue
        if current < 2:
            break
        a, b = pair
        new_id = len(tokens)
        tokens.append(tokens[a] + tokens[b])
        touched = set()
        for wi in pair_words.pop(pair, ()):
            word, f = words[wi], freqs[wi]
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            if len(merged) == len(word):
                continue
            for p in zip(word, word[1:]):
                pair_count[p] -= f
            for p in zip(merged, merged[1:]):
                pair_count[p] += f
                pair_words[p].add(wi)
                touched.add(p)
            words[wi] = merged
        pair_count.pop(pair, None)
        for p in touched:
            if pair_count.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_count[p], p))
    return tokens


class Tokenizer:
    """Byte-level BPE with a BOS special token. `tokens[i]` are the bytes of id i (ids below
    BOS_ID); BOS_ID is the special token. backend: 'auto' (tiktoken when installed, else pure
    Python), 'tiktoken' or 'python'."""

    def __init__(self, tokens, pattern=SPLIT_PATTERN, backend="auto"):
        if len(tokens) > BOS_ID:
            raise ValueError(f"{len(tokens)} BPE tokens do not fit below BOS_ID={BOS_ID}")
        self.tokens = list(tokens)
        self.pattern = pattern
        self.ranks = {t: i for i, t in enumerate(self.tokens)}
        self.bos_id = BOS_ID
        self.vocab_size = VOCAB_SIZE
        self._enc = None
        if backend in ("auto", "tiktoken"):
            try:
                import tiktoken
                self._enc = tiktoken.Encoding(name="autoresearch-gpt", pat_str=pattern,
                                              mergeable_ranks=self.ranks, special_tokens={BOS_TOKEN: BOS_ID})
            except ImportError:
                if backend == "tiktoken":
                    raise
        self.backend = "tiktoken" if self._enc is not None else "python"
        if self._enc is None:
            self._split = _regex().compile(pattern)
            self._cache = {}

    def _encode_piece(self, piece):
        parts = [bytes([b]) for b in piece]
        ranks = self.ranks
        while len(parts) > 1:
            best, best_rank = -1, None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best < 0:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return [ranks[p] for p in parts]

    def encode(self, text):
        """Token ids of a text (BOS is never produced from text)."""
        if self._enc is not None:
            return self._enc.encode_ordinary(text)
        out, cache = [], self._cache
        if len(cache) > 1_000_000:
            cache.clear()
        for piece in self._split.findall(text):
            ids = cache.get(piece)
            if ids is None:
                ids = cache[piece] = self._encode_piece(piece.encode("utf-8"))
            out.extend(ids)
        return out

    def encode_batch(self, texts, threads=None):
        if self._enc is not None:
            return self._enc.encode_ordinary_batch(texts, num_threads=threads or os.cpu_count() or 4)
        return [self.encode(t) for t in texts]

    def decode_bytes(self, ids):
        return b"".join(self.tokens[i] for i in ids if i != BOS_ID and i < len(self.tokens))

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_byte_lengths(self):
        return token_byte_lengths(self.tokens)

    def save(self, path):
        save_bpe(path, self.tokens, self.pattern)

    @classmethod
    def load(cls, path, backend="auto"):
        tokens, pattern = load_bpe(path)
        return cls(tokens, pattern, backend)


def save_bpe(path, tokens, pattern=SPLIT_PATTERN):
    """tokenizer.txt: a JSON header line, then the base64 bytes of each token in rank order."""
    tmp = path + f".tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(json.dumps({"format": "autoresearch-bpe-1", "pattern": pattern,
                            "vocab_size": VOCAB_SIZE, "bos_token": BOS_TOKEN, "bos_id": BOS_ID}) + "\n")
        for t in tokens:
            f.write(base64.b64encode(t).decode("ascii") + "\n")
    os.replace(tmp, path)


def load_bpe(path):
    """(tokens, pattern) from a tokenizer.txt."""
    with open(path, "r", encoding="ascii") as f:
        header = json.loads(f.readline())
        tokens = [base64.b64decode(line.strip()) for line in f if line.strip()]
    if header.get("vocab_size") != VOCAB_SIZE or header.get("bos_id") != BOS_ID:
        raise SystemExit(f"{path} was made for another VOCAB_SIZE; delete it to retrain")
    return tokens, header["pattern"]


def token_byte_lengths(tokens):
    """Bytes of text each id stands for (0 for BOS and unused ids): the bpb denominator."""
    lengths = [len(t) for t in tokens]
    return lengths + [0] * (VOCAB_SIZE - len(lengths))


def train_tokenizer(texts, n_tokens=VOCAB_SIZE - 1):
    """Learns the BPE tokens from an iterable of texts (tokenizers library when installed)."""
    try:
        import tokenizers  # noqa: F401
        return _train_with_tokenizers(texts, n_tokens)
    except ImportError:
        print("  note: the tokenizers package is not installed; training the BPE in pure Python on "
              f"the first {PYTHON_TRAIN_CHARS // 1_000_000}M characters (slow; pip install tokenizers)")
        return train_bpe_python(_take_chars(texts, PYTHON_TRAIN_CHARS), n_tokens)


def _take_chars(docs, limit):
    """Documents until `limit` characters have been yielded (the last one cut)."""
    total = 0
    for doc in docs:
        if total + len(doc) >= limit:
            yield doc[: limit - total]
            return
        total += len(doc)
        yield doc


# ---------------------------------------------------------------------------
# Preparation: tokenizer + token shards in the cache
# ---------------------------------------------------------------------------
# Layout: <cache>/<source key>/: tokenizer.txt, train_0000.bin ... (flat token ids, uint16),
# meta.json (written last: its presence means the tokens are complete). The validation tokens lie
# apart, in <cache>/validation/<source key>/: val.bin and meta.json, written by the evaluate step
# (or by `python prepare.py`), never by training: under the sandbox training cannot see them.
# The held-out split lies there too: heldout.bin + heldout.json, the validation documents that
# come after every one val.bin read (so no document is in both), written on first use by an
# evaluate step told AUTORESEARCH_SPLIT=heldout.
# Every document is cut into pieces of at most MAX_SEQ_LEN tokens and each piece starts with
# BOS, so a long document fills whole rows and every row starts at a BOS.

TOKEN_TYPECODE = "H" if VOCAB_SIZE <= 1 << 16 else "I"


def data_dir(source):
    return os.path.join(cache_dir(), source.key)


def validation_dir(source):
    return os.path.join(validation_root(), source.key)


class _Lock:
    """An exclusive lock on a file, so that two runs never prepare the same data at once."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.f = open(self.path, "w")
        try:
            import fcntl
            fcntl.flock(self.f, fcntl.LOCK_EX)
        except ImportError:
            pass
        return self

    def __exit__(self, *exc):
        self.f.close()


def _write_tokens(docs, tokenizer, path_for, limit=None, label="", consumed=None):
    """Tokenizes documents into flat token files (a new file every SHARD_TOKENS tokens).
    path_for(k) names file k. Stops after `limit` tokens when given. Returns (files, tokens);
    `consumed`, when given (a one-item list), gets how many documents were written: the first
    consumed[0] documents of `docs`, the rest untouched."""
    t0, files, total, chars = time.time(), [], 0, 0
    buf = array(TOKEN_TYPECODE)

    def flush():
        nonlocal buf
        path = path_for(len(files))
        with open(path + ".tmp", "wb") as f:
            buf.tofile(f)
        os.replace(path + ".tmp", path)
        files.append(os.path.basename(path))
        buf = array(TOKEN_TYPECODE)

    batch, batch_chars = [], 0
    done = False

    def encode_batch():
        nonlocal total, chars, done
        for ids in tokenizer.encode_batch(batch):
            if consumed is not None:
                consumed[0] += 1
            for i in range(0, len(ids), MAX_SEQ_LEN):
                piece = ids[i:i + MAX_SEQ_LEN]
                buf.append(BOS_ID)
                buf.extend(piece)
                total += 1 + len(piece)
            if len(buf) >= SHARD_TOKENS:
                flush()
            if limit is not None and total >= limit:
                done = True
                break
        chars += batch_chars
        print(f"  {label}: {total / 1e6:.1f}M tokens from {chars / 1e6:.0f}M characters ({time.time() - t0:.0f}s)")

    for doc in docs:
        batch.append(doc)
        batch_chars += len(doc)
        if batch_chars >= 16_000_000 or len(batch) >= 8192:
            encode_batch()
            batch, batch_chars = [], 0
            if done:
                break
    if batch and not done:
        encode_batch()
    if len(buf) or not files:
        flush()
    return files, total


def prepare_data(source=None):
    """Makes sure the tokenizer and the training token files of `source` exist (downloading and
    tokenizing on first use). Returns the data folder. Never reads or writes the validation
    split (see prepare_validation). Safe to call from several runs at once."""
    source = source or resolve_source()
    folder = data_dir(source)
    meta_path = os.path.join(folder, "meta.json")
    if _prepared_meta(source.key).get("signature") == source.signature:
        return folder
    with _Lock(folder + ".lock"):
        if _prepared_meta(source.key).get("signature") == source.signature:   # another run finished it
            return folder
        if os.path.exists(meta_path):        # prepared from other files (e.g. another shard count)
            os.remove(meta_path)
        t0 = time.time()
        print(f"Preparing {source.description}")
        print(f"  cache: {folder}")
        if source.download:
            source.download("train")
        os.makedirs(folder, exist_ok=True)
        tok_path = os.path.join(folder, "tokenizer.txt")
        if os.path.exists(tok_path):
            tokenizer = Tokenizer.load(tok_path)
            print(f"  tokenizer: cached ({tok_path})")
        else:
            t1 = time.time()
            tokens = train_tokenizer(_take_chars(source.documents("train"), TOKENIZER_TRAIN_CHARS))
            save_bpe(tok_path, tokens)
            tokenizer = Tokenizer.load(tok_path)
            print(f"  tokenizer: trained {len(tokens)} BPE tokens + BOS in {time.time() - t1:.1f}s")
        sample = "Hello world! Numbers: 12345. Unicode: caf\u00e9 \u4f60\u597d"
        assert tokenizer.decode(tokenizer.encode(sample)) == sample, "tokenizer round trip failed"
        print(f"  encoding with {tokenizer.backend}")
        train_files, train_tokens = _write_tokens(
            source.documents("train"), tokenizer, lambda k: os.path.join(folder, f"train_{k:04d}.bin"), label="train")
        meta = {"version": FORMAT_VERSION, "signature": source.signature, "num_shards": getattr(source, "num_shards", None),
                "source": source.description, "vocab_size": VOCAB_SIZE,
                "max_seq_len": MAX_SEQ_LEN, "train_files": train_files, "train_tokens": train_tokens,
                "tokenizer_backend": tokenizer.backend}
        with open(meta_path + ".tmp", "w") as f:
            json.dump(meta, f, indent=1)
        os.replace(meta_path + ".tmp", meta_path)
        print(f"  done in {time.time() - t0:.0f}s: {train_tokens / 1e6:.1f}M training tokens")
    return folder


def _validation_meta(source):
    try:
        with open(os.path.join(validation_dir(source), "meta.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def prepare_validation(source=None):
    """Makes sure the validation tokens of `source` exist (downloading and tokenizing with the
    training tokenizer on first use). Returns the validation folder. Called by the evaluate
    step and by `python prepare.py`, never by training."""
    source = source or resolve_source()
    train_folder = prepare_data(source)
    folder = validation_dir(source)
    if _validation_meta(source).get("signature") == source.signature:
        return folder
    with _Lock(folder + ".lock"):
        if _validation_meta(source).get("signature") == source.signature:
            return folder
        meta_path = os.path.join(folder, "meta.json")
        if os.path.exists(meta_path):
            os.remove(meta_path)
        t0 = time.time()
        print(f"Preparing the validation split of {source.description}")
        print(f"  cache: {folder}")
        if source.download:
            source.download("val")
        os.makedirs(folder, exist_ok=True)
        tokenizer = Tokenizer.load(os.path.join(train_folder, "tokenizer.txt"))
        consumed = [0]
        _, val_tokens = _write_tokens(
            source.documents("val"), tokenizer, lambda k: os.path.join(folder, "val.bin" if k == 0 else f"val_{k}.bin"),
            limit=2 * EVAL_TOKENS, label="val", consumed=consumed)
        if val_tokens < EVAL_TOKENS:
            print(f"  warning: only {val_tokens} validation tokens (EVAL_TOKENS={EVAL_TOKENS}); val_bpb uses all of them")
        meta = {"version": FORMAT_VERSION, "signature": source.signature, "val_tokens": val_tokens,
                "val_docs": consumed[0],
                "holdout": source.holdout, "val_files": source.val_files}
        with open(meta_path + ".tmp", "w") as f:
            json.dump(meta, f, indent=1)
        os.replace(meta_path + ".tmp", meta_path)
        print(f"  done in {time.time() - t0:.0f}s: {val_tokens / 1e6:.2f}M validation tokens")
    return folder


def prepare_heldout(source=None):
    """Makes sure the held-out tokens of `source` exist: heldout.bin in the validation folder,
    from the validation documents after the `val_docs` that val.bin's preparation read (disjoint
    from val.bin, and from training as the validation documents are), up to 2 * EVAL_TOKENS.
    Returns the folder. Called only by an evaluate step told AUTORESEARCH_SPLIT=heldout."""
    source = source or resolve_source()
    folder = prepare_validation(source)
    path = os.path.join(folder, "heldout.json")

    def ready():
        try:
            with open(path) as f:
                return json.load(f).get("signature") == source.signature
        except (OSError, ValueError):
            return False

    if ready():
        return folder
    with _Lock(folder + ".heldout.lock"):
        if ready():
            return folder
        tokenizer = load_tokenizer(source)
        vmeta = _validation_meta(source)
        skip = vmeta.get("val_docs")
        if skip is None:
            # validation prepared before the held-out split existed: count the documents val.bin
            # holds again (the same documents, up to its token count), writing them nowhere that counts
            consumed, scratch = [0], os.path.join(folder, "heldout.count.tmp")
            _write_tokens(source.documents("val"), tokenizer, lambda k: scratch,
                          limit=vmeta.get("val_tokens") or 2 * EVAL_TOKENS, label="val (count)", consumed=consumed)
            os.remove(scratch)
            skip = consumed[0]
        print(f"Preparing the held-out split of {source.description} (validation documents after the first {skip})")
        if source.download:
            source.download("val")
        docs = source.documents("val")
        for _ in range(skip):
            if next(docs, None) is None:
                break
        _, tokens = _write_tokens(docs, tokenizer,
                                  lambda k: os.path.join(folder, "heldout.bin" if k == 0 else f"heldout_{k}.bin"),
                                  limit=2 * EVAL_TOKENS, label="heldout")
        if tokens <= 1:
            raise SystemExit(f"no held-out documents: the validation data of {source.description} has none after the "
                             f"{skip} that val.bin uses; give more validation data (AUTORESEARCH_VAL_DATA)")
        with open(path + ".tmp", "w") as f:
            json.dump({"version": FORMAT_VERSION, "signature": source.signature, "skipped_docs": skip,
                       "heldout_tokens": tokens}, f, indent=1)
        os.replace(path + ".tmp", path)
        print(f"  done: {tokens / 1e6:.2f}M held-out tokens")
    return folder


def eval_split():
    """The split the evaluate step scores: AUTORESEARCH_SPLIT ("heldout"), else "val"."""
    split = (os.environ.get("AUTORESEARCH_SPLIT") or "val").strip() or "val"
    if split not in SPLITS:
        raise SystemExit(f'AUTORESEARCH_SPLIT must be "heldout" (or unset), got {split!r}')
    return split


def load_tokenizer(source=None):
    return Tokenizer.load(os.path.join(prepare_data(source), "tokenizer.txt"))


# ---------------------------------------------------------------------------
# Packing rows (BOS-aligned, best fit; needs numpy)
# ---------------------------------------------------------------------------


def load_token_file(path):
    import numpy as np
    return np.memmap(path, dtype=np.uint16 if TOKEN_TYPECODE == "H" else np.uint32, mode="r")


class DocTable:
    """Where every document piece (a BOS followed by at most MAX_SEQ_LEN tokens) lies."""

    def __init__(self, arrays):
        import numpy as np
        self.arrays = arrays
        shard, start, length = [], [], []
        for k, arr in enumerate(arrays):
            bos = np.flatnonzero(np.asarray(arr) == BOS_ID)
            if len(bos) == 0:
                continue
            ends = np.append(bos[1:], len(arr))
            shard.append(np.full(len(bos), k, dtype=np.int32))
            start.append(bos.astype(np.int64))
            length.append((ends - bos).astype(np.int64))
        self.shard = np.concatenate(shard) if shard else np.zeros(0, np.int32)
        self.start = np.concatenate(start) if start else np.zeros(0, np.int64)
        self.length = np.concatenate(length) if length else np.zeros(0, np.int64)

    def __len__(self):
        return len(self.start)

    def tokens(self, doc, n=None):
        s = self.start[doc]
        return self.arrays[self.shard[doc]][s:s + (self.length[doc] if n is None else n)]


class Packer:
    """Fills rows of row_len tokens with whole documents, best fit first: each row starts with
    a BOS; while room is left, the longest buffered document that fits goes in; when none fits,
    the shortest one is cropped to fill the row exactly (its rest is dropped). No padding."""

    def __init__(self, table, order, row_len, buffer_docs=1000):
        self.table, self.order, self.row_len = table, iter(order), row_len
        self.buffer_docs = buffer_docs
        self.buffer = []          # sorted (length, serial, doc)
        self.serial = 0
        self.taken = 0            # documents placed in rows so far
        self.exhausted = False

    def _refill(self):
        while len(self.buffer) < self.buffer_docs and not self.exhausted:
            doc = next(self.order, None)
            if doc is None:
                self.exhausted = True
                break
            bisect.insort(self.buffer, (int(self.table.length[doc]), self.serial, int(doc)))
            self.serial += 1

    def fill(self, rows):
        """Writes len(rows) packed rows into the 2-D int array `rows`. Returns how many rows
        were filled (fewer only when the documents ran out)."""
        for r in range(len(rows)):
            pos = 0
            while pos < self.row_len:
                self._refill()
                if not self.buffer:
                    return r
                room = self.row_len - pos
                i = bisect.bisect_right(self.buffer, (room, float("inf"), 0)) - 1
                if i >= 0:
                    n, _, doc = self.buffer.pop(i)
                else:
                    _, _, doc = self.buffer.pop(0)
                    n = room
                self.taken += 1
                rows[r, pos:pos + n] = self.table.tokens(doc, n)
                pos += n
        return len(rows)


def _train_table(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    return DocTable([load_token_file(os.path.join(folder, name)) for name in meta["train_files"]])


def make_dataloader(batch_size, seq_len=MAX_SEQ_LEN, split="train", device="cuda", seed=0):
    """Endless iterator of (inputs, targets, epoch): int64 tensors of shape (batch_size,
    seq_len) on `device`, targets shifted by one. Training documents are visited in a new
    random order every epoch (seeded). The next batch is built on the CPU while the GPU works
    on the current one (the copy to the GPU is asynchronous from pinned memory)."""
    import numpy as np
    import torch

    if split == "train":
        folder = prepare_data()
        table = _train_table(folder)
    else:                                     # the evaluate step's split: hidden from training runs
        folder = prepare_validation()
        table = DocTable([load_token_file(os.path.join(folder, "val.bin"))])
    if len(table) == 0:
        raise SystemExit(f"no {split} tokens in {folder}")
    row_len = seq_len + 1
    pin = device != "cpu" and torch.cuda.is_available()

    def orders():
        for epoch in range(1, 1 << 30):
            if split == "train":
                yield from np.random.default_rng(seed + epoch).permutation(len(table))
            else:
                yield from range(len(table))

    packer = Packer(table, orders(), row_len)
    while True:
        rows = np.empty((batch_size, row_len), dtype=np.int64)
        packer.fill(rows)
        cpu = torch.from_numpy(rows)
        if pin:
            cpu = cpu.pin_memory()
        both = cpu.to(device, non_blocking=True)
        epoch = 1 + (packer.taken - 1) // len(table)     # the pass over the data the batch ends in
        yield both[:, :-1].contiguous(), both[:, 1:].contiguous(), epoch


_VAL_ROWS = None


def validation_rows():
    """The pinned validation set: the first EVAL_TOKENS // MAX_SEQ_LEN packed rows of the
    validation tokens, in order (numpy int64, shape (rows, MAX_SEQ_LEN + 1), read-only: its
    memory is an immutable bytes object, so no code can make it writable again). The same every
    run, whatever batch size the evaluation uses."""
    global _VAL_ROWS
    if _VAL_ROWS is None:
        import numpy as np
        # the held-out split (AUTORESEARCH_SPLIT=heldout, the evaluate step only) in its place
        heldout = eval_split() == "heldout"
        folder = prepare_heldout() if heldout else prepare_validation()
        table = DocTable([load_token_file(os.path.join(folder, "heldout.bin" if heldout else "val.bin"))])
        rows = np.empty((EVAL_TOKENS // MAX_SEQ_LEN, MAX_SEQ_LEN + 1), dtype=np.int64)
        n = Packer(table, range(len(table)), MAX_SEQ_LEN + 1).fill(rows)
        if n == 0:
            raise SystemExit("the validation split is empty")
        _VAL_ROWS = np.frombuffer(rows[:n].tobytes(), dtype=np.int64).reshape(n, MAX_SEQ_LEN + 1)
    return _VAL_ROWS


def validation_byte_counts():
    """Bytes of text each validation target stands for (numpy int64, shape (rows, MAX_SEQ_LEN),
    read-only; 0 for BOS): the bpb denominator, computed from the tokenizer alone."""
    import numpy as np
    rows = validation_rows()
    tokens, _ = load_bpe(os.path.join(prepare_data(), "tokenizer.txt"))
    lengths = np.asarray(token_byte_lengths(tokens), dtype=np.int64)
    counts = lengths[rows[:, 1:]]
    return np.frombuffer(counts.tobytes(), dtype=np.int64).reshape(counts.shape)


# ---------------------------------------------------------------------------
# The fixed evaluation: bits per byte on the pinned validation rows
# ---------------------------------------------------------------------------
# The model's code is the agent's; everything here treats it as untrusted. It gets a fresh copy
# of its input on every call (the targets are separate tensors it never sees), its output must be
# a plain torch.Tensor, the loss is computed here, and besides the fixed check below, one random
# batch is scored twice with its tail replaced (causality at a random position, in a batch that
# looks like any other) and the first batch is scored again at the end (a model that keeps state
# between calls to tell checks from scoring gives different numbers). `guard`, when given, runs
# after every call of the model (the evaluate step passes one that checks nothing it relies on
# was replaced).

CAUSAL_TOLERANCE = 0.05            # nats: bf16 kernels may differ this much on the same prefix
STATELESS_TOLERANCE = 0.01         # nats per token: the first batch scored at the start and at the end


def _call(model, x, guard):
    import torch
    logits = model(x.clone())
    if guard is not None:
        guard()
    if type(logits) is not torch.Tensor:       # a subclass could override what the loss does with it
        raise RuntimeError(f"model(x) must return a plain torch.Tensor, got {type(logits).__name__}")
    if logits.dim() != 3 or tuple(logits.shape[:2]) != tuple(x.shape) or logits.size(-1) < VOCAB_SIZE:
        raise RuntimeError(f"model(x) must return logits (batch, {MAX_SEQ_LEN}, >= {VOCAB_SIZE}); got {tuple(logits.shape)}")
    return torch.Tensor.detach(logits)[:, :, :VOCAB_SIZE]


def _prefix_diff(a, b, p):
    import torch.nn.functional as F
    la = F.log_softmax(a[:, :p].float(), dim=-1)
    lb = F.log_softmax(b[:, :p].float(), dim=-1)
    return (la - lb).abs().max().item()


def _check_causal(model, rows, device, p=None, guard=None, rng=None):
    """The predictions for positions before p must not change when the tokens from p on do.
    A model that looks ahead would score an impossible val_bpb; this refuses to score it.
    Rows of `rows` (numpy, with the target column) are used; their tails come from the next row
    (random tokens when there is one row), so the altered batch looks like real data."""
    import torch

    x = torch.tensor(rows[:, :-1], device=device)
    n, T = x.shape
    p = T // 2 if p is None else p
    other = x.clone()
    if n > 1:
        other[:, p:] = x.roll(1, dims=0)[:, p:]
    else:
        g = torch.Generator(device="cpu").manual_seed(1234)
        other[:, p:] = torch.randint(0, BOS_ID, (n, T - p), generator=g).to(device)
    # the token at p must differ in every row, so that even a one-token look-ahead shows (two rows
    # may share the token there, e.g. a document boundary at the same place)
    same = other[:, p] == x[:, p]
    if bool(same.any()):
        other[same, p] = (x[same, p] + 1) % BOS_ID
    first, second = (x, other) if rng is None or rng.random() < 0.5 else (other, x)
    a, b = _call(model, first, guard), _call(model, second, guard)
    diff = _prefix_diff(a, b, p)
    if not diff <= CAUSAL_TOLERANCE:
        raise RuntimeError(f"the model is not causal: its predictions before position {p} change by {diff:.3f} "
                           "nats when later tokens change; val_bpb would be meaningless")
    return a if first is x else b


def _row_nats(logits, targets, weights):
    """Cross-entropy (nats, float64) of every row, over the targets that stand for text."""
    import torch.nn.functional as F
    out = []
    for j in range(0, logits.size(0), 8):      # 8 rows at a time bounds the float32 copy
        lg = logits[j:j + 8].float()
        nats = F.cross_entropy(lg.reshape(-1, VOCAB_SIZE), targets[j:j + 8].reshape(-1), reduction="none")
        out.append((nats.double().view(lg.size(0), -1) * weights[j:j + 8]).sum(dim=1))
    import torch
    return torch.cat(out)


def evaluate_bpb(model, batch_size, device="cuda", guard=None, seed=None):
    """Validation bits per byte of `model`: model(x) must return logits of shape
    (batch, MAX_SEQ_LEN, >= VOCAB_SIZE) for int64 token ids x of shape (batch, MAX_SEQ_LEN).
    The loss is computed here, in float32, from those logits: the cross-entropy of every target
    token in nats, summed, over the UTF-8 bytes those targets stand for (BOS targets excluded
    from both sums), divided by ln 2. Lower is better; independent of the vocabulary size.
    Runs with the caller's autocast settings, in eval mode, without gradients. `seed` picks the
    randomly checked batch (default: from os.urandom, so that no code can know it)."""
    import random
    import torch

    rows = validation_rows()
    counts = validation_byte_counts()
    rng = random.Random(int.from_bytes(os.urandom(8), "little") if seed is None else seed)
    batch_size = max(1, min(int(batch_size), len(rows)))
    starts = list(range(0, len(rows), batch_size))
    probe = rng.randrange(len(starts))
    probe_p = rng.randrange(1, MAX_SEQ_LEN)
    was_training = model.training
    model.eval()
    total_nats, first = 0.0, None
    try:
        with torch.no_grad():
            _check_causal(model, rows[:2], device, guard=guard)
            for k, i in enumerate(starts):
                part = rows[i:i + batch_size]
                if k == probe:
                    logits = _check_causal(model, part, device, p=probe_p, guard=guard, rng=rng)
                else:
                    logits = _call(model, torch.tensor(part[:, :-1], device=device), guard)
                targets = torch.tensor(part[:, 1:], device=device)
                weights = torch.tensor(counts[i:i + batch_size] > 0, device=device)
                nats = _row_nats(logits, targets, weights)
                del logits
                if k == 0:
                    first = nats
                total_nats += nats.sum().item()
            part = rows[:batch_size]             # statelessness: the first batch again
            again = _row_nats(_call(model, torch.tensor(part[:, :-1], device=device), guard),
                              torch.tensor(part[:, 1:], device=device), torch.tensor(counts[:batch_size] > 0, device=device))
            per_token = ((again - first).abs() / MAX_SEQ_LEN).max().item()
            if not per_token <= STATELESS_TOLERANCE:
                raise RuntimeError(f"the model is not stateless: the first batch scored {per_token:.4f} nats/token "
                                   "differently at the end than at the start; val_bpb would be meaningless")
    finally:
        model.train(was_training)
    nbytes = int(counts.sum())
    if not math.isfinite(total_nats):
        return float("nan")
    return total_nats / (math.log(2) * nbytes)


# ---------------------------------------------------------------------------
# The evaluate step: `python prepare.py evaluate` scores the checkpoint that training left
# ---------------------------------------------------------------------------
# Training (train.py, the agent's) saves model.json + model.pt in $AUTORESEARCH_OUTPUT and prints
# no val_bpb. This step runs afterwards, in a fresh process, from this protected file:
#   parent (this process): never imports train.py. It starts a child, gives it a secret on its
#     stdin, forwards the child's output, and after the child has exited prints the `---` block
#     (the harness reads the last one) from the one result line the child wrote on a private pipe
#     with that secret. Anything the child or its descendants print later is not forwarded.
#   child: reads the secret, loads the validation rows, snapshots what the evaluation relies on
#     (this module's globals, builtins, math, os, random, torch.nn.functional, torch.Tensor, ...),
#     then imports train.py (its module-level code runs here), rebuilds the model with
#     train.build_model(config, device), loads the weights, and runs evaluate_bpb with the fixed
#     MAX_SEQ_LEN, checking the snapshot after the import and after every call of the model.
# Why the model is rebuilt from train.py and not from a torch.export program (which would run
# no edited Python at all): flex attention with BlockMasks (WINDOW_PATTERN "SL"/"SSSL", ATTENTION
# "flex") does not export reliably, and the agent may add what export cannot capture (custom
# kernels, Python control flow); a template whose default settings could not be evaluated would
# be worse than an import guarded as below.
# What this does not stop: code that deliberately digs into the evaluator (its frames, gc, the
# result pipe, the validation files) from inside the model. That is visible in the diff; the
# sandbox's part is to keep the validation files from training and the network from both.

CHECKPOINT_FORMAT = "autoresearch-gpt-checkpoint-1"
_CHILD = "_evaluate-child"


def _code_of(value):
    code = getattr(value, "__code__", None)
    return None if code is None else (code, getattr(value, "__defaults__", None), getattr(value, "__kwdefaults__", None))


class _Guard:
    """Identities of the objects the evaluation relies on, taken before train.py is imported;
    calling it raises when any of them was replaced (or a function's code swapped), when a trace
    function or a torch function/dispatch mode was installed, or when the validation data moved."""

    def __init__(self, torch):
        import builtins
        import random
        self.rows = validation_rows()           # loaded first: _VAL_ROWS is one of the globals
        self.counts = validation_byte_counts()
        F = torch.nn.functional
        spaces = [("prepare.py", globals()), ("builtins", vars(builtins)), ("math", vars(math)), ("os", vars(os)),
                  ("random", vars(random)), ("random.Random", vars(random.Random)), ("prepare._Guard", vars(_Guard)),
                  ("torch.nn.functional", vars(F)),
                  ("torch.Tensor", vars(torch.Tensor)), ("torch._C._nn", vars(torch._C._nn))]
        for base in ("TensorBase", "_TensorBase"):
            if hasattr(torch._C, base):
                spaces.append(("torch._C." + base, vars(getattr(torch._C, base))))
        names = ("tensor", "cat", "no_grad", "Generator", "randint", "autocast", "Tensor", "float64")
        spaces.append(("torch", {n: getattr(torch, n) for n in names if hasattr(torch, n)}))
        self.live = {"torch": torch}
        self.spaces = [(label, ns if label != "torch" else None, dict(ns),
                        {k: c for k, c in ((k, _code_of(v)) for k, v in ns.items()) if c is not None})
                       for label, ns in spaces]
        self.torch_names = names
        self.stacks = {n: getattr(torch._C, n)() for n in ("_len_torch_function_stack", "_len_torch_dispatch_stack")
                       if hasattr(torch._C, n)}

    def __call__(self, when="a call of the model"):
        torch = self.live["torch"]
        if sys.gettrace() is not None or sys.getprofile() is not None:
            raise RuntimeError(f"a trace or profile function was installed during {when}")
        for n, length in self.stacks.items():
            if getattr(torch._C, n)() != length:
                raise RuntimeError(f"a torch function or dispatch mode was left active after {when}")
        for label, ns, saved, codes in self.spaces:
            if ns is None:
                ns = {n: getattr(torch, n) for n in self.torch_names if hasattr(torch, n)}
            if len(ns) != len(saved):
                added = sorted(set(ns) - set(saved)) or sorted(set(saved) - set(ns))
                raise RuntimeError(f"{label} was changed during {when}: {', '.join(map(str, added[:5]))}")
            for k, v in saved.items():
                if ns.get(k, _Guard) is not v:
                    raise RuntimeError(f"{label}.{k} was replaced during {when}")
            for k, c in codes.items():
                if _code_of(saved[k]) != c:
                    raise RuntimeError(f"the code of {label}.{k} was replaced during {when}")
        if _VAL_ROWS is not self.rows or validation_rows() is not self.rows:
            raise RuntimeError(f"the validation rows were replaced during {when}")


def _evaluate_child(out_dir, result_fd):
    write, exit_now = os.write, os._exit        # captured before any edited code runs
    try:
        nonce = os.read(0, 256).decode().strip()
        import importlib
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
        with open(os.path.join(out_dir, "model.json")) as f:
            meta = json.load(f)
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise RuntimeError(f"{out_dir}/model.json is not a {CHECKPOINT_FORMAT} checkpoint")
        evaluate, guard = evaluate_bpb, _Guard(torch)
        t0 = time.time()
        sys.path.insert(0, os.getcwd())
        train = importlib.import_module("train")        # its module-level code runs now
        guard("the import of train.py")
        model = train.build_model(meta["config"], device)
        guard("train.build_model")
        state = torch.load(os.path.join(out_dir, "model.pt"), map_location=device, weights_only=True)
        model.load_state_dict(state, strict=True)
        guard("loading the weights")
        with torch.autocast(device_type=device, dtype=torch.bfloat16):   # as in training
            bpb = evaluate(model, int(meta.get("eval_batch_size") or 32), device=device, guard=guard)
        guard("the evaluation")
        rows = guard.rows
        result = {"nonce": nonce, "val_bpb": bpb, "eval_seconds": time.time() - t0,
                  "eval_tokens": int(rows.shape[0] * (rows.shape[1] - 1)), "device": device}
        write(result_fd, (json.dumps(result) + "\n").encode())
        exit_now(0)
    except BaseException as e:      # SystemExit from train.py included: no result, a failed step
        import traceback
        try:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os.write(2, f"FAIL: evaluation failed: {type(e).__name__}: {e}\n".encode())
            exit_now(1)


def _checkpoint_dir(explicit=None):
    out = explicit or os.environ.get("AUTORESEARCH_OUTPUT")
    return os.path.abspath(out or "checkpoint")


def evaluate_main(argv):
    """`prepare.py evaluate [--checkpoint DIR]`: prints the `---` block with val_bpb of the
    checkpoint in DIR (default $AUTORESEARCH_OUTPUT, else ./checkpoint). Exit 0 only with a
    finite val_bpb."""
    import subprocess
    import threading
    parser = argparse.ArgumentParser(prog="prepare.py evaluate", description=evaluate_main.__doc__)
    parser.add_argument("--checkpoint", default=None, help="folder with model.json + model.pt")
    args = parser.parse_args(argv)
    out_dir = _checkpoint_dir(args.checkpoint)
    if not os.path.exists(os.path.join(out_dir, "model.json")):
        print(f"FAIL: no checkpoint in {out_dir} (train.py saves model.json + model.pt there)", flush=True)
        return 1
    sys.stdout.flush()
    nonce = os.urandom(16).hex()
    r, w = os.pipe()
    t0 = time.time()
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), _CHILD, out_dir, str(w)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(w,))
    os.close(w)
    child.stdin.write((nonce + "\n").encode())
    child.stdin.close()
    lock, state = threading.Lock(), {"open": True}

    def forward():
        while True:
            chunk = child.stdout.read1(1 << 16)
            if not chunk:
                return
            with lock:
                if not state["open"]:
                    return
                os.write(1, chunk)

    pump = threading.Thread(target=forward, daemon=True)
    pump.start()
    code = child.wait()
    pump.join(timeout=2.0)            # what the child printed; a descendant holding the pipe is cut off
    os.set_blocking(r, False)
    data = b""
    try:
        while len(data) < 1 << 16:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            data += chunk
    except BlockingIOError:
        pass
    lines = data.decode(errors="replace").splitlines()
    result, problem = None, None
    if code != 0:
        problem = f"the evaluation process exited with {code}"
    elif len(lines) != 1:
        problem = f"expected one result from the evaluation process, got {len(lines)}"
    else:
        try:
            result = json.loads(lines[0])
        except ValueError:
            problem = "the evaluation result is not JSON"
        if result is not None and (not isinstance(result, dict) or result.get("nonce") != nonce):
            problem, result = "the evaluation result does not carry the evaluator's secret", None
    bpb = result.get("val_bpb") if result else None
    if problem is None and not (isinstance(bpb, float) and math.isfinite(bpb)):
        problem = f"val_bpb is {bpb}"
    with lock:
        state["open"] = False
        if problem:                   # a last block without a number: whatever was printed before is void
            os.write(1, f"\nFAIL: {problem}\n---\nval_bpb:          nan\n".encode())
        else:
            os.write(1, ("\n---\n"
                         f"val_bpb:          {bpb:.6f}\n"
                         f"eval_seconds:     {result['eval_seconds']:.1f}\n"
                         f"eval_total_s:     {time.time() - t0:.1f}\n"
                         f"eval_tokens:      {result['eval_tokens']}\n"
                         f"eval_seq_len:     {MAX_SEQ_LEN}\n"
                         + ("heldout_split:    1\n" if eval_split() == "heldout" else "")).encode())
    os._exit(1 if problem else 0)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["evaluate"], ["--evaluate"]):
        return evaluate_main(argv[1:])
    if argv[:1] == [_CHILD]:
        _evaluate_child(argv[1], int(argv[2]))     # never returns
    parser = argparse.ArgumentParser(description="Download and tokenize the data of the gpt workload ahead of the first run; "
                                                 "`prepare.py evaluate` scores the checkpoint in $AUTORESEARCH_OUTPUT.")
    parser.add_argument("--num-shards", type=int, default=None, help="training shards of a sharded dataset (default: its default_shards)")
    parser.add_argument("--info", action="store_true", help="print the data source and cache state, change nothing")
    args = parser.parse_args(argv)
    source = resolve_source(args.num_shards)
    folder = data_dir(source)
    if args.info:
        print(f"source: {source.description}")
        ready = _prepared_meta(source.key).get("signature") == source.signature
        print(f"cache:  {folder} ({'ready' if ready else 'not prepared'})")
        val_ready = _validation_meta(source).get("signature") == source.signature
        print(f"validation: {validation_dir(source)} ({'ready' if val_ready else 'not prepared'}; list it in [files].validation)")
        if not source.holdout and any(not os.path.abspath(f).startswith(validation_root() + os.sep) for f in source.val_files):
            print("note: the validation documents come from " + ", ".join(source.val_files) + "; add them to [files].validation too")
        if source.holdout:
            print(f"note: validation is every {VAL_EVERY}th document of the training files, which training can read; "
                  "give a separate file (AUTORESEARCH_VAL_DATA) to keep it from training")
        print(f"MAX_SEQ_LEN={MAX_SEQ_LEN} VOCAB_SIZE={VOCAB_SIZE} EVAL_TOKENS={EVAL_TOKENS} TIME_BUDGET={TIME_BUDGET:g}")
        return 0
    prepare_data(source)
    prepare_validation(source)
    print(f"Ready: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
