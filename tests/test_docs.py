"""The README documents every CLI command and every setting."""

import dataclasses
from pathlib import Path

from hippo.cli.app import app
from hippo.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_command_is_in_the_readme():
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    missing = [n for n in names if f"`hippo {n}" not in README]
    assert not missing, f"README lacks commands: {missing}"


def test_every_setting_is_in_the_readme():
    names = [f.name for f in dataclasses.fields(Settings) if f.name != "extra"]
    missing = [n for n in names if f"`{n}`" not in README]
    assert not missing, f"README lacks settings: {missing}"


def test_readme_starts_with_the_two_commands():
    head = README[:1200]
    assert "make run" in head and "make test" in head
