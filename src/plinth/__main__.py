"""``python -m plinth`` is the ``plinth`` command."""

from plinth.cli.main import app

app()
