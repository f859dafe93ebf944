"""``hippo cluster`` and ``hippo probe`` on a small store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import hippo
from hippo.cli.app import app


def test_cluster_and_probe_commands(tmp_path, offline_env):
    store = tmp_path / "store"
    with hippo.open(store, extractor="none") as kg:
        kg.add_texts(["Kettleby is a village on Lake Imber. Ada Lindqvist was born in Kettleby.",
                      "The Marren Observatory was founded by Ada Lindqvist in 1871.",
                      "Lake Imber feeds the River Ondrel."], [{"source": f"t{i}"} for i in range(3)])
    runner = CliRunner()
    built = runner.invoke(app, ["cluster", "--store", str(store), "--json"])
    assert built.exit_code == 0, built.output
    report = json.loads(built.output)
    assert report["semantic"] == "rebuilt" and report["clusters_per_level"]
    shown = runner.invoke(app, ["cluster", "--store", str(store)])
    assert shown.exit_code == 0 and "semantic layer up to date" in shown.output
    probed = runner.invoke(app, ["probe", "Where was the founder of the Marren Observatory born?", "--store",
                                 str(store), "-k", "2", "--json"])
    assert probed.exit_code == 0, probed.output
    result = json.loads(probed.output)
    assert result["mode"] == "offline" and result["cycles"][0]["cycle"] == 0 and len(result["hits"]) == 2
    text = runner.invoke(app, ["probe", "Where was the founder of the Marren Observatory born?", "--store",
                               str(store)])
    assert text.exit_code == 0 and "cycle 0: the question" in text.output and "stopped:" in text.output
