"""``python -m poisonlab``: the same as the ``poisonlab`` command."""

from poisonlab.cli import run

run()
