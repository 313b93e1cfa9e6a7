"""``python -m hub.app.cli``: the ``linju`` command without its console script."""

from __future__ import annotations

from hub.app.cli import main

main(prog_name="linju")
