"""What ``modstream up`` prints once everything runs: where it is and how to use it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from modstream.settings import UpSettings
from modstream.settings.defaults import METRICS_PATH, READY_PATH
from modstream.up.models import DEMO_NOTE, ModelChoice
from modstream.up.processes import HOST, Ports

EXAMPLE = "lol source: trust me bro"


def links(
    settings: UpSettings, ports: Ports, choice: ModelChoice, login: Path | None = None
) -> dict[str, str]:
    """URLs and ready-to-paste commands, shown by the banner and on the dashboard.

    ``login``: the properties file with an existing Kafka's login; the commands name the
    file, so no password is shown.
    """
    broker = ports.bootstrap_servers
    if login is not None:
        broker += f" --kafka-config @{shlex.quote(str(login))}"
    rest = f"http://{HOST}:{ports.http}"
    body = json.dumps({"data": {"ndarray": ["the sample size seems small for this claim"]}})
    return {
        "dashboard": f"http://{HOST}:{ports.dashboard}/",
        "rest": rest,
        "grpc": f"{HOST}:{ports.grpc}",
        "kafka": ports.bootstrap_servers,
        "worker_metrics": f"http://{HOST}:{ports.metrics}{METRICS_PATH}",
        "monitor": f"http://{HOST}:{ports.monitor}/api/report",
        "produce": (
            f"modstream produce --bootstrap-servers {broker} --topic "
            f"{shlex.quote(settings.input_topic)} {shlex.quote(EXAMPLE)}"
        ),
        "consume": (
            f"modstream consume --bootstrap-servers {broker} --topic "
            f"{shlex.quote(settings.output_topic)} --from-beginning"
        ),
        "models": f"modstream models list --bootstrap-servers {broker} --models-topic "
        f"{shlex.quote(settings.models_topic)}",
        "curl": (
            f"curl -s {rest}/api/v1.0/predictions -H 'content-type: application/json' "
            f"-d {shlex.quote(body)}"
        ),
    }


def render(
    settings: UpSettings, ports: Ports, choice: ModelChoice, workdir: Path, login: Path | None
) -> str:
    """The banner: one line per service, the model, and commands to try."""
    link = links(settings, ports, choice, login)
    model = choice.model
    lines = [
        "",
        "modstream is up. Ctrl-C stops everything.",
        "",
        f"  Dashboard  {link['dashboard']}",
        f"  REST       {link['rest']}  (Seldon /api/v1.0/predictions, "
        f"V2 /v2/models/{model.name}/infer)",
        f"  gRPC       {link['grpc']}  (seldon.protos.Model, inference.GRPCInferenceService)",
        f"  Kafka      {link['kafka']}{' (existing)' if ports.kafka else ''}  topics: "
        f"{settings.input_topic} -> {settings.output_topic}, dead letters: {settings.dead_letter}",
        f"  Worker     {link['worker_metrics']}  (readiness: {READY_PATH})",
        f"  Monitor    {link['monitor']}  decisions: {settings.decisions_topic}, "
        f"alerts: {settings.alerts_topic}, metrics: {settings.monitor_metrics_topic}",
        f"  Model      {choice.describe()}",
        f"  Registry   {settings.models_topic}  (versions and roles: {link['models']})",
        f"  Logs       {workdir}",
    ]
    if choice.demo:
        lines += ["", f"  {DEMO_NOTE}"]
    lines += [
        "",
        "Send a comment through Kafka and read the prediction:",
        f"  {link['produce']}",
        f"  {link['consume']}",
        "Or ask the REST server directly:",
        f"  {link['curl']}",
        "",
    ]
    return "\n".join(lines)
