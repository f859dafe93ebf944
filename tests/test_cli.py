import json

import pytest
from typer.testing import CliRunner

from hippo.cli.app import app


@pytest.fixture()
def run(tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "store")

    def invoke(*args: str):
        return runner.invoke(app, [*args, "--store", store])

    return invoke


def test_index_names_each_skip_and_keeps_going(run, mixed_folder):
    result = run("index", str(mixed_folder))
    assert result.exit_code == 0, result.output
    assert "2 document(s) added" in result.output
    for name, reason in [("image.txt", "binary"), ("empty.txt", "empty"), ("latin1.txt", "invalid UTF-8")]:
        assert f"{name}: {reason}" in result.output


def test_index_json_summary_and_second_run_is_a_no_op(run, mixed_folder):
    first = json.loads(run("index", str(mixed_folder), "--json").output)
    assert first["documents_added"] == 2 and first["skip_counts"]["binary"] == 1
    assert {"read", "extract", "embed", "graph", "write"} <= set(first["stage_seconds"])
    assert set(first["stage_cpu_seconds"]) == set(first["stage_seconds"]) and first["cpu_seconds"] > 0
    second = json.loads(run("index", str(mixed_folder), "--json").output)
    assert second["documents_added"] == 0 and second["files_unchanged"] == 2


def test_read_commands_with_json(run, mixed_folder):
    run("index", str(mixed_folder))
    hits = json.loads(run("retrieve", "Where was Ada born?", "-k", "1", "--json").output)
    assert hits[0]["title"] == "Ada Lindqvist" and hits[0]["method"] == "hipporag"
    answer = json.loads(run("ask", "Where was Ada born?", "--json").output)
    assert answer["mode"] == "extractive" and "Kettleby" in answer["text"]
    stats = json.loads(run("stats", "--json").output)
    assert stats["counts"]["documents"] == 2
    docs = json.loads(run("docs", "--json").output)
    assert sorted(d["title"] for d in docs) == ["Ada Lindqvist", "Kettleby"]
    deleted = json.loads(run("delete", docs[0]["id"], "--json").output)
    assert deleted[0]["id"] == docs[0]["id"]
    assert json.loads(run("stats", "--json").output)["counts"]["documents"] == 1


def test_human_output(run, mixed_folder):
    run("index", str(mixed_folder))
    result = run("ask", "Where was Ada born?")
    assert result.exit_code == 0
    assert "(quoted sentences, no model)" in result.output and "Evidence" in result.output
    assert "Ada Lindqvist" in run("retrieve", "Kettleby", "--method", "bm25").output
    assert "2 document(s)" in run("docs").output


def test_errors_are_one_line_with_exit_code_1(run, mixed_folder):
    result = run("retrieve", "anything")
    assert result.exit_code == 1
    assert "error: no hippo store at" in result.output
    run("index", str(mixed_folder))
    result = run("retrieve", "x", "--method", "nope")
    assert result.exit_code == 1 and "unknown retrieval method 'nope'" in result.output
    assert "Traceback" not in result.output
    assert run("delete", "d-missing").exit_code == 1


def test_usage_errors_exit_2(run):
    assert run("retrieve").exit_code == 2
