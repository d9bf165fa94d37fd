"""Agent-trajectory data the way AgentTuning builds it.

Instruction construction → trajectory interaction with a teacher (through calltune's own
agent, with real execution) → filtering → the η mixture with general chat data.

- :mod:`.library`: the shipped tool library (executable tools and spec-only tools whose
  results the teacher simulates), grouped by domain.
- :mod:`.envs`: stateful environments (files, SQLite, a business API) with tasks and state checks.
"""
