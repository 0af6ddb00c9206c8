"""Sentiment scoring speed: Undertow's engine next to plain PyTorch and sentence-transformers.

Run: ``.venv/bin/python benchmarks/scoring.py [--n 512] [--threads 2] [--write]``

Same texts, same run, same thread count for every engine:
- ``plain torch fp32``: ``AutoModel`` forward, batches of 32 in input order, padded to the
  batch's longest text, cut at 256 tokens (what a first implementation does);
- ``sentence-transformers encode``: the library's own batching (it sorts by length);
- ``undertow <variant>``: the scorer (tokenize, windows of 128, length buckets, dynamic
  padding, pooling, calibrated head) with the int8 ONNX encoder that is served (eager-
  attention export, outlier channels smoothed, per-channel dynamic int8, each batch split
  into one part per core), plus the fp32 ONNX and fp32 torch encoders through the same
  scorer for reference.
Two text sets: every text ~60 tokens, and a mix of lengths drawn like a support inbox
(70% single sentences, 25% short paragraphs, 5% long tickets of several hundred tokens).
The fp32 bound is numpy's sgemm throughput divided by the model's GFLOP per 60-token text.
Accuracy: the int8 scorer against the torch fp32 scorer on the held-out UCI and tweet
rows of the shared data (two-class accuracy / three-class macro-F1), and how many of those
rows get another label from int8 than from fp32.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def sgemm_gflops(n: int = 2048, reps: int = 10) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def model_gflop_per_text(tokens: int, layers: int = 6, d: int = 384, ff: int = 1536) -> float:
    dense = 2 * tokens * (4 * d * d + 2 * d * ff)
    attention = 2 * 2 * tokens * tokens * d
    return layers * (dense + attention) / 1e9


def make_texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """(~60-token texts, a realistic mix of lengths) built from the shared sentences."""
    from nlp.sentiment import load_tokenizer
    from nlp.sentiment.data import load_corpus

    rng = np.random.default_rng(seed)
    sentences = load_corpus()["text"].tolist()
    tok = load_tokenizer(None)
    fixed = []
    while len(fixed) < n:
        ids: list[int] = []
        while len(ids) < 58:
            ids += tok(sentences[rng.integers(len(sentences))], add_special_tokens=False)[
                "input_ids"
            ]
        fixed.append(tok.decode(ids[:58]))
    mix = []
    for _ in range(n):
        r = rng.random()
        k = 1 if r < 0.70 else (int(rng.integers(3, 7)) if r < 0.95 else int(rng.integers(20, 40)))
        mix.append(" ".join(sentences[i] for i in rng.integers(len(sentences), size=k)))
    return fixed, mix


def plain_torch(texts: list[str], batch: int = 32) -> float:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from nlp.encoder import base_model_path

    tok = AutoTokenizer.from_pretrained(base_model_path())
    model = AutoModel.from_pretrained(base_model_path()).eval()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for s in range(0, len(texts), batch):
            enc = tok(
                texts[s : s + batch],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            model(**enc).last_hidden_state.mean(1)
    return len(texts) / (time.perf_counter() - t0)


def st_encode(texts: list[str], batch: int = 32) -> float:
    from sentence_transformers import SentenceTransformer

    from nlp.encoder import base_model_path

    model = SentenceTransformer(base_model_path(), device="cpu")
    t0 = time.perf_counter()
    model.encode(texts, batch_size=batch)
    return len(texts) / (time.perf_counter() - t0)


def engine(scorer: object, texts: list[str]) -> float:
    t0 = time.perf_counter()
    scorer.score_texts(texts)  # type: ignore[attr-defined]
    return len(texts) / (time.perf_counter() - t0)


def accuracy_check(scorers: dict[str, object]) -> dict[str, dict[str, float]]:
    from nlp.evaluation import label_classes, metrics_from_probs, model_predictions
    from nlp.sentiment.data import load_corpus

    df = load_corpus()
    test = df[df["split"] == "test"]
    out: dict[str, dict[str, float]] = {}
    labels: dict[str, dict[str, np.ndarray]] = {}
    for name, scorer in scorers.items():
        res = {}
        labels[name] = {}
        for label, mask in (
            ("uci_accuracy", test["source"].str.startswith("uci")),
            ("tweets_macro_f1", test["source"] == "vader_tweets"),
        ):
            sub = test[mask]
            probs = scorer.score_texts(sub["text"].tolist())[  # type: ignore[attr-defined]
                ["p_negative", "p_neutral", "p_positive"]
            ].to_numpy()
            m = metrics_from_probs(
                probs, sub["text"].tolist(), sub["label"].to_numpy(), baseline=False
            )
            res[label] = m["accuracy"] if label == "uci_accuracy" else m["macro_f1"]
            res[f"{label}_n"] = len(sub)
            y = sub["label"].to_numpy()
            labels[name][label] = model_predictions(probs, label_classes(y))[0]
        out[name] = res
    names = list(scorers)
    for label, pred in labels[names[0]].items():  # rows the first scorer labels differently
        out[names[0]][f"{label}_changed"] = int((pred != labels[names[-1]][label]).sum())
    return out


ENGINES = (
    "plain transformers fp32 forward",
    "sentence-transformers encode",
    "undertow onnx-int8",
    "undertow onnx-fp32",
    "undertow torch-fp32",
)


def child(name: str, texts_file: Path, threads: int, data_dir: Path) -> None:
    """Measure one engine in this fresh process (no other runtime's threads around)."""
    import json

    import torch

    torch.set_num_threads(threads)
    sets = json.loads(texts_file.read_text())
    if name.startswith("undertow "):
        from ingest.settings import Settings
        from nlp.sentiment import load_scorer

        scorer = load_scorer(Settings(data_dir=data_dir), variant=name.split()[1])
        scorer.score_texts(sets["60"][:32])  # warm-up, as the others get below
        fn = lambda t: engine(scorer, t)  # noqa: E731
    elif name.startswith("plain"):
        plain_torch(sets["60"][:32])
        fn = plain_torch
    else:
        st_encode(sets["60"][:32])
        fn = st_encode
    print(json.dumps({k: fn(v) for k, v in sets.items()}))


def main() -> None:
    import json
    import subprocess

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="append the table to RESULTS.md")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--texts", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ["UNDERTOW_THREADS"] = str(args.threads)
    data_dir = Path(os.environ.get("UNDERTOW_DATA_DIR") or tempfile.mkdtemp())
    os.environ["UNDERTOW_DATA_DIR"] = str(data_dir)
    if args.child:
        child(args.child, Path(args.texts), args.threads, data_dir)
        return
    from ingest.settings import Settings
    from nlp.sentiment import load_scorer

    fixed, mix = make_texts(args.n)
    texts_file = data_dir / "bench_texts.json"
    texts_file.write_text(json.dumps({"60": fixed, "mix": mix}))
    for variant in ("onnx-int8", "onnx-fp32"):  # build the exports before timing anything
        load_scorer(Settings(data_dir=data_dir), variant=variant)
    best: dict[str, dict[str, float]] = {k: {"60": 0.0, "mix": 0.0} for k in ENGINES}
    for _ in range(args.rounds):  # interleaved rounds, best of each: fairer on a shared box
        for name in ENGINES:
            out = (
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        name,
                        "--texts",
                        str(texts_file),
                        "--threads",
                        str(args.threads),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for k, v in json.loads(out).items():
                best[name][k] = max(best[name][k], v)
    import torch

    torch.set_num_threads(args.threads)
    gflops = sgemm_gflops()
    bound = gflops / model_gflop_per_text(60)
    scorers = {
        v: load_scorer(Settings(data_dir=data_dir), variant=v) for v in ("onnx-int8", "torch-fp32")
    }
    acc = accuracy_check(scorers)
    ref = best["plain transformers fp32 forward"]
    lines = [
        f"## Sentiment scoring (benchmarks/scoring.py, {time.strftime('%Y-%m-%d')})",
        "",
        f"Command: `.venv/bin/python benchmarks/scoring.py --n {args.n} --threads {args.threads}"
        f" --rounds {args.rounds}`; machine: {os.cpu_count()} vCPU ({platform.machine()}), "
        f"no GPU, shared with other jobs; {args.threads} threads for every engine, each engine "
        f"in its own process after a warm-up batch; best of {args.rounds} interleaved rounds.",
        "",
        "| engine | texts/s, 60 tokens | x plain | texts/s, length mix | x plain |",
        "|---|---|---|---|---|",
    ]
    for name, r in best.items():
        lines.append(
            f"| {name} | {r['60']:.0f} | {r['60'] / ref['60']:.2f} | {r['mix']:.0f} | "
            f"{r['mix'] / ref['mix']:.2f} |"
        )
    lines += [
        "",
        f"fp32 bound: numpy sgemm {gflops:.0f} GFLOP/s / {model_gflop_per_text(60):.3f} GFLOP "
        f"per 60-token text = {bound:.0f} texts/s.",
        "",
        "Accuracy of the served int8 engine vs torch fp32 (held-out shared data): "
        + "; ".join(
            f"{k}: {acc['onnx-int8'][k]:.4f} vs {acc['torch-fp32'][k]:.4f} "
            f"({acc['onnx-int8'][k] - acc['torch-fp32'][k]:+.4f}; "
            f"{acc['onnx-int8'][k + '_changed']} of {acc['onnx-int8'][k + '_n']} rows labelled "
            "differently)"
            for k in ("uci_accuracy", "tweets_macro_f1")
        ),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        with (Path(__file__).with_name("RESULTS.md")).open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
