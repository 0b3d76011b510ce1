"""The worker and the console tools on a secured Apache Kafka: SASL_SSL (SCRAM-SHA-512 over
TLS with a CA made here) and ACLs that let each principal use only its own topics, group
and transactional id. A refused login or ACL ends with one clear line and a non-zero exit,
nothing is committed without the right to write, a rotated password stops a running
worker, monitor and registry-following server, a worker that may not read the policies or
models topic it follows stops, and no password or private key shows in logs, metrics,
errors or command lines."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka.admin import (
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from modstream.errors import AuthenticationFailed, NotAuthorized
from modstream.model import TextModel
from modstream.settings import StreamSettings
from modstream.settings.defaults import METRICS_PATH, READY_PATH
from tests.integration.security_fixtures import (
    Secured,
    StreamTopics,
    allow_up,
    banner_command,
    client_key,
    command_lines,
    lines,
    modstream,
    run,
    secured_cluster,
    seldon_env,
    send_with_banner_command,
    stop,
    up_topics,
    worker_thread,
    write_properties,
)
from tests.integration.stream_fixtures import committed, produce, read, seldon, unique, wait_for
from tests.integration.test_up import start_up, stop_up
from tests.kafka import allow
from tests.kafka.cluster import free_port
from tests.kafka.fixtures import running

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]

NOTHING_COMMITTED = -1001  # librdkafka's OFFSET_INVALID


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    workdir = tmp_path_factory.mktemp("secured")
    cluster, security, users = secured_cluster(workdir)
    with running(cluster):
        cert, key, key_password = client_key(workdir)
        result = Secured(cluster, security, users, cert, key, key_password, workdir)
        write_properties(result)
        yield result


def _worker_acls(secured: Secured, topics: StreamTopics, user: str = "worker") -> None:
    """``user`` may read the input, write the output and dead letters, join the group; the
    ``app`` principal sends requests and reads answers (a group of its own)."""
    transactional_id = f"modstream-{topics.group}-{topics.input}-{socket.gethostname()}-0"
    secured.cluster.create_acls(
        allow(user, read=[topics.input], write=[topics.output, topics.dead_letter],
              groups=[topics.group], transactional_ids=[transactional_id])
        + allow("app", write=[topics.input], read=[topics.output, topics.dead_letter],
                groups=[f"app-{topics.group}"])
    )  # fmt: skip


def _send_and_read(secured: Secured, topics: StreamTopics, texts: list[str]) -> list[str]:
    """``modstream produce`` the texts and ``modstream consume`` their answers, as ``app``."""
    login = ["--bootstrap-servers", secured.servers, "--kafka-config",
             f"@{secured.users['app'].properties}"]  # fmt: skip
    code, output = run("produce", *login, "--topic", topics.input, *texts)
    assert code == 0, output
    secured.assert_hidden(output)
    code, output = run(
        "consume", *login, "--topic", topics.output, "--from-beginning", "--max",
        str(len(texts)), "--timeout", "90", "--group", f"app-{topics.group}",
        "--kafka-config", "isolation.level=read_committed",
    )  # fmt: skip
    assert code == 0, output
    secured.assert_hidden(output)
    return [line for line in lines(output) if line.startswith("{")]


def _ready(port: int, path: str = READY_PATH) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _scrape(port: int) -> str:
    with httpx.Client(timeout=10) as client:
        ready = client.get(f"http://127.0.0.1:{port}{READY_PATH}")
        metrics = client.get(f"http://127.0.0.1:{port}{METRICS_PATH}")
    return f"{ready.status_code} {ready.text}\n{metrics.text}"


def test_stream_with_seldon_env_exactly_once_over_sasl_ssl(
    secured: Secured, model_dir: Path, tmp_path: Path
) -> None:
    topics = StreamTopics().create(secured.cluster)
    _worker_acls(secured, topics)
    port, log = free_port(), tmp_path / "worker.log"
    worker = modstream(
        "stream", "--model", str(model_dir), "--group", topics.group, "--exactly-once",
        "--metrics-port", str(port), env=seldon_env(secured, topics, "worker"), log=log,
    )  # fmt: skip
    try:
        answers = _send_and_read(secured, topics, ["first comment", "second", "third"])
        assert len(answers) == 3 and all('"t:1"' in answer for answer in answers)
        secured.assert_hidden(_scrape(port), *command_lines(worker.pid))
    finally:
        assert stop(worker) == 0, log.read_text()[-3000:]
    secured.assert_hidden(log.read_text())


def test_stream_with_kafka_config_and_two_workers_over_sasl_ssl(
    secured: Secured, model_dir: Path, tmp_path: Path
) -> None:
    topics = StreamTopics().create(secured.cluster)
    _worker_acls(secured, topics)
    log, port = tmp_path / "workers.log", free_port()
    workers = modstream(
        "stream", "--model", str(model_dir), "--bootstrap-servers", secured.servers,
        "--input-topic", topics.input, "--output-topic", topics.output, "--group", topics.group,
        "--workers", "2", "--kafka-config", "security.protocol=SASL_SSL", "--metrics-port",
        str(port), "--kafka-config", f"@{secured.users['worker'].properties}", log=log,
    )  # fmt: skip
    try:
        assert len(_send_and_read(secured, topics, ["one", "two"])) == 2
        # Both in the group (worker i serves PORT+i), so both stop on SIGTERM cleanly.
        assert wait_for(lambda: all(_ready(port + i) for i in (0, 1)), timeout=120)
        secured.assert_hidden(_scrape(port), _scrape(port + 1))
        # Neither the command line nor the worker processes it starts show the password.
        processes = list(command_lines(workers.pid))
        assert len(processes) >= 3
        secured.assert_hidden(*processes)
    finally:
        assert stop(workers) == 0, log.read_text()[-3000:]
    secured.assert_hidden(log.read_text())


def _assert_one_line_error(code: int, output: str, command: str, *expected: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    last = lines(output)[-1]
    assert last.startswith(f"modstream {command}: error: "), output
    for text in expected:
        assert text in last


def test_wrong_password_ends_every_command_with_one_line(
    secured: Secured, model_dir: Path, tmp_path: Path
) -> None:
    topics = StreamTopics().create(secured.cluster)
    _worker_acls(secured, topics)
    wrong = f"not-{secured.users['worker'].password}"
    secured.extra_secrets.append(wrong)
    bad = tmp_path / "bad.properties"
    login = secured.login("worker", wrong)
    bad.write_text("".join(f"{k}={v}\n" for k, v in login.items()))
    common = ["--bootstrap-servers", secured.servers, "--kafka-config", f"@{bad}"]
    refused = ("refused the login", "SASL authentication error")

    code, output = run("stream", "--model", str(model_dir), *common, "--input-topic",
                       topics.input, "--output-topic", topics.output, "--group", topics.group)  # fmt: skip
    _assert_one_line_error(code, output, "stream", *refused)
    secured.assert_hidden(output)
    code, output = run("produce", *common, "--topic", topics.input, "hello")
    _assert_one_line_error(code, output, "produce", *refused)
    code, output = run("consume", *common, "--topic", topics.output, "--timeout", "60")
    _assert_one_line_error(code, output, "consume", *refused)
    secured.assert_hidden(output)
    code, output = run("up", *common)  # before it trains or loads a model
    _assert_one_line_error(code, output, "up", *refused)
    secured.assert_hidden(output)
    code, output = run("monitor", *common, "--predictions-topic", topics.output,
                       "--decisions-topic", topics.input, "--port", "0")  # fmt: skip
    _assert_one_line_error(code, output, "monitor", *refused)
    secured.assert_hidden(output)
    code, output = run("serve", "--registry", *common, "--http-port", "0", "--grpc-port", "0")
    _assert_one_line_error(code, output, "serve", *refused)
    secured.assert_hidden(output)


def _settings(secured: Secured, topics: StreamTopics, user: str) -> StreamSettings:
    return StreamSettings(
        bootstrap_servers=secured.servers, input_topic=topics.input,
        output_topic=topics.output, group=topics.group, max_wait_ms=20,
        kafka_config=secured.login(user),
    )  # fmt: skip


def test_no_write_access_stops_the_worker_and_commits_nothing(
    secured: Secured, model: TextModel
) -> None:
    topics = StreamTopics().create(secured.cluster)
    secured.cluster.create_acls(
        allow("nowrite", read=[topics.input], write=[topics.dead_letter], groups=[topics.group])
    )
    produce(secured.cluster, topics.input, [seldon(f"comment {i}") for i in range(3)])
    worker, errors, stop_event, thread = worker_thread(_settings(secured, topics, "nowrite"), model)
    thread.join(120)
    stop_event.set()
    assert not thread.is_alive()
    [error] = errors
    assert isinstance(error, NotAuthorized)
    assert f"write to topic {topics.output!r}" in str(error)
    assert "TOPIC_AUTHORIZATION_FAILED" in str(error)
    assert committed(secured.cluster, topics.group, topics.input, 1) == {0: NOTHING_COMMITTED}
    assert read(secured.cluster, topics.output, 1, timeout=3) == []
    assert not worker.ready


def test_a_rotated_password_stops_a_running_worker(secured: Secured, model: TextModel) -> None:
    topics = StreamTopics().create(secured.cluster)
    _worker_acls(secured, topics, user="rotating")
    worker, errors, stop_event, thread = worker_thread(
        _settings(secured, topics, "rotating"), model
    )
    try:
        produce(secured.cluster, topics.input, [seldon("before the rotation")])
        assert len(read(secured.cluster, topics.output, 1, timeout=90)) == 1
        assert worker.ready
        _rotate_password(secured, "rotating")
        # Its connections must log in again within connections.max.reauth.ms, and fail.
        assert wait_for(lambda: not thread.is_alive(), timeout=120)
    finally:
        stop_event.set()
        thread.join(60)
    [error] = errors
    assert isinstance(error, AuthenticationFailed), error
    assert not worker.ready
    secured.assert_hidden(str(error))


@pytest.mark.parametrize("follows", ["--policies-topic", "--models-topic"])
def test_a_worker_not_or_no_longer_allowed_to_read_what_it_follows_stops_with_one_line(
    secured: Secured, model_dir: Path, follows: str
) -> None:
    topics = StreamTopics().create(secured.cluster)
    _worker_acls(secured, topics, user="policed")
    followed = unique("followed")
    secured.cluster.create_topics({followed: 1})
    port = free_port()
    command = ["stream", "--model", str(model_dir), "--bootstrap-servers", secured.servers,
               "--kafka-config", f"@{secured.users['policed'].properties}", "--input-topic",
               topics.input, "--output-topic", topics.output, "--group", topics.group,
               follows, followed, "--metrics-port", str(port)]  # fmt: skip
    if follows == "--models-topic":
        command.append("--registry")
    refused = (f"read topic {followed!r}", "TOPIC_AUTHORIZATION_FAILED")
    # Not allowed from the start: it says so at once, instead of answering without them.
    code, output = run(*command, timeout=60)
    _assert_one_line_error(code, output, "stream", *refused)
    # Allowed, it answers; the read taken away, it stops rather than answer by stale rules
    # or miss a promotion.
    reading = allow("policed", read=[followed])
    secured.cluster.create_acls(reading)
    worker = modstream(*command)
    try:
        assert wait_for(lambda: _ready(port), timeout=90)
        assert len(_send_and_read(secured, topics, ["a comment before the change"])) == 1
        secured.cluster.delete_acls(reading)
        code = worker.wait(60)
        out, err = worker.communicate()
    finally:
        stop(worker)
    _assert_one_line_error(code, out + err, "stream", *refused)
    secured.assert_hidden(out + err)


def test_serve_and_policy_show_say_which_topic_they_may_not_read(
    secured: Secured, model_dir: Path
) -> None:
    models, policies = unique("models"), unique("policies")
    secured.cluster.create_topics({models: 1, policies: 1})
    login = ["--bootstrap-servers", secured.servers,
             "--kafka-config", f"@{secured.users['policed'].properties}"]  # fmt: skip
    # Before, the server took the topic for a missing one and served its --model, waiting.
    code, output = run("serve", "--registry", "--model", str(model_dir), *login,
                       "--models-topic", models, "--http-port", "0", "--grpc-port", "0",
                       timeout=60)  # fmt: skip
    _assert_one_line_error(code, output, "serve", f"read topic {models!r}")
    # Before, "topic ... does not exist".
    code, output = run("policy", "show", *login, "--policies-topic", policies, timeout=60)
    _assert_one_line_error(code, output, "policy", f"read topic {policies!r}")
    secured.assert_hidden(output)


def _rotate_password(secured: Secured, user: str) -> None:
    """Give ``user`` a new password on the cluster (the clients still have the old one)."""
    new_password = secured.users[user].password + "-rotated"
    secured.extra_secrets.append(new_password)
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
    change = UserScramCredentialUpsertion(user, info, new_password.encode())
    admin = secured.cluster.admin()  # kept until the change is done
    for future in admin.alter_user_scram_credentials([change]).values():
        future.result(30)


def test_a_rotated_password_stops_the_monitor_and_a_server_following_the_registry(
    secured: Secured, model_dir: Path, tmp_path: Path
) -> None:
    prefix = unique("turned")
    allow_up(secured, "turned", prefix, create=False)
    names = ["predictions", "decisions", "metrics", "alerts", "models"]
    topic = {name: f"{prefix}-{name}" for name in names}
    secured.cluster.create_topics(dict.fromkeys(topic.values(), 1))
    common = ["--bootstrap-servers", secured.servers,
              "--kafka-config", f"@{secured.users['turned'].properties}"]  # fmt: skip
    monitor_port, http_port, grpc_port = free_port(), free_port(), free_port()
    monitor = modstream("monitor", *common, "--predictions-topic", topic["predictions"],
                        "--decisions-topic", topic["decisions"], "--metrics-topic",
                        topic["metrics"], "--alerts-topic", topic["alerts"],
                        "--state-dir", str(tmp_path / "state"), "--port", str(monitor_port))  # fmt: skip
    server = modstream("serve", "--registry", "--model", str(model_dir), *common,
                       "--models-topic", topic["models"], "--http-port", str(http_port),
                       "--grpc-port", str(grpc_port))  # fmt: skip
    try:
        assert wait_for(lambda: _ready(monitor_port) and _ready(http_port, "/v2/health/ready"),
                        timeout=90)  # fmt: skip
        _rotate_password(secured, "turned")
        # Each must notice at its next login (connections.max.reauth.ms), stop and say why.
        results = [(process.wait(120), *process.communicate()) for process in (monitor, server)]
    finally:
        for process in (monitor, server):
            stop(process)
    for (code, out, err), command in zip(results, ["monitor", "serve"], strict=True):
        _assert_one_line_error(code, out + err, command, "refused the login")
        secured.assert_hidden(out + err)


def test_a_monitor_that_may_not_write_its_metrics_stops_with_one_line(secured: Secured) -> None:
    prefix = unique("mute")
    topic = {name: f"{prefix}-{name}" for name in ["predictions", "decisions", "metrics", "alerts"]}
    secured.cluster.create_topics(dict.fromkeys(topic.values(), 1))
    # No ACL for its group either: it assigns its partitions and commits nothing, so it
    # needs none, and that refusal must not be what stops it.
    secured.cluster.create_acls(
        allow("nowrite", read=[topic["predictions"], topic["decisions"]], write=[topic["alerts"]])
    )
    common = ["--bootstrap-servers", secured.servers,
              "--kafka-config", f"@{secured.users['nowrite'].properties}"]  # fmt: skip
    # Its first tick publishes the metrics: refused, it stops instead of rewinding for ever.
    code, output = run("monitor", *common, "--predictions-topic", topic["predictions"],
                       "--decisions-topic", topic["decisions"], "--metrics-topic",
                       topic["metrics"], "--alerts-topic", topic["alerts"], "--tick-s", "1",
                       "--port", "0", timeout=60)  # fmt: skip
    _assert_one_line_error(code, output, "monitor", f"write to topic {topic['metrics']!r}",
                           "TOPIC_AUTHORIZATION_FAILED")  # fmt: skip
    secured.assert_hidden(output)


def test_up_runs_on_the_secured_kafka_creates_what_is_missing_and_shows_no_secret(
    secured: Secured, model_dir: Path, model: TextModel, tmp_path: Path
) -> None:
    prefix = unique("stack")
    flags, env = up_topics(prefix)
    store = tmp_path / "store"  # where the registry's copy of the model outlives up
    env["MODSTREAM_REGISTRY_STORE"] = str(store)
    present = [f"{prefix}-comments", f"{prefix}-predictions"]
    secured.cluster.create_topics(dict.fromkeys(present, 1))
    allow_up(secured, "stack", prefix, create=True)  # the registry creates its topics too
    login = ["--kafka-config", f"@{secured.users['stack'].properties}"]
    up = start_up("--model", str(model_dir), "--bootstrap-servers", secured.servers, *flags,
                  *login, env=env)  # fmt: skip
    try:
        out = up.output
        assert f"using the existing Kafka at {secured.servers}: {', '.join(present)} exist" in out
        [created] = [line for line in out.splitlines() if line.startswith("created ")]
        made = [f"{prefix}-{name}" for name in ("comments.dlq", "decisions", "decisions.dlq",
                "monitor.metrics", "monitor.alerts", "predictions.review", "predictions.shadow")]  # fmt: skip
        assert created == f"created {', '.join(made)} on {secured.servers} (1 partition(s) each)"
        assert set(made) <= set(secured.cluster.admin().list_topics(timeout=10).topics)
        assert f"Kafka      {secured.servers} (existing)" in out
        processes = list(command_lines(up.process.pid))
        assert not [p for p in processes if " broker " in p]  # no embedded broker
        produce = banner_command(out, "produce")
        login_file = Path(produce[produce.index("--kafka-config") + 1].removeprefix("@"))
        assert login_file.stat().st_mode & 0o777 == 0o600

        send_with_banner_command(out, "lol source: trust me bro")
        box = httpx.post(f"{up.url}/api/comments", json={"text": "a fine study"}, timeout=15)
        assert box.status_code == 202
        snapshot = lambda: httpx.get(f"{up.url}/api/snapshot", timeout=5)  # noqa: E731
        assert wait_for(lambda: snapshot().json()["stats"]["scored"] >= 2, timeout=120)
        texts = {comment["text"] for comment in snapshot().json()["comments"]}
        assert {"lol source: trust me bro", "a fine study"} <= texts
        page = httpx.get(up.url, timeout=5).text
        worker = _scrape(up.ports["metrics-port"])
        secured.assert_hidden(out, snapshot().text, page, worker, *processes)
    finally:
        assert stop_up(up) == 0, up.output
    secured.assert_hidden(up.output)
    assert not login_file.exists()  # the copy of the login is gone with up
    assert [p.parent.parent.name for p in store.glob("*/*/manifest.json")] == [model.name]


def test_up_names_the_topics_it_may_not_create(secured: Secured, model_dir: Path) -> None:
    prefix = unique("nocreate")
    allow_up(secured, "stack", prefix, create=False)
    flags, env = up_topics(prefix)
    code, output = run(
        "up", "--model", str(model_dir), "--bootstrap-servers", secured.servers, *flags,
        "--kafka-config", f"@{secured.users['stack'].properties}", env=env,
    )  # fmt: skip
    _assert_one_line_error(code, output, "up", f"{prefix}-comments", "may not create them")
    assert "TOPIC_AUTHORIZATION_FAILED" in output
    secured.assert_hidden(output)
