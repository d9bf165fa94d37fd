"""``calltune distill``: teacher-written data over your tools → a held-out split → a trained
student → student vs teacher on the held-out requests → a GGUF export → a report and the
command that serves it; resumable at every stage (:mod:`calltune.distill.stages`)."""

from .config import DistillConfig, DistillError
from .stages import STAGES, Distill

__all__ = ["STAGES", "Distill", "DistillConfig", "DistillError"]
