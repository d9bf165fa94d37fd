"""The generation pipeline: instructions → trajectories → filters → ``kept.jsonl`` (seed format).

Everything a run does is journalled under its output folder, one JSON line per finished unit:

- ``generations.jsonl``: one line per teacher generation (its group, usage, raw reply, the
  instructions it gave and the items rejected at construction, dedupe and decontamination
  included);
- ``trajectories.jsonl``: one line per trajectory (the whole record and its verdict).

``instructions.jsonl``, ``kept.jsonl`` (the seed-format samples, ready for
``calltune train --data``) and ``rejects.jsonl`` are views rebuilt from the two journals, in
instruction order, at the start and the end of every run; ``manifest.json`` holds the
command and the settings. Ids and per-item seeds are derived from the run's seed, so a resumed
run (the same command again) makes the same plan, skips what its journals hold and loses at
most the items that were in flight when it was killed. A larger ``--n`` on resume extends a run.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CalltuneError
from ..eval.report import read_records as read_jsonl
from .envs import Environment
from .filters import STAGES, Dedupe, FilterContext, dedupe_key, run_stages
from .instructions import (
    DEFAULT_MIX,
    Generation,
    Group,
    Instruction,
    Reject,
    ToolPool,
    generate_group,
    sample_group,
    schedule,
    stable_seed,
)
from .teacher import Teacher
from .trajectories import AgentSettings, Sources, run_trajectory

#: held (flock) by the run writing a folder; it holds the run's pid
LOCK_FILE = "run.lock"
FILES = {
    "manifest": "manifest.json",
    "generations": "generations.jsonl",
    "trajectories": "trajectories.jsonl",
    "instructions": "instructions.jsonl",
    "kept": "kept.jsonl",
    "rejects": "rejects.jsonl",
}
#: settings a resumed run may change (the rest must match the manifest); each trajectory
#: records whether its first calls were planned, so ``agent.plan_calls`` may change too
RESUMABLE = ("n", "concurrency", "round_size")
RESUMABLE_AGENT = ("plan_calls",)


def _fixed(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a resumed run must share with the manifest."""
    out = {k: v for k, v in settings.items() if k not in RESUMABLE}
    if isinstance(out.get("agent"), Mapping):
        out["agent"] = {k: v for k, v in out["agent"].items() if k not in RESUMABLE_AGENT}
    return out


def _next_item(
    queue: list[tuple[int, Instruction]], running: set[str] | None
) -> tuple[int, Instruction] | None:
    """The next instruction to start (taken off ``queue``). ``running``: the groups in flight, on
    an engine that reuses a prompt prefix only once its request has ended (the batching llama.cpp
    engine): the requests of one generation share their tool list, so a second one waits for the
    first and reads only what differs, while other groups run beside it. None when every queued
    item waits for its group (and something runs)."""
    if running is None:
        return queue.pop(0)
    for k, (_, ins) in enumerate(queue):
        if ins.group not in running:
            return queue.pop(k)
    return queue.pop(0) if not running else None


class PipelineError(CalltuneError, ValueError):
    """A run that cannot start or continue (an output folder of other settings, no tools)."""


@dataclass
class Settings:
    """What a run is made of (written to the manifest; a resumed run must match it)."""

    n: int = 20
    seed: int = 0
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    zh_share: float = 0.2
    per_generation: int = 3
    #: consecutive generations that write for one tool list (their prompts share its prefix)
    shared_tools: int = 2
    concurrency: int = 1
    #: construct and run in rounds of this many requests (0: construct all, then run them), so
    #: that a long run keeps trajectories from its first hour and every round covers the mix
    round_size: int = 0
    envs: list[str] = field(default_factory=list)
    #: share of the requests written over environment tools (half of it code-written tasks)
    env_share: float = 0.3
    tools: list[str] = field(default_factory=list)
    teacher: str = "default"
    threshold: float = 0.5
    semantic: bool = True
    agent: AgentSettings = field(default_factory=AgentSettings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


class Journal:
    """Appends whole lines and flushes them (a kill loses at most a partial last line)."""

    def __init__(self, path: Path):
        self.path = path
        if path.exists() and path.stat().st_size:
            with path.open("rb+") as f:  # a line cut off by a kill: end it, so the next line stands alone
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")

    def append(self, row: Mapping[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()


def kept_sample(traj: Mapping[str, Any]) -> dict[str, Any]:
    """The seed-format sample of a kept trajectory, with its id and what it is."""
    s = traj["sample"]
    return {
        "id": traj["id"],
        "tools": s.get("tools", []),
        "conversations": s["conversations"],
        "meta": {
            "category": traj["category"],
            "lang": traj["lang"],
            "simulated": traj.get("simulated", []),
        },
    }


def traj_reject(traj: Mapping[str, Any], instr: Instruction) -> dict[str, Any]:
    v = traj["verdict"]
    return Reject(
        instr.id, v["stage"], v["reason"], instr.category, instr.lang, instr.request[:300]
    ).to_dict()


class Progress:
    """What the run reports as it goes (a rich progress bar by default; tests pass a list)."""

    def start(self, phase: str, total: int, done: int) -> None: ...
    def advance(self, phase: str, kept: int, rejected: int) -> None: ...
    def note(self, text: str) -> None: ...
    def stop(self) -> None: ...


class RichProgress(Progress):
    """A rich progress bar per phase, with the kept/rejected counts and an ETA, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as _P,
        )

        self.console = Console(stderr=True)
        self.bar = _P(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("kept {task.fields[kept]} · rejected {task.fields[rejected]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.tasks: dict[str, Any] = {}
        self.bar.start()

    def start(self, phase: str, total: int, done: int) -> None:
        self.tasks[phase] = self.bar.add_task(phase, total=total, completed=done, kept=0, rejected=0)

    def advance(self, phase: str, kept: int, rejected: int) -> None:
        self.bar.update(self.tasks[phase], advance=1, kept=kept, rejected=rejected)

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def stop(self) -> None:
        self.bar.stop()


class Pipeline:
    """One run of ``calltune data generate`` into ``out`` (resumed when ``out`` holds one)."""

    def __init__(
        self,
        out: str | Path,
        teacher: Teacher,
        pool: ToolPool,
        settings: Settings,
        envs: Mapping[str, Environment] | None = None,
        *,
        command: Sequence[str] | None = None,
        progress: Progress | None = None,
        bfcl: Any = None,
    ):
        self.out = Path(out)
        self.teacher = teacher
        self.pool = pool
        self.settings = settings
        self.envs = dict(envs or {})
        self.sources = Sources(pool, self.envs)
        self.command = list(command if command is not None else sys.argv)
        self.progress = progress or Progress()
        self.ctx = FilterContext(
            teacher=teacher, sources=self.sources, semantic=settings.semantic, threshold=settings.threshold
        )
        if bfcl is not None:
            self.ctx.index = bfcl
        if not len(pool) and not self.envs:
            raise PipelineError("no tools: give --tools, --env, or install the library's domains")

    def path(self, key: str) -> Path:
        return self.out / FILES[key]

    # -- manifest ----------------------------------------------------------------------------
    def _manifest(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        mine = self.settings.to_dict()
        p = self.path("manifest")
        if p.exists():
            old = json.loads(p.read_text(encoding="utf-8"))
            prev, fixed = _fixed(old.get("settings", {})), _fixed(mine)
            if prev != fixed:
                changed = sorted(k for k in set(prev) | set(fixed) if prev.get(k) != fixed.get(k))
                raise PipelineError(
                    f"{self.out} holds a run with other settings ({', '.join(changed)}); "
                    "use another --out or the same settings to resume it"
                )
            runs = old.get("runs", [])
        else:
            runs = []
        runs.append({"command": self.command, "started": time.strftime("%Y-%m-%dT%H:%M:%S")})
        manifest = {
            "settings": mine,
            "teacher_model": self.teacher.model_id,
            "format": self.teacher.format.name,
            "tools": len(self.pool),
            "domains": sorted(self.pool.domains),
            "runs": runs,
        }
        p.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    # -- stage 1 -----------------------------------------------------------------------------
    def _env_tasks(self) -> Iterator[Generation]:
        """Code-written environment tasks (no teacher tokens), one generation per environment."""
        s = self.settings
        if not self.envs:
            return
        k = max(1, round(s.n * s.env_share / 2 / len(self.envs)))
        for name in sorted(self.envs):
            env = self.envs[name]
            env_seed = stable_seed(s.seed, "env-tasks", name)
            inst = env.fresh(env_seed)
            try:
                names = inst.toolbox().names()
            finally:
                inst.close()
            group = Group(f"e-{name}", -1, "env_task", "en", names, [], env_seed, name, env_seed)
            out = []
            for i, task in enumerate(env.tasks(env_seed, k)[:k]):
                out.append(
                    Instruction(
                        id=f"e-{name}.{i}",
                        category=task.category,
                        lang=task.lang,
                        request=task.request,
                        tools=names,
                        calls=None,
                        seed=stable_seed(env_seed, i),
                        group=group.id,
                        followups=list(task.followups),
                        env=name,
                        env_seed=env_seed,
                        task=i,
                    )
                )
            yield Generation(group, out, [], None)

    def _group(
        self, i: int, category: str, lang: str, tools_lang: str | None = None
    ) -> tuple[Group, list[dict[str, Any]], dict[str, Any], str | None]:
        """Generation ``i``'s group, the specs shown to the teacher, its tools, and a state description."""
        s = self.settings
        share = s.env_share / 2 if self.envs else 0.0
        env_turn = self.envs and int((i + 1) * share) > int(i * share)
        if env_turn or not len(self.pool):
            names = sorted(self.envs)
            name = names[(int((i + 1) * share) - 1) % len(names)] if share else names[i % len(names)]
            env_seed = stable_seed(s.seed, "env", i)
            inst = self.envs[name].fresh(env_seed)
            try:
                box = inst.toolbox()
                state = inst.describe()
                tools = {t.name: t for t in box}
                specs = box.specs()
            finally:
                inst.close()
            group = Group(f"g{i:04d}", i, category, lang, list(tools), [], env_seed, name, env_seed)
            return group, specs, tools, state
        block = i // max(1, s.shared_tools)
        group = sample_group(self.pool, i, category, lang, s.seed, block=block, tools_lang=tools_lang)
        tools = {n: self.pool.tool(n) for n in group.focus}
        return group, self.pool.specs(group.focus), tools, None

    def _screen(self, gen: Generation, dedupe: Dedupe) -> None:
        """Dedupe and decontaminate ``gen``'s requests (in run order: deterministic)."""
        index = self.ctx.bfcl()
        keep = []
        for ins in gen.instructions:
            reason = dedupe.check_add(dedupe_key(ins))
            stage = "dedupe"
            if reason is None:
                stage = "decontam"
                for text in [ins.request, *ins.followups]:
                    overlap, case = index.request_overlap(text)
                    if overlap > self.settings.threshold:
                        reason = f"overlaps BFCL {case} ({overlap:.2f} > {self.settings.threshold})"
                        break
            if reason:
                gen.rejects.append(Reject(ins.id, stage, reason, ins.category, ins.lang, ins.request[:300]))
            else:
                keep.append(ins)
        gen.instructions = keep

    def instructions(self, written: int | None = None) -> list[Instruction]:
        """Stage 1: construct instructions until there are ``n`` (journalled per generation);
        ``written``: stop once that many teacher-written ones are accepted (a round's share)."""
        s = self.settings
        journal = Journal(self.path("generations"))
        done = read_jsonl(self.path("generations"))
        done_groups = {g["group"]["id"] for g in done}
        accepted = [Instruction.from_dict(d) for g in done for d in g["instructions"]]
        dedupe = Dedupe()
        for ins in accepted:
            dedupe.add(dedupe_key(ins))
        rejected = sum(len(g["rejects"]) for g in done)
        self.progress.start("instructions", s.n, min(len(accepted), s.n))

        def record(gen: Generation) -> None:
            nonlocal rejected
            journal.append(
                {
                    **gen.record(),
                    "instructions": [i.to_dict() for i in gen.instructions],
                    "rejects": [r.to_dict() for r in gen.rejects],
                }
            )
            before = len(accepted)
            accepted.extend(gen.instructions)
            rejected += len(gen.rejects)
            for _ in range(max(0, min(len(accepted), s.n) - min(before, s.n))):
                self.progress.advance("instructions", len(accepted), rejected)

        for gen in self._env_tasks():
            if gen.group.id not in done_groups:
                self._screen(gen, dedupe)
                record(gen)
        max_generations = 4 * -(-s.n // max(1, s.per_generation)) + 4

        def plans() -> Iterator[tuple[Any, ...]]:
            block_lang: dict[int, str] = {}  # a block's tools follow the language of its first generation
            for i, (cat, lang) in enumerate(schedule(s.mix, s.zh_share)):
                if i >= max_generations:
                    return
                tools_lang = block_lang.setdefault(i // max(1, s.shared_tools), lang)
                plan = self._group(i, cat, lang, tools_lang)
                if plan[0].id not in done_groups:
                    yield plan

        def enough() -> bool:
            if len(accepted) >= s.n:
                return True
            return written is not None and sum(1 for a in accepted if a.task is None) >= written

        # generations run ``concurrency`` at a time (a batching engine decodes them together);
        # they are screened and journalled in schedule order, so a run's output does not
        # depend on which finished first
        limit = self._concurrency()
        todo = plans()
        pending: list[Future[Generation]] = []
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="datagen-gen") as ex:
            try:
                while not enough():
                    while len(pending) < limit and (plan := next(todo, None)) is not None:
                        group, specs, tools, state = plan
                        pending.append(
                            ex.submit(
                                generate_group, self.teacher, group, specs, tools, s.per_generation, state
                            )
                        )
                    if not pending:
                        break
                    gen = pending.pop(0).result()
                    self._screen(gen, dedupe)
                    record(gen)
                for fut in pending:  # finished work is kept (a later round uses it)
                    gen = fut.result()
                    self._screen(gen, dedupe)
                    record(gen)
            finally:
                for fut in pending:
                    fut.cancel()
        if len(accepted) < s.n and written is None:
            self.progress.note(
                f"[yellow]only {len(accepted)} usable requests after {max_generations} generations[/yellow]"
            )
        return accepted[: s.n]

    # -- stages 2 and 3 ----------------------------------------------------------------------
    def _trajectory(self, instr: Instruction) -> dict[str, Any]:
        traj = run_trajectory(instr, self.sources, self.teacher, self.settings.agent)
        found = run_stages(traj, instr, self.ctx)
        traj["verdict"] = (
            {"kept": True} if found is None else {"kept": False, "stage": found[0], "reason": found[1]}
        )
        return traj

    def _concurrency(self) -> int:
        from ..engines.decode import LocalEngine

        c = max(1, self.settings.concurrency)
        engine = self.teacher.engine
        if c > 1 and isinstance(engine, LocalEngine):
            parallel = int(getattr(engine, "parallel", 1))
            if parallel < c:
                self.progress.note(
                    f"[yellow]note:[/yellow] this engine decodes {parallel} sequence(s) at a time: "
                    f"--concurrency {c} is run as {parallel} (a GGUF teacher loaded by `data generate "
                    "--concurrency N` decodes N together)"
                )
                return parallel
        return c

    def trajectories(self, instructions: Sequence[Instruction]) -> None:
        """Stages 2 and 3: run and filter every instruction not yet journalled."""
        journal = Journal(self.path("trajectories"))
        done = {t["id"]: t for t in read_jsonl(self.path("trajectories"))}
        wanted = {i.id for i in instructions}
        kept = sum(1 for i, t in done.items() if i in wanted and t["verdict"]["kept"])
        rejected = sum(1 for i, t in done.items() if i in wanted and not t["verdict"]["kept"])
        todo = [i for i in instructions if i.id not in done]
        self.progress.start("trajectories", len(instructions), len(instructions) - len(todo))
        kept_f = Journal(self.path("kept"))
        rej_f = Journal(self.path("rejects"))
        limit = self._concurrency()
        ex = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="datagen")
        try:
            # no more submitted than there are workers: a kill loses only the items in flight
            pending: dict[Future[dict[str, Any]], tuple[int, Instruction]] = {}
            queue = list(enumerate(todo))
            lanes = not getattr(self.teacher.engine, "shares_running_prefixes", True)
            while queue or pending:
                while queue and len(pending) < limit:
                    item = _next_item(queue, {i.group for _, i in pending.values()} if lanes else None)
                    if item is None:
                        break
                    pending[ex.submit(self._trajectory, item[1])] = item
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=lambda f: pending[f][0]):
                    _, ins = pending.pop(fut)
                    traj = fut.result()
                    journal.append(traj)
                    if traj["verdict"]["kept"]:
                        kept += 1
                        kept_f.append(kept_sample(traj))
                    else:
                        rejected += 1
                        rej_f.append(traj_reject(traj, ins))
                    self.progress.advance("trajectories", kept, rejected)
        finally:
            ex.shutdown(wait=True, cancel_futures=True)

    # -- views -------------------------------------------------------------------------------
    def rebuild(self, instructions: Sequence[Instruction] | None = None) -> dict[str, int]:
        """Rewrite the views (instructions, kept, rejects) from the journals, in instruction order."""
        gens = read_jsonl(self.path("generations"))
        if instructions is None:
            instructions = [Instruction.from_dict(d) for g in gens for d in g["instructions"]][
                : self.settings.n
            ]
        trajs = {t["id"]: t for t in read_jsonl(self.path("trajectories"))}
        kept, rejects = [], [r for g in gens for r in g["rejects"]]
        for ins in instructions:
            t = trajs.get(ins.id)
            if t is None:
                continue
            if t["verdict"]["kept"]:
                kept.append(kept_sample(t))
            else:
                rejects.append(traj_reject(t, ins))
        _write_jsonl(self.path("instructions"), [i.to_dict() for i in instructions])
        _write_jsonl(self.path("kept"), kept)
        _write_jsonl(self.path("rejects"), rejects)
        return {"instructions": len(instructions), "kept": len(kept), "rejects": len(rejects)}

    def decontaminate(self) -> Any:
        """The BFCL check of ``kept.jsonl``; :class:`~calltune.datagen.decontam.ContaminationError`
        (after moving the file aside as ``kept.contaminated.jsonl``) when it is above the threshold."""
        from .report import check_run_decontam

        rep = check_run_decontam(self.out, self.settings.threshold, index=self.ctx.bfcl())
        if not rep.ok:
            os.replace(self.path("kept"), self.out / "kept.contaminated.jsonl")
            rep.raise_if_contaminated()
        return rep

    def _rounds(self) -> list[Instruction]:
        """Construct and run round by round: each round's teacher-written requests, and the
        code-written environment tasks in proportion; returns all of the run's instructions."""
        n, size = self.settings.n, self.settings.round_size
        target = 0
        instructions: list[Instruction] = []
        while target < n:
            target = min(n, target + size)
            code_all = [i for i in self.instructions(written=0) if i.task is not None]
            share = round(len(code_all) * target / n)
            instructions = self.instructions(written=target - share)
            code = [i for i in instructions if i.task is not None][:share]
            # the views list the round's requests before their trajectories run: a run stopped
            # mid-round then reports (and kept.jsonl holds) the same samples
            self.rebuild(instructions)
            self.trajectories([i for i in instructions if i.task is None] + code)
            self.rebuild(instructions)
            if len(instructions) >= n or self._exhausted(instructions, target - share):
                break
        return instructions

    def _exhausted(self, instructions: Sequence[Instruction], wanted: int) -> bool:
        return sum(1 for i in instructions if i.task is None) < wanted

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold ``out``'s run lock: a second run (or a refilter) on the same folder would write
        the same journals at once."""
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / LOCK_FILE, "a+", encoding="utf-8") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "?"
                raise PipelineError(f"{self.out} is in use by another run (pid {holder})") from None
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def run(self) -> dict[str, Any]:
        """The whole run (or the rest of it); returns the report (also written as report.json/.md)."""
        from .report import build_report, write_report

        with self._exclusive():
            self._manifest()
            self.rebuild()
            try:
                instructions = self._rounds() if self.settings.round_size > 0 else self.instructions()
                self.rebuild(instructions)
                self.trajectories(instructions)
                self.rebuild(instructions)
            finally:
                self.progress.stop()
            self.decontaminate()
            report = build_report(self.out)
            write_report(self.out, report)
        return report

    def refilter(self) -> dict[str, Any]:
        """Apply the filters in code (every stage but the teacher's ``semantic`` check) again to
        the kept trajectories of the journal, e.g. after the filters improved; a trajectory one of
        them now rejects gets that verdict (marked ``refiltered``). Nothing is generated. Returns
        ``{"checked", "rejected", "by_stage"}`` and rewrites the views and the report."""
        from .report import build_report, write_report

        code_stages = tuple((n, st) for n, st in STAGES if n != "semantic")
        with self._exclusive():
            gens = read_jsonl(self.path("generations"))
            instr = {d["id"]: Instruction.from_dict(d) for g in gens for d in g["instructions"]}
            trajs = read_jsonl(self.path("trajectories"))
            checked, by_stage = 0, Counter[str]()
            for t in trajs:
                ins = instr.get(t["id"])
                if ins is None or not t["verdict"]["kept"]:
                    continue
                checked += 1
                found = run_stages(t, ins, self.ctx, code_stages)
                if found is not None:
                    t["verdict"] = {"kept": False, "stage": found[0], "reason": found[1], "refiltered": True}
                    by_stage[found[0]] += 1
            _write_jsonl(self.path("trajectories"), trajs)
            self.rebuild()
            write_report(self.out, build_report(self.out))
        return {"checked": checked, "rejected": sum(by_stage.values()), "by_stage": dict(by_stage)}


__all__ = ["FILES", "Pipeline", "PipelineError", "Progress", "RichProgress", "Settings", "read_jsonl"]
