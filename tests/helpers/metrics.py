"""GET /metrics read as a test reads it: every sample by name and labels, parsed with
prometheus_client's own parser of the text format (what Prometheus reads)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

PREFIX = "regression_analyzer_"


@dataclass
class Scrape:
    """One scrape: each sample's value by (name, sorted labels)."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    def value(self, name: str, **labels: str) -> float:
        """A sample's value; 0 when the scrape does not hold it."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def has(self, name: str) -> bool:
        return any(sample_name == name for sample_name, _ in self.samples)

    def label_values(self) -> set[str]:
        """Every label value of every sample."""
        return {value for _, labels in self.samples for _, value in labels}

    def with_label(self, name: str, label: str) -> dict[str, float]:
        """The samples of `name` by the value of `label`."""
        return {
            dict(labels)[label]: value
            for sample_name, labels in self.samples
            if sample_name == name and label in dict(labels)
            for value in [self.samples[(sample_name, labels)]]
        }


def parse(text: str) -> Scrape:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return Scrape(samples)


def scrape(client: httpx.Client) -> Scrape:
    """GET /metrics with the client's token; fails unless it answers 200 in the text format."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


def scrape_when(
    client: httpx.Client, condition: Callable[[Scrape], bool], timeout: float = 10
) -> Scrape:
    """The first scrape that meets `condition`: a job's state reads "completed" a moment
    before the service has seen its process end (and counted it)."""
    deadline = time.monotonic() + timeout
    while True:
        scraped = scrape(client)
        if condition(scraped):
            return scraped
        assert time.monotonic() < deadline, "no scrape met the condition in time"
        time.sleep(0.05)
