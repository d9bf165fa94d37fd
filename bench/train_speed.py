"""Training speed: labelled-positions loss vs full-logits loss, and packing / dynamic padding
vs padding every sample to max_seq_length (what the seed's MultiTurnDataset does).

Every variant trains (LoRA, forward + backward + AdamW step) on the *same* samples in the
same order, each in a fresh subprocess so that its peak memory is its own:

    python bench/train_speed.py --model gemma-270m --samples 12 --max-length 768
    python bench/train_speed.py --model tiny          # a 2-layer random model, seconds

Prints a table and writes bench/results/train_speed-<model>.json. Columns: real tokens/s
(tokens of the samples, padding excluded), slots/s (positions computed, padding included),
wall seconds for the whole set, and the peak memory of the training steps (CUDA: max
allocated; CPU: peak RSS above the RSS after loading, i.e. what the steps themselves added).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

VARIANTS = [
    # name, collate, loss
    ("pack + labelled loss (calltune default)", "pack", "labelled"),
    ("pack + full-logits loss", "pack", "full"),
    ("dynamic padding + labelled loss", "pad", "labelled"),
    ("dynamic padding + full-logits loss", "pad", "full"),
    ("pad to max_length + full-logits loss (seed)", "max", "full"),
]


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(model: str, workdir: Path, n_samples: int, max_length: int) -> dict:
    """Save the model as an HF dir (fast to load in each subprocess) and encode the samples."""
    import torch

    from calltune.train.artifacts import load_model, load_tokenizer
    from calltune.train.encode import add_format_tokens, encode_dataset
    from calltune.train.synth import generate

    mdir = workdir / "model"
    if model == "tiny":
        from calltune.testing import fresh_tokenizer, tiny_model

        tok = fresh_tokenizer()
        add_format_tokens(tok, "chatglm3")
        m = tiny_model(len(tok))
    else:
        tok = load_tokenizer(model)
        m = load_model(model, dtype=torch.float32)
        add_format_tokens(tok, "chatglm3", m)
    m.save_pretrained(str(mdir))
    tok.save_pretrained(str(mdir))
    enc, st = encode_dataset(generate(n_samples, seed=11), tok, "chatglm3", max_length)
    data = [e.to_dict() for e in enc]
    (workdir / "samples.json").write_text(json.dumps(data))
    return {
        "samples": len(data),
        "tokens": st.tokens,
        "label_tokens": st.label_tokens,
        "pad_id": tok.pad_token_id,
    }


def run_variant(
    workdir: Path, collate: str, loss_mode: str, batch_size: int, max_length: int, pad_id: int
) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from calltune.train.collate import Collator, batch_tokens, make_units
    from calltune.train.loss import lm_loss

    torch.manual_seed(0)
    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    samples = json.loads((workdir / "samples.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(str(workdir / "model"), dtype=torch.float32).to(dev)
    model = get_peft_model(
        model, LoraConfig(task_type="CAUSAL_LM", r=16, lora_alpha=32, target_modules="all-linear")
    )
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    units = make_units(samples, collate, max_length, seed=None)
    col = Collator(collate, pad_id=pad_id, max_length=max_length)
    batches = [col(units[i : i + batch_size]) for i in range(0, len(units), batch_size)]
    # warm-up step on the first batch (not timed), then reset the model-independent peak counters
    b0 = {k: v.to(dev) for k, v in batches[0].items()}
    loss, _ = lm_loss(model, b0, loss_mode)
    loss.backward()
    opt.zero_grad()
    base_rss = _rss_mb()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_cuda = torch.cuda.memory_allocated() / 2**20
    real = slots = labelled = 0
    losses = []
    t0 = time.perf_counter()
    for b in batches:
        r, s, n = batch_tokens(b)
        real, slots, labelled = real + r, slots + s, labelled + n
        b = {k: v.to(dev) for k, v in b.items()}
        loss, _ = lm_loss(model, b, loss_mode)
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
    if cuda:
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    peak = (torch.cuda.max_memory_allocated() / 2**20 - base_cuda) if cuda else (_peak_rss_mb() - base_rss)
    return {
        "device": dev,
        "batches": len(batches),
        "real_tokens": real,
        "slots": slots,
        "label_tokens": labelled,
        "seconds": round(dt, 2),
        "real_tokens_per_s": round(real / dt, 1),
        "slots_per_s": round(slots / dt, 1),
        "peak_mem_mb": round(peak, 1),
        "first_loss": round(losses[0], 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gemma-270m", help="gemma-270m, an HF dir, a .gguf, or 'tiny'")
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=4, help="rows per step (packs or samples)")
    ap.add_argument("--max-length", type=int, default=768)
    ap.add_argument("--only", default="", help="comma-separated variant indices to run (default all)")
    ap.add_argument("--_variant", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_workdir", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_pad", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._variant:  # child process
        collate, loss_mode = a._variant.split(":")
        res = run_variant(Path(a._workdir), collate, loss_mode, a.batch_size, a.max_length, a._pad)
        print("RESULT " + json.dumps(res))
        return
    with tempfile.TemporaryDirectory(prefix="calltune-bench-") as td:
        work = Path(td)
        t = time.time()
        info = prepare(a.model, work, a.samples, a.max_length)
        print(
            f"prepared {info['samples']} samples ({info['tokens']} tokens, {info['label_tokens']} labelled) "
            f"in {time.time() - t:.0f}s",
            flush=True,
        )
        rows = []
        idx = [int(i) for i in a.only.split(",")] if a.only else range(len(VARIANTS))
        for i in idx:
            name, collate, loss_mode = VARIANTS[i]
            cmd = [
                sys.executable,
                __file__,
                "--_variant",
                f"{collate}:{loss_mode}",
                "--_workdir",
                str(work),
                "--_pad",
                str(info["pad_id"] or 0),
                "--batch-size",
                str(a.batch_size),
                "--max-length",
                str(a.max_length),
            ]
            p = subprocess.run(
                cmd, capture_output=True, text=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}
            )
            line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
            if p.returncode or not line:
                print(f"{name}: failed\n{p.stderr[-2000:]}")
                continue
            res = {"variant": name, "collate": collate, "loss": loss_mode, **json.loads(line[0][7:])}
            rows.append(res)
            print(
                f"{name}: {res['real_tokens_per_s']} tok/s, {res['seconds']}s, peak +{res['peak_mem_mb']} MB",
                flush=True,
            )
    hdr = f"{'variant':46} {'tok/s':>8} {'slots/s':>8} {'seconds':>8} {'peak MB':>8} {'slots':>7} {'loss':>7}"
    print("\n" + hdr + "\n" + "-" * len(hdr))
    for r in rows:
        print(
            f"{r['variant']:46} {r['real_tokens_per_s']:8.1f} {r['slots_per_s']:8.1f} {r['seconds']:8.1f} "
            f"{r['peak_mem_mb']:8.1f} {r['slots']:7d} {r['first_loss']:7.3f}"
        )
    out = HERE / "results" / f"train_speed-{Path(a.model).name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "model": a.model,
                "samples": info,
                "batch_size": a.batch_size,
                "max_length": a.max_length,
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
