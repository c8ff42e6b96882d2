"""Shipped data: mechanisms/ travels in the wheel, and shipped mechanisms and presets can be named."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

import fentonsim as fs
from fentonsim.data import mechanism_directory, shipped_mechanism, shipped_mechanisms, shipped_presets

from conftest import MECHANISMS, REPO


def test_shipped_names_resolve_to_the_files():
    """`load("iron")`, `load(["copper", "probes"])` and `simulate("iron")` read the shipped files."""
    assert mechanism_directory() == MECHANISMS
    assert set(shipped_mechanisms()) >= {"iron", "copper", "manganese", "ros_core", "probes"}
    assert shipped_presets() == ["lysosome", "normal", "tme"]
    assert fs.load("iron") == fs.load(MECHANISMS / "iron.yaml")
    assert fs.load(["copper", "probes"]).name == "copper+probes"
    ds = fs.simulate("iron", conditions="tme", initial={"Fe+2": "20 uM"}, t_end=10, n_points=2)
    assert ds.attrs["mechanism"] == "iron"
    assert shipped_mechanism("../iron") is None and shipped_mechanism("gold") is None


def test_include_names_a_shipped_mechanism(tmp_path):
    """`include: iron` in a user's file pulls in the shipped iron mechanism."""
    own = tmp_path / "mine.yaml"
    own.write_text("name: mine\ninclude: [iron, glutathione]\n", encoding="utf-8")
    assert {r.id for r in fs.load(own).reactions} == {r.id for r in fs.load(["iron", "glutathione"]).reactions}


def test_a_local_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    """A file called iron.yaml in the working directory is the user's, not the shipped one; a folder is not."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(MECHANISMS / "ros_core.yaml", tmp_path / "iron.yaml")
    assert fs.load("iron.yaml").name == "ros-core"
    (tmp_path / "copper").mkdir()  # a folder of that name is not a mechanism file: the shipped one is used
    assert fs.load("copper").name == "copper"


def test_an_installed_layout_finds_its_data_without_the_checkout(tmp_path):
    """Laid out as a wheel installs it (fentonsim/ with _mechanisms/ inside, no top-level mechanisms/), the
    package finds its presets and mechanisms from an empty working directory."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "fentonsim", site / "fentonsim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(MECHANISMS, site / "fentonsim" / "_mechanisms")
    work = tmp_path / "empty"
    work.mkdir()
    code = ("import fentonsim as fs, fentonsim.data as d; print(d.mechanism_directory()); "
            "print(len(fs.load('iron').reactions), fs.load_conditions(d.preset_directory() / 'tme.yaml').pH)")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    directory, counts = out.stdout.strip().splitlines()
    assert directory == str(site / "fentonsim" / "_mechanisms")
    assert counts == f"{len(fs.load('iron').reactions)} 6.5"


@pytest.mark.slow
def test_wheel_carries_every_mechanism_and_preset(tmp_path):
    """`pip wheel .` puts every mechanisms/*.yaml and conditions/*.yaml under fentonsim/_mechanisms/."""
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel, = tmp_path.glob("fentonsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"fentonsim/_mechanisms/{p.name}" for p in MECHANISMS.glob("*.yaml")}
    expected |= {f"fentonsim/_mechanisms/conditions/{p.name}" for p in (MECHANISMS / "conditions").glob("*.yaml")}
    assert expected <= names, sorted(expected - names)
