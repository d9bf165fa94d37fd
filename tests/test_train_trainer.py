"""The training loop end to end on a tiny random Gemma 3 (real tokenizer): LoRA / P-Tuning v2 /
full, outputs, checkpoints + resume, merge, AgentTuning mixture, 2-process accelerate launch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_helpers import save_tiny

from calltune.train.artifacts import load_trained
from calltune.train.data import write_samples
from calltune.train.synth import generate
from calltune.train.trainer import TrainConfig, Trainer, TrainError, train

# needs the real 262k-token Gemma 3 tokenizer (~10 s to load, ~30 s the first time)
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    base = save_tiny(d / "tiny")
    write_samples(d / "agent.jsonl", generate(24, seed=7))
    general = [
        {
            "conversations": [
                {"role": "user", "content": f"Say {w}."},
                {"role": "assistant", "content": f"{w}!"},
            ]
        }
        for w in ["yes", "no", "maybe", "hello", "bye", "thanks"] * 3
    ]
    write_samples(d / "general.jsonl", general)
    return d, base


def cfg(setup, name, **kw) -> TrainConfig:
    d, base = setup
    args = dict(
        model=str(base),
        data=[str(d / "agent.jsonl")],
        out=str(d / name),
        max_steps=2,
        batch_size=2,
        grad_accum=1,
        max_length=768,
        eval_ratio=0.1,
        eval_every=0,
        save_every=0,
        progress=False,
        lr=1e-2,
    )
    args.update(kw)
    return TrainConfig(**args)


def test_lora_output_checkpoints_and_resume(setup):
    c = cfg(setup, "lora", max_steps=3, save_every=2, eval_every=2)
    r = train(c)
    out = Path(c.out)
    assert r.steps == 3 and r.tokens > 0 and r.eval_loss is not None
    meta = json.loads((out / "calltune.json").read_text())
    assert meta == {
        "format": "chatglm3",
        "base_model": str(setup[1]),
        "adapter": True,
        "method": "lora",
        "merged": False,
        "added_tokens": ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"],
    }
    assert (out / "adapter_model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log if "loss" in x] == [1, 2, 3]
    assert "eval_loss" in log[1] and all(x["tokens_per_s"] > 0 for x in log if "loss" in x)
    assert (out / "checkpoints" / "step-2" / "trainer_state.json").is_file()
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["collate"] == "pack" and summary["steps"] == 3 and summary["encode"]["samples"] == 24

    # resume from step 2 and go on to 4: steps 3 and 4 are redone/added, 1-2 are not
    r2 = train(cfg(setup, "lora", max_steps=4, save_every=2, resume=True))
    assert r2.steps == 4
    assert [h["step"] for h in r2.history if "loss" in h] == [3, 4]

    model, tok, meta2 = load_trained(out)
    assert meta2["adapter"] is True and len(tok) == 262148
    ids = tok("<|user|>\nhi<|assistant|>")["input_ids"]
    assert ids[0] == tok.bos_token_id  # the saved tokenizer still adds BOS as in training
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), 262148)


def test_merge_equals_adapter(setup):
    c = cfg(setup, "merged", merge=True)
    train(c)
    merged, tok, meta = load_trained(c.out)
    assert meta["adapter"] is False and meta["merged"] is True
    adapter_dir = Path(c.out) / "adapter"
    (adapter_dir / "calltune.json").write_text(json.dumps({**meta, "adapter": True, "merged": False}))
    with_adapter, _, _ = load_trained(adapter_dir)
    ids = torch.tensor([tok("<|user|>\n2+2?<|assistant|>add\n")["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(
            merged(input_ids=ids).logits, with_adapter(input_ids=ids).logits, rtol=1e-4, atol=1e-4
        )


def test_merged_output_runs_on_the_transformers_engine(setup):
    from calltune.engines import load_engine
    from calltune.engines.base import SamplingParams

    out = Path(setup[0]) / "merged"
    if not (out / "calltune.json").is_file():
        train(cfg(setup, "merged", merge=True))
    eng = load_engine(str(out))
    assert eng.default_format == "chatglm3"
    comp = eng.generate("<|user|>\nhi<|assistant|>", SamplingParams(max_tokens=3, temperature=0.0))
    assert 1 <= comp.completion_tokens <= 3
    assert comp.text == eng.generate("<|user|>\nhi<|assistant|>", SamplingParams(max_tokens=3)).text  # greedy


def test_transformers_engine_adds_bos_like_training(setup):
    from calltune.engines import load_engine
    from calltune.engines.base import SamplingParams

    out = Path(setup[0]) / "merged"
    if not (out / "calltune.json").is_file():
        train(cfg(setup, "merged", merge=True))
    comp = load_engine(str(out)).generate("<|user|>\nhi<|assistant|>", SamplingParams(max_tokens=1))
    assert comp.prompt_tokens == 5  # <bos> <|user|> \n hi <|assistant|>


def test_ptuning_on_gemma3(setup):
    r = train(cfg(setup, "ptuning", method="ptuning", lr=None))
    assert r.summary["collate"] == "pad" and r.summary["config"]["lr"] is None
    assert r.last_loss is not None and r.last_loss == r.last_loss  # finite
    model, tok, meta = load_trained(Path(setup[0]) / "ptuning")
    assert meta["method"] == "ptuning" and type(model).__name__ == "PeftModelForCausalLM"
    with pytest.raises(TrainError, match="prefix tuning cannot use packing"):
        train(cfg(setup, "ptuning2", method="ptuning", collate="pack"))


def test_full_finetune_and_mixture_is_logged(setup):
    d = setup[0]
    c = cfg(setup, "full", method="full", general=[str(d / "general.jsonl")], eta=0.5, max_steps=1, lr=None)
    r = train(c)
    mix = r.summary["mixture"]
    assert mix["eta_target"] == 0.5 and abs(mix["eta_realised"] - 0.5) < 0.05
    assert mix["agent_samples"] == 22  # 24 minus the 10 % eval split
    meta = json.loads((Path(c.out) / "calltune.json").read_text())
    assert meta["adapter"] is False and meta["method"] == "full"
    assert (Path(c.out) / "model.safetensors").is_file()


def test_lora_trains_the_added_marker_rows_at_their_own_rate(setup):
    # the markers' rows barely move at LoRA's lr, so they get their own group (10 x --lr unless
    # --marker-lr); everything else keeps --lr
    def groups(**kw):
        t = Trainer(cfg(setup, "markers", max_steps=1, **kw))
        t.train()
        return sorted(
            ((g["initial_lr"], [tuple(p.shape) for p in g["params"]]) for g in t.optimizer.param_groups),
            key=lambda g: g[0],
        )

    (base_lr, rest), (marker_lr, rows) = groups()
    assert (base_lr, marker_lr) == (1e-2, 1e-1)
    assert len(rows) == 1 and rows[0][0] == 4 and rows[0] not in rest  # the 4 added markers' rows
    assert [g[0] for g in groups(marker_lr=0.5)] == [1e-2, 0.5]
    # full fine-tuning: the rows are part of one matrix, one lr (they start as EOS's row, which
    # bench/marker_rows.py found enough there)
    (only,) = groups(method="full", lr=None)
    assert only[0] == 5e-5


def test_trainer_hooks_can_be_overridden(setup):
    class Recording(Trainer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.micro_batches = 0
            self.checkpoints: list[int] = []

        def prepare_data(self):
            super().prepare_data()
            self.train_items = self.train_items[:4]  # a hook's result is what later hooks use

        def training_step(self, batch):
            self.micro_batches += 1
            return super().training_step(batch)

        def save_checkpoint(self):
            self.checkpoints.append(self.state.step)
            super().save_checkpoint()

    lines: list[str] = []
    t = Recording(
        cfg(setup, "hooks", max_steps=3, batch_size=1, grad_accum=2, save_every=1, collate="pad"),
        lines.append,
    )
    r = t.train()
    assert r.steps == 3 and t.micro_batches == 6  # grad_accum micro-batches per optimizer step
    assert t.checkpoints == [1, 2]  # not at the last step: the final output follows
    assert sorted(p.name for p in (Path(t.out) / "checkpoints").iterdir()) == ["step-1", "step-2"]
    assert any(x.startswith("method lora: ") for x in lines)
    assert r.summary["encode"]["samples"] == 24 and len(t.train_items) == 4


@pytest.mark.slow
def test_accelerate_launch_two_cpu_processes(setup):
    d, base = setup
    out = d / "ddp"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(REPO / "examples/accelerate/ddp_cpu.yaml"),
        "-m",
        "calltune.train.cli",
        "train",
        "--model",
        str(base),
        "--data",
        str(d / "agent.jsonl"),
        "--out",
        str(out),
        "--max-steps",
        "2",
        "--batch-size",
        "1",
        "--grad-accum",
        "2",
        "--max-length",
        "768",
        "--eval-ratio",
        "0.1",
        "--save-every",
        "0",
        "--lr",
        "1e-3",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["num_processes"] == 2 and summary["steps"] == 2
    assert json.loads((out / "calltune.json").read_text())["adapter"] is True


def test_merge_adapter_after_training(setup):
    from calltune.train.artifacts import merge_adapter

    d, base = setup
    src = d / "lora"
    if not (src / "calltune.json").is_file():
        train(cfg(setup, "lora"))
    out = merge_adapter(src, d / "lora-merged", str(base))
    merged, tok, meta = load_trained(out)
    assert meta == {
        "format": "chatglm3",
        "base_model": str(base),
        "adapter": False,
        "method": "lora",
        "merged": True,
    }
    adapted, _, _ = load_trained(src)
    ids = torch.tensor([tok("<|user|>\nhi<|assistant|>")["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(
            merged(input_ids=ids).logits, adapted(input_ids=ids).logits, rtol=1e-4, atol=1e-4
        )
