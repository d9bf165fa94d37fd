"""How fast a student learns the role markers calltune adds to its vocabulary.

Gemma has no ``<|user|>`` / ``<|observation|>``: ``calltune train`` adds the ChatGLM3 markers as
tokens whose rows start at the mean embedding, and the student must learn to emit
``<|observation|>`` after a call and ``<|user|>`` after an answer — without that it never stops.
Each variant trains Gemma 3 270M for ``--steps`` steps (batch 1, rows of 2048 tokens) on
``--data`` and then scores the held-out split (``--eval-ratio`` 0.05, the same samples for every
variant): the mean probability and the negative log-likelihood of the labelled marker tokens,
and the NLL of every other labelled token.

Variants are ``METHOD:MARKER_LR_SCALE[:mean]``: ``lora:10`` is LoRA with the markers' rows at
10 × the lr (``--marker-lr``), ``full:1`` full fine-tuning (one lr for every weight); the two
stop markers start at the row of Gemma's ``<eos>`` (``calltune train``'s default), or with
``:mean`` at the mean row like the other markers (what ``calltune train`` did before).

    nice python bench/marker_rows.py --steps 12 --variants lora:1:mean,lora:10:mean,lora:30:mean,lora:10,full:1:mean,full:1

Prints a table and writes bench/results/marker_rows.json.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result  # noqa: E402


def run_variant(spec: str, steps: int, data: str, eval_ratio: float) -> dict[str, Any]:
    import torch

    from calltune.train.config import TrainConfig
    from calltune.train.trainer import Trainer

    method, scale, *rest = spec.split(":")
    mean_init = rest == ["mean"]

    class Variant(Trainer):
        def load_base_model(self) -> Any:
            model = super().load_base_model()
            if mean_init:  # the stop markers back at the mean row, like the other added ones
                w = model.get_input_embeddings().weight
                first = min(self.new_token_ids)
                with torch.no_grad():
                    for marker in ("<|user|>", "<|observation|>"):
                        w[self.tokenizer.convert_tokens_to_ids(marker)] = w[:first].mean(0)
            return model

    lr = 2e-4 if method == "lora" else 5e-5
    cfg = TrainConfig(
        model="gemma-270m",
        data=[data],
        out=f"/tmp/marker-rows-{spec.replace(':', '-')}",
        method=method,
        max_steps=steps,
        batch_size=1,
        grad_accum=1,
        max_length=2048,
        lr=lr,
        marker_lr=lr * float(scale),
        save_every=0,
        eval_every=0,
        eval_ratio=eval_ratio,
        progress=False,
    )
    tr = Variant(cfg, log=lambda m: None)
    t0 = time.time()
    result = tr.train()
    markers = set(tr.new_token_ids)
    model = tr.model
    model.eval()
    mk: list[float] = []
    other: list[float] = []
    with torch.no_grad():
        for item in tr.eval_items:
            logp = model(torch.tensor([item.input_ids])).logits[0].float().log_softmax(-1)
            for i in range(1, len(item.labels)):
                if item.labels[i] != -100:
                    (mk if item.labels[i] in markers else other).append(float(logp[i - 1, item.labels[i]]))
    return {
        "variant": spec,
        "steps": steps,
        "seconds": round(time.time() - t0),
        "eval_loss": round(result.eval_loss or 0.0, 4),
        "marker_mean_p": round(sum(math.exp(v) for v in mk) / len(mk), 4),
        "marker_nll": round(-sum(mk) / len(mk), 3),
        "other_nll": round(-sum(other) / len(other), 3),
        "marker_tokens": len(mk),
        "other_tokens": len(other),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--variants", default="lora:1:mean,lora:10:mean,lora:30:mean,lora:10,full:1:mean,full:1")
    ap.add_argument("--data", default="data/gen/kept.jsonl")
    ap.add_argument("--eval-ratio", type=float, default=0.05)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "marker_rows.json"
    )
    args = ap.parse_args(argv)
    rows = []
    for spec in args.variants.split(","):
        rows.append(run_variant(spec, args.steps, args.data, args.eval_ratio))
        print(rows[-1], flush=True)
    cols = ["variant", "marker_mean_p", "marker_nll", "other_nll", "eval_loss", "seconds"]
    print("| " + " | ".join(cols) + " |\n|" + " --- |" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    write_result(args.out, {"bench": "marker_rows", "data": args.data, "steps": args.steps, "results": rows})


if __name__ == "__main__":
    main()
