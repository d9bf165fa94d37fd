"""The demonstration run: Gemma 3 270M + ChatGLM3 format + LoRA on the synthetic tool-calling set.

Equivalent CLI:
  calltune data synth data/toolcalls --train 600 --test 40
  calltune train --model gemma-270m --format chatglm3 --data data/toolcalls/train.jsonl \
      --method lora --lr 3e-4 --batch-size 1 --grad-accum 1 --max-length 1024 --max-steps 80 \
      --eval-ratio 0.03 --eval-every 40 --save-every 40 --merge --out runs/gemma-toolcalls
"""

from calltune.train.trainer import TrainConfig, train

if __name__ == "__main__":
    r = train(
        TrainConfig(
            model="gemma-270m",
            format="chatglm3",
            data=["data/toolcalls/train.jsonl"],
            out="runs/gemma-toolcalls",
            method="lora",
            lr=3e-4,
            batch_size=1,
            grad_accum=1,
            max_length=1024,
            max_steps=80,
            eval_ratio=0.03,
            eval_every=40,
            save_every=40,
            merge=True,
            progress=False,
        )
    )
    print(
        {
            k: r.summary[k]
            for k in (
                "steps",
                "train_seconds",
                "tokens",
                "tokens_per_s",
                "first_loss",
                "last_loss",
                "eval_loss",
            )
        }
    )
