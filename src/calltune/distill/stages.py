"""``calltune distill``'s stages: generate → split → train → export → evaluate → report, each
writing its outputs under OUT and recorded as done in ``OUT/distill.json``:

=============  ==============================================================================
``generate``   ``OUT/data``: the datagen pipeline's run (journalled, resumes itself)
``split``      ``OUT/split/train.jsonl`` (kept samples not held out), ``heldout.jsonl`` (the
               held-out requests with a reference, kept by the filters or not)
``train``      ``OUT/student``: the training run (resumed from its last checkpoint)
``export``     ``OUT/student/model.gguf`` (``calltune export gguf``; skipped with ``--no-export``)
``evaluate``   ``OUT/eval/teacher.jsonl``, ``student.jsonl``: one line per held-out request
``report``     ``OUT/report.json``, ``report.md``
=============  ==============================================================================

Running the same command again skips the stages that are done and continues the one that was
interrupted (its journals and checkpoints); ``distill.json`` holds the configuration, and a run
with other settings (:data:`~calltune.distill.config.RESUMABLE` aside) is refused.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..datagen.instructions import Instruction, ToolPool, parse_mix
from ..datagen.pipeline import Journal, Settings, read_jsonl
from ..datagen.pipeline import _write_jsonl as write_jsonl
from ..datagen.trajectories import AgentSettings
from .config import DistillConfig, DistillError
from .firstturn import run_first_turn
from .heldout import first_turn, heldout_row, is_heldout, scorable
from .progress import Quiet
from .report import build_report, report_markdown, trained_tokens

STAGES = ("generate", "split", "train", "export", "evaluate", "report")
STATE = "distill.json"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class Distill:
    """One distillation into ``config.out`` (resumed when it holds one).

    ``pool``: the tools requests are written for; ``load_teacher``: makes the teacher engine
    (called once, when a stage needs it); ``bfcl``: a decontamination index for the datagen
    pipeline (None: BFCL's own, loaded when needed)."""

    def __init__(
        self,
        config: DistillConfig,
        pool: ToolPool,
        load_teacher: Callable[[], Any],
        *,
        command: Sequence[str] | None = None,
        progress: Any = None,
        log: Callable[[str], None] | None = None,
        bfcl: Any = None,
    ):
        config.check()
        self.config = config
        self.pool = pool
        self.out = Path(config.out)
        self.command = list(command or [])
        self.progress = progress or Quiet()
        self.log = log or self.progress.note
        self.bfcl = bfcl
        self._load_teacher = load_teacher
        self._teacher: Any = None
        #: how the teacher answers each request, and how the student is evaluated
        self.agent = AgentSettings(max_tokens=config.max_tokens)

    # -- paths --------------------------------------------------------------------------------
    @property
    def data(self) -> Path:
        return self.out / "data"

    @property
    def student(self) -> Path:
        return self.out / "student"

    def split_file(self, name: str) -> Path:
        return self.out / "split" / f"{name}.jsonl"

    def eval_file(self, name: str) -> Path:
        return self.out / "eval" / f"{name}.jsonl"

    # -- state ----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        p = self.out / STATE
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    def _save_state(self, state: dict[str, Any]) -> None:
        _write_json(self.out / STATE, state)

    def _open(self) -> None:
        """Write ``distill.json`` (or check it: the same settings, resumable ones aside)."""
        self.out.mkdir(parents=True, exist_ok=True)
        state = self.state()
        if state:
            changed = self.config.changed(state.get("config", {}))
            if changed:
                raise DistillError(
                    f"{self.out} holds a distillation with other settings ({', '.join(changed)}); "
                    "use another --out, or the same settings to resume it"
                )
        state["config"] = self.config.to_dict()
        state.setdefault("stages", {})
        state.setdefault("runs", []).append(
            {"command": self.command, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        )
        self._save_state(state)

    def done(self, stage: str) -> bool:
        return bool(self.state().get("stages", {}).get(stage, {}).get("done"))

    def _record(self, stage: str, seconds: float, done: bool) -> None:
        state = self.state()
        rec = state["stages"].setdefault(stage, {"done": False, "seconds": 0.0, "attempts": 0})
        rec["seconds"] = round(rec["seconds"] + seconds, 3)
        rec["attempts"] += 1
        if done:
            rec["done"] = True
            rec["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self._save_state(state)

    def run(self) -> dict[str, Any]:
        """Every stage not done yet, in order; returns the report (``report.json``)."""
        self._open()
        todo = [s for s in STAGES if not self.done(s)]
        if not todo:
            self.log(f"{self.out}: every stage is done")
        elif len(todo) < len(STAGES):
            self.log(f"resuming {self.out}: {', '.join(s for s in STAGES if s not in todo)} done")
        try:
            for stage in todo:
                t0 = time.perf_counter()
                ok = False
                try:
                    getattr(self, stage)()
                    ok = True
                finally:
                    self.progress.stop()
                    self._record(stage, time.perf_counter() - t0, ok)
        finally:
            self.close()
        return json.loads((self.out / "report.json").read_text(encoding="utf-8"))

    def teacher(self) -> Any:
        if self._teacher is None:
            self._teacher = self._load_teacher()
        return self._teacher

    def close(self) -> None:
        if self._teacher is not None:
            self._teacher.close()
            self._teacher = None

    # -- the stages -----------------------------------------------------------------------------
    def settings(self) -> Settings:
        """The datagen settings (the teacher's agent settings included)."""
        c = self.config
        return Settings(
            n=c.n,
            seed=c.seed,
            mix=parse_mix(c.mix),
            zh_share=c.zh_share,
            concurrency=c.concurrency,
            round_size=c.round_size,
            tools=list(c.tools) or ["library"],
            teacher=c.teacher or "default",
            semantic=c.semantic,
            agent=self.agent,
        )

    def generate(self) -> None:
        """``OUT/data``: requests, trajectories and filters (the datagen pipeline, resumed there)."""
        from ..datagen.pipeline import Pipeline, Progress, RichProgress
        from ..datagen.teacher import Teacher

        progress = RichProgress() if self.config.progress else Progress()
        try:
            report = Pipeline(
                self.data,
                Teacher(self.teacher()),
                self.pool,
                self.settings(),
                command=self.command,
                progress=progress,
                bfcl=self.bfcl,
            ).run()
        finally:
            progress.stop()
        counts = report["counts"]
        self.log(
            f"data: {counts['kept']} kept of {counts['trajectories']} trajectories "
            f"(yield {counts['yield']:.0%}; {self.data / 'report.md'})"
        )

    def split(self) -> None:
        """``split/train.jsonl`` and ``split/heldout.jsonl``, by instruction id."""
        c = self.config
        instructions = [Instruction.from_dict(d) for d in read_jsonl(self.data / "instructions.jsonl")]
        held = {i.id for i in instructions if is_heldout(i.id, c.seed, c.heldout)}
        offered = {t["id"]: t.get("tools") for t in read_jsonl(self.data / "trajectories.jsonl")}
        train = [s for s in read_jsonl(self.data / "kept.jsonl") if s["id"] not in held]
        rows = [
            heldout_row(i, offered.get(i.id) or self.pool.specs(i.tools))
            for i in instructions
            if i.id in held and scorable(i)
        ]
        if not train:
            raise DistillError(
                f"no kept sample is left to train on ({len(held)} of {len(instructions)} requests held out): "
                "generate more with a larger --n"
            )
        self.split_file("train").parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(self.split_file("train"), train)
        write_jsonl(self.split_file("heldout"), rows)
        self.log(f"split: {len(train)} kept samples to train on, {len(rows)} held-out requests")

    def train_config(self) -> Any:
        from ..train.config import TrainConfig

        c = self.config
        return TrainConfig(
            model=c.student,
            data=[str(self.split_file("train"))],
            out=str(self.student),
            format=c.format,
            method=c.method,
            epochs=c.epochs,
            max_steps=c.max_steps,
            lr=c.lr,
            batch_size=c.batch_size,
            grad_accum=c.grad_accum,
            max_length=c.max_length,
            general=list(c.general),
            eta=c.eta,
            save_every=c.save_every,
            seed=c.seed,
            progress=c.progress,
        )

    def train(self) -> None:
        """``OUT/student``: the training run, from its last checkpoint when there is one."""
        from ..train.checkpoints import latest_checkpoint
        from ..train.trainer import train

        cfg = self.train_config()
        cfg.resume = latest_checkpoint(self.student) is not None
        train(cfg, log=self.log)

    def export(self) -> None:
        """``OUT/student/model.gguf`` (merged, converted, quantised); nothing with --no-export."""
        from ..train.artifacts import read_meta
        from ..train.export import export_gguf

        if not self.config.export:
            return
        ex = read_meta(self.student).get("export") or {}
        if ex.get("quant") == self.config.quant and (self.student / ex.get("gguf", "")).is_file():
            return  # exported before the stage was recorded
        self.progress.start(f"export: GGUF ({self.config.quant}) of {self.student}")
        export_gguf(self.student, quant=self.config.quant)

    def student_engine(self) -> Any:
        from ..engines import load_engine

        if self.config.export:
            return load_engine(self.student, engine="llamacpp")
        return load_engine(self.student, engine="transformers")

    def evaluate(self) -> None:
        """One line per held-out request in ``eval/teacher.jsonl`` (the first turn of its
        trajectory; the first ``--speed-prompts`` run again to time the teacher) and in
        ``eval/student.jsonl`` (the student's first turn), in the order of the requests."""
        from ..datagen.teacher import Teacher
        from ..formats import get_format

        rows = read_jsonl(self.split_file("heldout"))
        self.eval_file("teacher").parent.mkdir(parents=True, exist_ok=True)
        journals = {k: Journal(self.eval_file(k)) for k in ("teacher", "student")}
        have = {k: {r["id"] for r in read_jsonl(self.eval_file(k))} for k in journals}
        trajectories = {t["id"]: t for t in read_jsonl(self.data / "trajectories.jsonl")}
        left = {r["id"] for r in rows if r["id"] not in have["teacher"] or r["id"] not in have["student"]}
        self.progress.start("evaluate", len(rows), len(rows) - len(left))
        student: Any = None
        fmt = get_format(self.config.format)
        try:
            for k, row in enumerate(rows):
                if row["id"] not in have["teacher"]:
                    rec = {"id": row["id"], "category": row["category"], "source": "trajectory"}
                    rec.update(first_turn(trajectories.get(row["id"], {}).get("messages", [])))
                    if k < self.config.speed_prompts:
                        teacher = Teacher(self.teacher())
                        rec["probe"] = run_first_turn(
                            teacher.engine, teacher.format, row, self.agent, row["seed"]
                        )
                    journals["teacher"].append(rec)
                if row["id"] not in have["student"]:
                    if student is None:
                        student = self.student_engine()
                    rec = run_first_turn(student, fmt, row, self.agent, row["seed"])
                    journals["student"].append({"id": row["id"], "category": row["category"], **rec})
                if row["id"] in left:
                    self.progress.advance("evaluate")
        finally:
            if student is not None:
                student.close()

    def report(self) -> None:
        """``report.json`` and ``report.md`` from the journals."""
        from ..train.artifacts import read_meta

        rows = read_jsonl(self.split_file("heldout"))
        teacher = {r["id"]: r for r in read_jsonl(self.eval_file("teacher"))}
        student = {r["id"]: r for r in read_jsonl(self.eval_file("student"))}
        log = read_jsonl(self.student / "train_log.jsonl")
        training = {
            "base": self.config.student,
            "method": self.config.method,
            **trained_tokens(log),
            "seconds": self.state()["stages"]["train"]["seconds"],
        }
        export = None
        ex = read_meta(self.student).get("export") if self.config.export else None
        if ex:
            path = self.student / ex["gguf"]
            export = {"path": str(path), "quant": ex["quant"], "bytes": path.stat().st_size}
        rep = build_report(
            rows,
            teacher,
            student,
            training=training,
            export=export,
            serve=f"calltune serve --model {self.student}",
            train_samples=len(read_jsonl(self.split_file("train"))),
        )
        _write_json(self.out / "report.json", rep)
        (self.out / "report.md").write_text(report_markdown(rep), encoding="utf-8")
