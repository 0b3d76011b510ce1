"""Strimzi ``KafkaTopic`` objects for the topics a deployment reads and writes."""

from __future__ import annotations

from modstream.deploy.common import DeployOptions, Manifest, k8s_name, labels

# v1 is served by Strimzi 0.49 and is the only version from Strimzi 1.0 on.
STRIMZI_API = "kafka.strimzi.io/v1"


def topic_names(options: DeployOptions) -> list[str]:
    """Input and output; the plain worker also writes a dead-letter topic."""
    names = [options.input_topic, options.output_topic]
    if options.flavour == "plain":
        names.append(options.dead_letter)
    return list(dict.fromkeys(names))


def kafka_topic(options: DeployOptions, topic: str) -> Manifest:
    spec: Manifest = {"topicName": topic, "partitions": options.topic_partitions}
    if options.topic_replicas is not None:
        spec["replicas"] = options.topic_replicas
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaTopic",
        "metadata": {
            "name": k8s_name(topic),
            "namespace": options.kafka_namespace or options.namespace,
            "labels": {
                **labels(options, "topic"),
                # The topic operator reconciles only topics labelled with its cluster, in
                # the namespace it watches (usually the Kafka cluster's).
                "strimzi.io/cluster": options.kafka_cluster,
            },
        },
        "spec": spec,
    }


def kafka_topics(options: DeployOptions) -> list[Manifest]:
    return [kafka_topic(options, topic) for topic in topic_names(options)]
