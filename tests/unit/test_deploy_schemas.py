"""Every generated object validates against the real schema of its kind, offline.

Custom resources (SeldonDeployment, KEDA ScaledObject, Strimzi KafkaTopic) are checked
against the CRDs in ../shared/schemas; built-in kinds against the Kubernetes OpenAPI
schemas bundled by ``kubernetes-validate``. Unknown fields are errors, as with
``kubectl apply --validate=strict``.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from modstream.deploy import DeployOptions, build_manifests

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas"
CRDS = {
    ("machinelearning.seldon.io/v1", "SeldonDeployment"): [
        "seldon-core-v1.18.2_seldondeployments.crd.yaml"
    ],
    ("keda.sh/v1alpha1", "ScaledObject"): ["keda-v2.20.2_scaledobjects.crd.yaml"],
    ("kafka.strimzi.io/v1", "KafkaTopic"): [
        "strimzi-0.49.1_kafkatopics.crd.yaml",
        "strimzi-1.2.0_kafkatopics.crd.yaml",
    ],
}
# No schema for it in ../shared: its shape is checked in test_deploy_manifests.
UNCHECKED = {("keda.sh/v1alpha1", "TriggerAuthentication")}
KUBERNETES_VERSIONS = ("1.27", "1.33")

BASE = {
    "name": "moderation",
    "image": "registry.example.com/modstream:0.1.0",
    "bootstrap_servers": "my-cluster-kafka-bootstrap.kafka:9092",
    "input_topic": "comments",
    "output_topic": "comments.verdicts",
}
SECURE = {"tls_secret": "kafka-tls", "sasl_secret": "kafka-sasl", "kafka_config": {"a.b": "1"}}
CASES: dict[str, dict[str, Any]] = {
    "plain-keda": {},
    "plain-hpa": {"autoscaler": "hpa", "max_replicas": 6, "partitions": 12},
    "plain-fixed-secure": {"autoscaler": "none", **SECURE},
    "plain-keda-secure-worker-only": {"serve": False, **SECURE},
    "seldon-keda": {"flavour": "seldon", "namespace": "mod", "max_replicas": 4},
    "seldon-keda-secure": {"flavour": "seldon", **SECURE},
    "seldon-hpa": {"flavour": "seldon", "autoscaler": "hpa"},
    "seldon-fixed": {"flavour": "seldon", "autoscaler": "none", "min_replicas": 2},
}


def manifests_for(case: str) -> list[dict[str, Any]]:
    return build_manifests(DeployOptions(**{**BASE, **CASES[case]}))


def _strict(schema: Any) -> Any:
    """OpenAPI v3 (CRD) schema as JSON Schema, with unknown fields rejected."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    open_object = out.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in out
    if "properties" in out and not open_object:
        out["additionalProperties"] = False
    return out


@cache
def crd_validators(api_version: str, kind: str) -> list[tuple[str, Draft7Validator]]:
    if not SCHEMAS.is_dir():
        pytest.skip(f"CRD schemas are not at {SCHEMAS} (../shared is outside the repo)")
    version = api_version.rsplit("/", 1)[1]
    validators = []
    for file in CRDS[(api_version, kind)]:
        crd = yaml.safe_load((SCHEMAS / file).read_text(encoding="utf-8"))
        assert crd["spec"]["names"]["kind"] == kind
        served = {v["name"]: v for v in crd["spec"]["versions"] if v["served"]}
        assert version in served, f"{file} does not serve {api_version}"
        schema = _strict(copy.deepcopy(served[version]["schema"]["openAPIV3Schema"]))
        validators.append((file, Draft7Validator(schema)))
    return validators


def _errors(validator: Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]


def _validate_builtin(manifest: dict[str, Any], version: str) -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="needs the dev dependency kubernetes-validate"
    )
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = "/".join(map(str, exc.path))
        pytest.fail(f"{manifest['kind']} invalid for Kubernetes {version} at {path}: {exc.message}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_custom_resources_validate_against_their_crds(case: str) -> None:
    custom = [m for m in manifests_for(case) if (m["apiVersion"], m["kind"]) in CRDS]
    assert custom
    for manifest in custom:
        for file, validator in crd_validators(manifest["apiVersion"], manifest["kind"]):
            errors = _errors(validator, manifest)
            assert not errors, f"{manifest['kind']} against {file}: {errors}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_builtin_objects_validate_against_kubernetes_schemas(case: str) -> None:
    known = set(CRDS) | UNCHECKED
    for manifest in manifests_for(case):
        if (manifest["apiVersion"], manifest["kind"]) not in known:
            for version in KUBERNETES_VERSIONS:
                _validate_builtin(manifest, version)


def test_the_strict_crd_check_catches_a_misspelt_field() -> None:
    """The schema check would notice a typo, so passing it means something."""
    manifest = next(m for m in manifests_for("seldon-keda") if m["kind"] == "SeldonDeployment")
    manifest["spec"]["predictors"][0]["componentSpecs"][0]["kedaSpec"]["maxReplicas"] = 3
    (_, validator), *_ = crd_validators("machinelearning.seldon.io/v1", "SeldonDeployment")
    assert any("maxReplicas" in error for error in _errors(validator, manifest))


def test_the_builtin_check_catches_a_misspelt_field() -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="needs the dev dependency kubernetes-validate"
    )
    manifest = next(m for m in manifests_for("plain-keda") if m["kind"] == "Deployment")
    manifest["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSIONS[-1], strict=True)
