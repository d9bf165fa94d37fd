"""The 16 functions of the synthetic training set, as tools for `calltune run`:

calltune run --model runs/gemma-toolcalls --tools examples/synth_tools.py "Is 97 a prime number?"
"""

from calltune.train.synth import FUNCTIONS

TOOLS = list(FUNCTIONS)
