"""``modstream deploy k8s`` as a user runs it: stdout, a directory, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modstream.cli import main

ARGS = [
    "deploy", "k8s", "--name", "moderation", "--image", "modstream:0.1.0",
    "--bootstrap-servers", "kafka:9092", "--input-topic", "comments",
    "--output-topic", "verdicts",
]  # fmt: skip


def test_stdout_is_one_multi_document_yaml_stream(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--max-replicas", "3"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    kinds = [d["kind"] for d in documents]
    assert kinds == [
        "KafkaTopic", "KafkaTopic", "KafkaTopic", "ConfigMap", "Service", "Deployment",
        "PodDisruptionBudget", "ScaledObject",
    ]  # fmt: skip
    assert {d["spec"]["partitions"] for d in documents if d["kind"] == "KafkaTopic"} == {3}


def test_out_directory_gets_one_file_per_object_in_apply_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deploy"
    assert main([*ARGS, "--flavour", "seldon", "--tls-secret", "tls", "--out", str(out)]) == 0
    files = sorted(out.iterdir())
    assert [str(f) for f in files] == sorted(capsys.readouterr().out.split())
    kinds = [yaml.safe_load(f.read_text())["kind"] for f in files]
    assert kinds == ["KafkaTopic", "KafkaTopic", "TriggerAuthentication", "SeldonDeployment"]


def test_hpa_replaces_keda_and_topics_can_be_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--autoscaler", "hpa", "--no-topics", "--no-serve"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    kinds = {d["kind"] for d in documents}
    assert "HorizontalPodAutoscaler" in kinds
    assert not kinds & {"ScaledObject", "KafkaTopic"}
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == ["stream"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-replicas", "4", "--partitions", "2"], "--partitions 2 is smaller than"),
        (["--min-replicas", "3", "--max-replicas", "2"], "--min-replicas (3)"),
        (["--kafka-config", "no-equals-sign"], "--kafka-config expects key=value"),
        (["--cpu", "2"], "--cpu 2 is above --cpu-limit 1"),
        (["--cpu", "lots"], "not a CPU quantity"),
    ],
)
def test_unworkable_options_are_refused_with_one_clear_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ARGS, *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_bad_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*ARGS]
    args[args.index("moderation")] = "Moderation_Model"
    assert main(args) == 2
    assert "must be a DNS label" in capsys.readouterr().err
