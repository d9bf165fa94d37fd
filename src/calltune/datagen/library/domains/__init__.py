"""One module per domain (see :mod:`calltune.datagen.library`)."""
