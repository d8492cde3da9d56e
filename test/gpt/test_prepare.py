"""
CPU tests of templates/gpt/prepare.py: data readers, sources, downloader (against a local HTTP
server), tokenizer, preparation and packing. No torch needed. Tests that need an optional
package (regex, numpy, pyarrow, tiktoken, tokenizers) skip when it is missing.

Run: python3 -m unittest discover -s test/gpt -p 'test_*.py'
"""

import gzip
import http.server
import importlib
import json
import lzma
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.abspath(os.path.join(HERE, "..", "..", "templates", "gpt"))
sys.path.insert(0, TEMPLATE)
import prepare  # noqa: E402


def has(module):
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


TEXT = (
    "It was a bright cold day in April, and the clocks were striking thirteen. "
    "Numbers: 3.14159 and 2718281828; caf\u00e9 na\u00efve r\u00e9sum\u00e9; \u4f60\u597d\u4e16\u754c; emoji \U0001F600!\n\n"
    "The quick brown fox jumps over the lazy dog. " * 20
)


class TempDir(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gpt-test-")
        self.env = dict(os.environ)
        for k in list(os.environ):
            if k.startswith("AUTORESEARCH_"):
                del os.environ[k]
        os.environ["AUTORESEARCH_CACHE"] = os.path.join(self.dir, "cache")
        prepare._VAL_ROWS = None

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.env)
        shutil.rmtree(self.dir, ignore_errors=True)
        prepare._VAL_ROWS = None

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(path, mode) as f:
            f.write(data)
        return path

    def write_jsonl(self, name, docs):
        lines = "".join(json.dumps({"text": d, "source": "t"}) + "\n" for d in docs).encode()
        if name.endswith(".gz"):
            lines = gzip.compress(lines)
        elif name.endswith(".xz"):
            lines = lzma.compress(lines)
        return self.write(name, lines)


class ReadersTest(TempDir):
    def test_txt_with_and_without_separator(self):
        p = self.write("a.txt", "first doc\n<|endoftext|>\nsecond doc\n<|endoftext|>\n\n")
        self.assertEqual(list(prepare.read_documents(p)), ["first doc", "second doc"])
        p = self.write("book.txt", "one whole book\nwith lines\n")
        self.assertEqual(list(prepare.read_documents(p)), ["one whole book\nwith lines"])

    def test_txt_separator_across_read_blocks(self):
        big = "x" * ((1 << 22) - 5) + "<|endoftext|>" + "tail"
        p = self.write("big.txt", big)
        docs = list(prepare.read_documents(p))
        self.assertEqual([len(d) for d in docs], [(1 << 22) - 5, 4])

    def test_jsonl_plain_gz_xz(self):
        docs = ["alpha", "beta \u00e9", "gamma"]
        for name in ("d.jsonl", "d.jsonl.gz", "d.jsonl.xz"):
            self.assertEqual(list(prepare.read_documents(self.write_jsonl(name, docs))), docs, name)

    def test_jsonl_content_field_blank_lines_and_bad_json(self):
        p = self.write("c.jsonl", '{"content": "c1"}\n\n{"text": ""}\n"plain string"\n')
        self.assertEqual(list(prepare.read_documents(p)), ["c1", "plain string"])
        p = self.write("bad.jsonl", '{"text": "ok"}\n{not json\n')
        with self.assertRaisesRegex(ValueError, r"bad\.jsonl:2"):
            list(prepare.read_documents(p))

    def test_unsupported_file(self):
        with self.assertRaisesRegex(ValueError, "unsupported"):
            list(prepare.read_documents(self.write("x.csv", "a,b")))

    @unittest.skipUnless(has("pyarrow"), "pyarrow not installed")
    def test_parquet(self):
        import pyarrow as pa
        import pyarrow.parquet as pq
        path = os.path.join(self.dir, "p.parquet")
        pq.write_table(pa.table({"text": ["one", "two", ""]}), path, row_group_size=2)
        self.assertEqual(list(prepare.read_documents(path)), ["one", "two"])


class SourceTest(TempDir):
    def test_folder_with_named_val_file(self):
        self.write_jsonl("data/train-00.jsonl.gz", ["a"])
        self.write_jsonl("data/train-01.jsonl.gz", ["b"])
        self.write_jsonl("data/val.jsonl.gz", ["v"])
        os.environ["AUTORESEARCH_DATA"] = os.path.join(self.dir, "data")
        s = prepare.resolve_source()
        self.assertEqual([os.path.basename(f) for f in s.train_files], ["train-00.jsonl.gz", "train-01.jsonl.gz"])
        self.assertEqual([os.path.basename(f) for f in s.val_files], ["val.jsonl.gz"])
        self.assertEqual(list(s.documents("val")), ["v"])
        # the cache key does not depend on where the folder lies
        shutil.copytree(os.path.join(self.dir, "data"), os.path.join(self.dir, "moved", "data"))
        os.environ["AUTORESEARCH_DATA"] = os.path.join(self.dir, "moved", "data")
        self.assertEqual(prepare.resolve_source().key, s.key)

    def test_folder_without_val_name_holds_out_the_last_file(self):
        self.write("d/a.txt", "A")
        self.write("d/b.txt", "B")
        os.environ["AUTORESEARCH_DATA"] = os.path.join(self.dir, "d")
        s = prepare.resolve_source()
        self.assertEqual((list(s.documents("train")), list(s.documents("val"))), (["A"], ["B"]))

    def test_single_file_holds_out_every_50th_document(self):
        docs = [f"doc {i}" for i in range(120)]
        os.environ["AUTORESEARCH_DATA"] = self.write_jsonl("one.jsonl", docs)
        s = prepare.resolve_source()
        self.assertEqual(list(s.documents("val")), ["doc 49", "doc 99"])
        self.assertEqual(len(list(s.documents("train"))), 118)

    def test_explicit_val_data_and_relative_paths(self):
        self.write("ws/corpus/a.txt", "A")
        self.write("ws/heldout.txt", "H")
        os.environ["AUTORESEARCH_WORKSPACE"] = os.path.join(self.dir, "ws")
        os.environ["AUTORESEARCH_DATA"] = "corpus"
        os.environ["AUTORESEARCH_VAL_DATA"] = "heldout.txt"
        s = prepare.resolve_source()
        self.assertEqual((list(s.documents("train")), list(s.documents("val"))), (["A"], ["H"]))

    def test_named_and_unknown_datasets(self):
        os.environ["AUTORESEARCH_DATASET"] = "climbmix"
        s = prepare.resolve_source(num_shards=3)
        self.assertEqual([os.path.basename(f) for f in s.train_files],
                         ["shard_00000.parquet", "shard_00001.parquet", "shard_00002.parquet"])
        self.assertEqual(os.path.basename(s.val_files[0]), "shard_06542.parquet")
        # the validation shard is downloaded apart, under data/validation/ (hidden from training)
        self.assertTrue(s.val_files[0].startswith(prepare.validation_root() + os.sep), s.val_files[0])
        self.assertFalse(any(f.startswith(prepare.validation_root()) for f in s.train_files))
        os.environ["AUTORESEARCH_DATASET"] = "nope"
        with self.assertRaises(SystemExit):
            prepare.resolve_source()

    def test_time_budget_env_and_no_torch_import(self):
        code = "import sys, prepare; print(prepare.TIME_BUDGET, 'torch' in sys.modules, 'numpy' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], cwd=TEMPLATE, capture_output=True, text=True,
                             env={**os.environ, "AUTORESEARCH_TIME_BUDGET": "42"}, check=True).stdout
        self.assertEqual(out.split(), ["42.0", "False", "False"])


# ---------------------------------------------------------------------------
# Downloader against a local HTTP server
# ---------------------------------------------------------------------------

PAYLOAD = bytes(range(256)) * 4096          # 1 MiB


class FlakyHandler(http.server.BaseHTTPRequestHandler):
    """Plays a script of behaviours, one per request: 'unavailable' (503), 'cut' (promises the
    whole file, sends half, closes), 'ok' (honours Range with 206), 'ignore-range' (always 200
    with the whole file), 'missing' (404)."""

    script = []
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        FlakyHandler.requests.append(rng)
        action = FlakyHandler.script.pop(0) if FlakyHandler.script else "ok"
        if action == "unavailable":
            self.send_error(503, "try later")
            return
        if action == "missing":
            self.send_error(404, "no such file")
            return
        start = int(rng.split("=")[1].split("-")[0]) if rng and action != "ignore-range" else 0
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if action == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class DownloadTest(TempDir):
    def setUp(self):
        super().setUp()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/shard.bin"
        FlakyHandler.requests = []

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        super().tearDown()

    def fetch(self, script, **kw):
        FlakyHandler.script = list(script)
        dest = os.path.join(self.dir, "dl", "shard.bin")
        return dest, prepare.download(self.url, dest, backoff=0.01, timeout=10, chunk_size=4096, quiet=True, **kw)

    def test_retries_after_503_and_resumes_a_cut_transfer(self):
        dest, _ = self.fetch(["unavailable", "cut", "ok"])
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), PAYLOAD)
        self.assertFalse(os.path.exists(dest + ".part"))
        self.assertEqual(FlakyHandler.requests[:2], [None, None])
        self.assertEqual(FlakyHandler.requests[2], f"bytes={len(PAYLOAD) // 2}-")

    def test_a_server_ignoring_range_restarts_the_file(self):
        dest, _ = self.fetch(["cut", "ignore-range"])
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), PAYLOAD)
        self.assertTrue(FlakyHandler.requests[1].startswith("bytes="))

    def test_gives_up_after_the_attempts(self):
        with self.assertRaisesRegex(RuntimeError, "after 3 attempts.*HTTP 503"):
            self.fetch(["unavailable"] * 3, attempts=3)

    def test_404_is_final(self):
        with self.assertRaisesRegex(RuntimeError, "HTTP 404"):
            self.fetch(["missing", "ok"])
        self.assertEqual(len(FlakyHandler.requests), 1)


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------


@unittest.skipUnless(has("regex"), "regex not installed")
class TokenizerTest(TempDir):
    @classmethod
    def setUpClass(cls):
        cls.tokens = prepare.train_bpe_python([TEXT] * 3, 400)

    def test_trained_tokens(self):
        self.assertEqual(self.tokens[:256], [bytes([b]) for b in range(256)])
        self.assertEqual(len(set(self.tokens)), len(self.tokens))
        self.assertGreater(len(self.tokens), 300)
        self.assertIn(b" the", self.tokens)

    def test_round_trip_and_byte_counts(self):
        tok = prepare.Tokenizer(self.tokens, backend="python")
        for text in [TEXT, "", "   leading spaces", "tabs\tand\r\nnewlines\n\n", "\U0001F600\U0001F601 mixed \u00e9t\u00e9 123456789"]:
            ids = tok.encode(text)
            self.assertEqual(tok.decode(ids), text)
            self.assertNotIn(prepare.BOS_ID, ids)
            lengths = tok.token_byte_lengths()
            self.assertEqual(sum(lengths[i] for i in ids), len(text.encode("utf-8")))
        self.assertLess(len(tok.encode(TEXT)), len(TEXT.encode("utf-8")) / 2)
        self.assertEqual(tok.token_byte_lengths()[prepare.BOS_ID], 0)
        self.assertEqual(len(tok.token_byte_lengths()), prepare.VOCAB_SIZE)

    def test_save_and_load(self):
        path = os.path.join(self.dir, "tok.txt")
        prepare.save_bpe(path, self.tokens)
        tokens, pattern = prepare.load_bpe(path)
        self.assertEqual((tokens, pattern), (self.tokens, prepare.SPLIT_PATTERN))

    @unittest.skipUnless(has("tiktoken"), "tiktoken not installed")
    def test_tiktoken_encodes_like_the_python_encoder(self):
        py = prepare.Tokenizer(self.tokens, backend="python")
        tk = prepare.Tokenizer(self.tokens, backend="tiktoken")
        self.assertEqual(tk.backend, "tiktoken")
        sample = TEXT + " Zebras? 1234567 \u00fcber-cool\n\n\tx"
        self.assertEqual(tk.encode(sample), py.encode(sample))
        self.assertEqual(tk.encode_batch([sample, "abc"]), [py.encode(sample), py.encode("abc")])

    @unittest.skipUnless(has("tokenizers"), "tokenizers not installed")
    def test_tokenizers_trainer(self):
        tokens = prepare._train_with_tokenizers(iter([TEXT] * 3), 400)
        self.assertEqual(tokens[:256], [bytes([b]) for b in range(256)])
        self.assertGreater(len(tokens), 300)
        tok = prepare.Tokenizer(tokens)
        self.assertEqual(tok.decode(tok.encode(TEXT)), TEXT)
        self.assertLess(len(tok.encode(TEXT)), len(TEXT.encode("utf-8")) / 2)


# ---------------------------------------------------------------------------
# Preparation and packing
# ---------------------------------------------------------------------------


@unittest.skipUnless(has("regex") and has("numpy"), "regex and numpy needed")
class PrepareTest(TempDir):
    def make_corpus(self):
        import random
        rng = random.Random(0)
        words = TEXT.split() + ["lorem", "ipsum", "dolor", "sit", "amet"]
        docs = [" ".join(rng.choice(words) for _ in range(rng.randint(5, 400))) for _ in range(300)]
        docs.append(" ".join(rng.choice(words) for _ in range(6000)))     # longer than a row
        self.write_jsonl("corpus/train.jsonl.gz", docs)
        self.write_jsonl("corpus/val.jsonl", docs[:40])
        os.environ["AUTORESEARCH_DATA"] = os.path.join(self.dir, "corpus")
        return docs

    def test_prepare_writes_bos_aligned_pieces_that_decode_to_the_text(self):
        import numpy as np
        docs = self.make_corpus()
        folder = prepare.prepare_data()
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        self.assertEqual(meta["train_files"], ["train_0000.bin"])
        tok = prepare.load_tokenizer()
        arr = np.asarray(prepare.load_token_file(os.path.join(folder, "train_0000.bin")))
        self.assertEqual(len(arr), meta["train_tokens"])
        table = prepare.DocTable([arr])
        self.assertEqual(arr[0], prepare.BOS_ID)
        self.assertLessEqual(int(table.length.max()), prepare.MAX_SEQ_LEN + 1)
        self.assertGreater(len(table), len(docs))          # the long document was cut into pieces
        text = tok.decode(arr[arr != prepare.BOS_ID].tolist())
        self.assertEqual(text, "".join(docs))
        # a second call finds everything ready; the tokenizer file is reused
        mtime = os.path.getmtime(os.path.join(folder, "tokenizer.txt"))
        self.assertEqual(prepare.prepare_data(), folder)
        self.assertEqual(os.path.getmtime(os.path.join(folder, "tokenizer.txt")), mtime)

    def test_packer_rows_are_full_and_start_with_bos(self):
        import numpy as np
        self.make_corpus()
        folder = prepare.prepare_data()
        table = prepare._train_table(folder)
        packer = prepare.Packer(table, iter(np.random.default_rng(0).permutation(len(table))), 257, buffer_docs=50)
        rows = np.full((40, 257), -1, dtype=np.int64)
        self.assertEqual(packer.fill(rows), 40)
        self.assertTrue((rows[:, 0] == prepare.BOS_ID).all())
        self.assertTrue((rows >= 0).all())                 # no padding anywhere
        # every BOS in a row starts a document piece that is either whole or cropped at the row's end
        whole = 0
        for row in rows:
            starts = list(np.flatnonzero(row == prepare.BOS_ID)) + [len(row)]
            whole += len(starts) - 2
        self.assertGreater(whole, 0)

    def test_training_preparation_never_touches_the_validation_split(self):
        import numpy as np
        self.make_corpus()
        # the validation file is broken: preparing and loading training data must not read it
        val_file = os.path.join(self.dir, "corpus", "val.jsonl")
        with open(val_file, "rb") as f:
            good = f.read()
        with open(val_file, "wb") as f:                      # the same size: the same source key
            f.write((b"{not json\n" * (len(good) // 10 + 1))[:len(good)])
        key = prepare.resolve_source().key
        try:
            folder = prepare.prepare_data()
            self.assertGreater(len(prepare._train_table(folder)), 0)
        finally:
            with open(val_file, "wb") as f:
                f.write(good)
        self.assertEqual(prepare.resolve_source().key, key)
        self.assertFalse(os.path.exists(prepare.validation_root()))
        self.assertFalse(any(name.startswith("val") for name in os.listdir(folder)))
        # the evaluate step's preparation puts the validation tokens apart
        vfolder = prepare.prepare_validation()
        self.assertEqual(os.path.dirname(vfolder), prepare.validation_root())
        self.assertTrue(os.path.exists(os.path.join(vfolder, "val.bin")))
        rows = prepare.validation_rows()
        with self.assertRaises(ValueError):
            rows.setflags(write=True)        # no code can make the pinned rows writable again

    def test_default_data_folder_is_in_the_workspace(self):
        del os.environ["AUTORESEARCH_CACHE"]
        os.environ["AUTORESEARCH_WORKSPACE"] = os.path.join(self.dir, "ws")
        self.assertEqual(prepare.cache_dir(), os.path.join(self.dir, "ws", "data"))
        self.assertEqual(prepare.validation_root(), os.path.join(self.dir, "ws", "data", "validation"))

    def test_validation_rows_are_pinned(self):
        self.make_corpus()
        a = prepare.validation_rows().copy()
        prepare._VAL_ROWS = None
        b = prepare.validation_rows()
        self.assertTrue((a == b).all())
        self.assertEqual(a.shape[1], prepare.MAX_SEQ_LEN + 1)
        self.assertTrue((a[:, 0] == prepare.BOS_ID).all())



class HeldoutSplitTest(TempDir):
    """The held-out split (AUTORESEARCH_SPLIT=heldout, evaluate step only): its documents are in
    neither val.bin nor the training tokens."""

    def markers(self, path):
        import re
        import numpy as np
        arr = np.asarray(prepare.load_token_file(path))
        text = prepare.load_tokenizer().decode(arr[arr != prepare.BOS_ID].tolist())
        return set(re.findall(r"\bmark(\d+)x\b", text))

    def corpus(self):
        import random
        rng = random.Random(1)
        words = TEXT.split()
        doc = lambda i: f"mark{i}x " + " ".join(rng.choice(words) for _ in range(rng.randint(20, 300)))
        self.write_jsonl("corpus/train.jsonl", [doc(i) for i in range(200)])
        self.write_jsonl("corpus/val.jsonl", [doc(i) for i in range(1000, 1400)])
        os.environ["AUTORESEARCH_DATA"] = os.path.join(self.dir, "corpus")

    def setUp(self):
        super().setUp()
        self.eval_tokens = prepare.EVAL_TOKENS
        prepare.EVAL_TOKENS = 8 * prepare.MAX_SEQ_LEN      # a short evaluation: the val source has more

    def tearDown(self):
        prepare.EVAL_TOKENS = self.eval_tokens
        super().tearDown()

    def test_heldout_is_disjoint_from_val_and_train(self):
        import numpy as np
        self.corpus()
        train = self.markers(os.path.join(prepare.prepare_data(), "train_0000.bin"))
        vfolder = prepare.prepare_validation()
        val = self.markers(os.path.join(vfolder, "val.bin"))
        self.assertFalse(os.path.exists(os.path.join(vfolder, "heldout.bin")), "made on first use only")
        folder = prepare.prepare_heldout()
        self.assertEqual(folder, vfolder)                    # hidden from training with the validation folder
        held = self.markers(os.path.join(folder, "heldout.bin"))
        self.assertGreater(len(held), 10)
        self.assertGreater(len(val), 10)
        self.assertEqual(held & val, set())
        self.assertEqual(held & train, set())
        self.assertTrue(all(1000 <= int(m) < 1400 for m in held | val))
        # the evaluation reads it only when told: validation_rows() scores val.bin, then heldout.bin
        a = prepare.validation_rows().copy()
        prepare._VAL_ROWS = None
        os.environ["AUTORESEARCH_SPLIT"] = "heldout"
        b = prepare.validation_rows()
        self.assertEqual(a.shape, b.shape)
        self.assertFalse(np.array_equal(a, b))
        prepare._VAL_ROWS = None
        os.environ["AUTORESEARCH_SPLIT"] = "test"
        with self.assertRaises(SystemExit):
            prepare.validation_rows()

    def test_validation_prepared_before_the_split_existed(self):
        # an older cache: meta.json without val_docs; the held-out split counts what val.bin read
        self.corpus()
        vfolder = prepare.prepare_validation()
        meta_path = os.path.join(vfolder, "meta.json")
        with open(meta_path) as f:
            meta = json.load(f)
        skipped = meta.pop("val_docs")
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        prepare.prepare_heldout()
        with open(os.path.join(vfolder, "heldout.json")) as f:
            self.assertEqual(json.load(f)["skipped_docs"], skipped)
        self.assertEqual(self.markers(os.path.join(vfolder, "heldout.bin")) & self.markers(os.path.join(vfolder, "val.bin")), set())

    def test_too_little_validation_data_says_so(self):
        self.corpus()
        self.write_jsonl("corpus/val.jsonl", ["mark1x a short one", "mark2x another"])
        with self.assertRaises(SystemExit) as e:
            prepare.prepare_heldout()
        self.assertIn("no held-out documents", str(e.exception))


if __name__ == "__main__":
    unittest.main()
