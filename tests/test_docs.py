"""Documentation stays true: the worked example in mechanisms/README.md loads,
and the README's test command is the one .ci/run executes."""
from __future__ import annotations

import re

import pytest

from conftest import MECHANISMS, REPO
from fentonsim import compile_network, load_mechanism


def test_worked_example_is_valid(tmp_path):
    """The complete example under '## Worked example' validates without warnings."""
    text = (MECHANISMS / "README.md").read_text()
    section = text.split("## Worked example", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    path = tmp_path / "example.yaml"
    path.write_text(block)
    mechanism = load_mechanism(path)
    assert mechanism.name == "worked-example" and mechanism.warnings == ()
    net = compile_network(mechanism)
    assert net.reaction_ids[:2] == ("F1-OH", "F1-ferryl")
    assert mechanism.reaction("R3").rate.k == pytest.approx(5.5e9)


def test_readme_commands_match_ci():
    """README holds exactly two set-up commands and .ci/run runs the test one."""
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme.split("## Set up", 1)[1].split("\n## ", 1)[0], re.S)
    assert len(commands) == 2, commands
    assert commands[1] in (REPO / ".ci" / "run").read_text()


def test_examples_run():
    """Every script in examples/ runs to completion (so examples never rot); scripts with a notebook run as
    that notebook in tests/test_examples.py."""
    import subprocess
    import sys

    for script in sorted((REPO / "examples").glob("*.py")):
        if script.with_suffix(".ipynb").exists():
            continue
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{script.name}: {proc.stderr[-2000:]}"


def test_readme_python_blocks_run(monkeypatch):
    """Every ```python block in the README runs as written, from the repository root."""
    monkeypatch.chdir(REPO)
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
