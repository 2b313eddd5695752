"""The LLM layer against local fakes of the Anthropic and OpenAI APIs, through the real SDKs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from regression_analyzer.errors import InputError, LLMError
from regression_analyzer.llm import (
    DEFAULT_MODELS,
    Interpretation,
    LLMClient,
    TableUnderstanding,
    configured_providers,
    select_client,
    why_none,
)
from regression_analyzer.llm.base import extract_json
from tests.helpers.fake_vendors import FakeVendor

SECRET = "sk-test-SECRET-0123456789abcdef"
KEY_VARS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
URL_VARS = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}

UNDERSTANDING = {
    "business_context": "Monthly sales per store with advertising spend.",
    "columns": [
        {"name": "order_id", "role": "id", "description": "order number"},
        {"name": "ad_spend", "role": "numeric", "description": "advertising spend"},
        {"name": "revenue", "role": "numeric", "description": "revenue"},
    ],
    "target": "revenue",
    "target_reason": "revenue is the business outcome",
    "predictors": ["ad_spend"],
    "sideways": False,
    "sideways_reason": "one record per row",
}
INTERPRETATION = {"text": "Ad spend drives revenue (R² = 0.87).", "key_points": ["ad spend"]}
SUMMARY = {"rows": 3, "columns": [{"name": "revenue", "dtype": "float64"}]}


@pytest.fixture(params=["anthropic", "openai"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeVendor]:
    with FakeVendor(request.param) as server:
        yield server


def _client(
    fake: FakeVendor, timeout_s: float = 5, max_retries: int = 2, model: str | None = None
) -> LLMClient:
    env = {KEY_VARS[fake.vendor]: SECRET, URL_VARS[fake.vendor]: fake.base_url}
    client = select_client(
        provider=fake.vendor, model=model, env=env, timeout_s=timeout_s, max_retries=max_retries
    )
    assert client is not None
    return client


# ---- success paths ---------------------------------------------------------------------------


def test_understand_table_parses_into_the_schema(fake: FakeVendor) -> None:
    fake.script(fake.ok_json(UNDERSTANDING))
    answer = _client(fake, model="test-model-1").understand_table(SUMMARY, "retail sales")
    assert isinstance(answer, TableUnderstanding)
    assert answer.target == "revenue"
    assert answer.columns[0].role == "id"
    assert answer.sideways is False
    [request] = fake.requests
    assert request.json["model"] == "test-model-1"
    sent = json.dumps(request.json)
    assert "retail sales" in sent and "revenue" in sent


def test_auth_headers_and_vendor_specifics(fake: FakeVendor) -> None:
    fake.script(fake.ok_json(INTERPRETATION))
    _client(fake).interpret({"r_squared": 0.87})
    [request] = fake.requests
    if fake.vendor == "anthropic":
        assert request.path == "/v1/messages"
        # anthropic>=2 sends the key as a Bearer token; older SDKs used x-api-key.
        sent = request.headers.get("x-api-key") or request.headers["authorization"]
        assert sent in (SECRET, f"Bearer {SECRET}")
        assert "anthropic-version" in request.headers
        assert request.json["max_tokens"] > 0
        assert request.json["messages"][0]["role"] == "user"
        assert "JSON" in request.json["system"]
    else:
        assert request.path == "/v1/chat/completions"
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert request.json["response_format"] == {"type": "json_object"}
        assert request.json["messages"][0]["role"] == "system"


def test_interpret_tolerates_code_fences(fake: FakeVendor) -> None:
    fake.script(fake.ok("```json\n" + json.dumps(INTERPRETATION) + "\n```"))
    answer = _client(fake).interpret({"r_squared": 0.87})
    assert isinstance(answer, Interpretation)
    assert answer.text == INTERPRETATION["text"]
    assert answer.key_points == ["ad spend"]


def test_default_model_and_env_override(fake: FakeVendor) -> None:
    fake.script(fake.ok_json(INTERPRETATION), fake.ok_json(INTERPRETATION))
    _client(fake).interpret({})
    env = {
        KEY_VARS[fake.vendor]: SECRET,
        URL_VARS[fake.vendor]: fake.base_url,
        f"REGRESSION_ANALYZER_{fake.vendor.upper()}_MODEL": "from-env",
    }
    client = select_client(env=env)
    assert client is not None and client.model == "from-env"
    client.interpret({})
    assert [r.json["model"] for r in fake.requests] == [DEFAULT_MODELS[fake.vendor], "from-env"]


# ---- transport failures: the SDKs' own retries ------------------------------------------------


def test_rate_limit_then_success_retries(fake: FakeVendor) -> None:
    fake.script(fake.rate_limited(), fake.ok_json(INTERPRETATION))
    assert _client(fake).interpret({}).text == INTERPRETATION["text"]
    assert len(fake.requests) == 2
    assert fake.requests[1].headers.get("x-stainless-retry-count") == "1"


@pytest.mark.parametrize("status", [500, 503, 529])
def test_server_error_then_success_retries(fake: FakeVendor, status: int) -> None:
    fake.script(fake.server_error(status), fake.ok_json(INTERPRETATION))
    assert _client(fake).interpret({}).text == INTERPRETATION["text"]
    assert len(fake.requests) == 2


def test_persistent_rate_limit_gives_llm_error(fake: FakeVendor) -> None:
    fake.script(*[fake.rate_limited() for _ in range(3)])
    with pytest.raises(LLMError) as info:
        _client(fake, max_retries=2).interpret({})
    assert len(fake.requests) == 3  # the first try and two retries
    message = str(info.value)
    assert "429" in message and fake.vendor in message and "2 retries" in message
    assert "\n" not in message


def test_timeout_gives_llm_error(fake: FakeVendor) -> None:
    fake.script(fake.slow(3.0), fake.slow(3.0))
    with pytest.raises(LLMError, match="timed out"):
        _client(fake, timeout_s=0.3, max_retries=1).interpret({})
    assert len(fake.requests) == 2  # the timed-out attempt was retried once


def test_connection_refused_gives_llm_error() -> None:
    with FakeVendor("openai") as server:
        url = server.base_url
    client = select_client(
        env={"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": url}, timeout_s=1, max_retries=0
    )
    assert client is not None
    with pytest.raises(LLMError, match="could not connect"):
        client.interpret({})


def test_malformed_response_body_gives_llm_error(fake: FakeVendor) -> None:
    fake.script(fake.malformed_body(), fake.malformed_body())
    with pytest.raises(LLMError) as info:
        _client(fake).interpret({})
    assert SECRET not in str(info.value)


def test_client_error_is_not_retried(fake: FakeVendor) -> None:
    fake.script(fake.error(400, "bad request"), fake.ok_json(INTERPRETATION))
    with pytest.raises(LLMError, match="HTTP 400"):
        _client(fake).interpret({})
    assert len(fake.requests) == 1


# ---- answers that are not the JSON asked for -------------------------------------------------


def test_invalid_answer_gets_one_corrective_retry(fake: FakeVendor) -> None:
    fake.script(
        fake.ok("Sure! Here is my analysis: revenue is great."), fake.ok_json(INTERPRETATION)
    )
    answer = _client(fake).interpret({})
    assert answer.text == INTERPRETATION["text"]
    assert len(fake.requests) == 2
    follow_up = fake.requests[1].json["messages"]
    assert follow_up[-2] == {
        "role": "assistant",
        "content": "Sure! Here is my analysis: revenue is great.",
    }
    assert "could not be used" in follow_up[-1]["content"]


def test_schema_violation_is_explained_in_the_correction(fake: FakeVendor) -> None:
    wrong = {**UNDERSTANDING, "columns": [{"name": "x", "role": "weird"}]}
    fake.script(fake.ok_json(wrong), fake.ok_json(UNDERSTANDING))
    assert _client(fake).understand_table(SUMMARY, None).target == "revenue"
    correction = fake.requests[1].json["messages"][-1]["content"]
    assert "columns.0.role" in correction


def test_invalid_answer_twice_gives_llm_error(fake: FakeVendor) -> None:
    fake.script(fake.ok("not json"), fake.ok('{"key_points": []}'), fake.ok_json(INTERPRETATION))
    with pytest.raises(LLMError, match="unusable answer twice"):
        _client(fake).interpret({})
    assert len(fake.requests) == 2  # no third try


def test_extract_json_variants() -> None:
    assert extract_json('```\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('Here you go: {"a": {"b": 2}} hope it helps') == {"a": {"b": 2}}
    assert extract_json('  {"a": 1}  ') == {"a": 1}


# ---- secrets ---------------------------------------------------------------------------------


def test_key_never_in_errors_logs_or_reprs(
    fake: FakeVendor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A vendor (or proxy) that echoes the key back in its error body.
    fake.script(fake.error(401, f"Incorrect API key provided: {SECRET}."))
    client = _client(fake)
    with pytest.raises(LLMError) as info:
        client.interpret({})
    assert "401" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert SECRET not in repr(client)
    assert SECRET not in json.dumps(
        [s.model_dump() for s in configured_providers({KEY_VARS[fake.vendor]: SECRET})]
    )


def test_error_chain_does_not_carry_the_sdk_exception(fake: FakeVendor) -> None:
    fake.script(fake.error(401, f"Incorrect API key provided: {SECRET}."))
    with pytest.raises(LLMError) as info:
        _client(fake).interpret({})
    # raise ... from None: tracebacks printed by callers do not show the SDK's message.
    assert info.value.__suppress_context__ is True
    assert info.value.__cause__ is None


# ---- provider selection ----------------------------------------------------------------------


def test_anthropic_preferred_when_both_keys_set() -> None:
    client = select_client(env={"ANTHROPIC_API_KEY": "a-key", "OPENAI_API_KEY": "o-key"})
    assert client is not None and client.name == "anthropic"
    assert client.model == DEFAULT_MODELS["anthropic"]


def test_openai_when_only_its_key_set() -> None:
    client = select_client(env={"OPENAI_API_KEY": "o-key"})
    assert client is not None and client.name == "openai"


def test_explicit_provider_wins() -> None:
    env = {"ANTHROPIC_API_KEY": "a-key", "OPENAI_API_KEY": "o-key"}
    client = select_client(provider="OpenAI", model="gpt-test", env=env)
    assert client is not None and (client.name, client.model) == ("openai", "gpt-test")


def test_no_keys_gives_none_with_reason() -> None:
    assert select_client(env={}) is None
    reason = why_none(env={})
    assert reason is not None and "ANTHROPIC_API_KEY" in reason and "OPENAI_API_KEY" in reason
    assert why_none(env={"OPENAI_API_KEY": "x"}) is None


def test_named_provider_without_key_gives_none_with_reason() -> None:
    env = {"OPENAI_API_KEY": "o-key"}
    assert select_client(provider="anthropic", env=env) is None
    reason = why_none("anthropic", env)
    assert reason is not None and "ANTHROPIC_API_KEY" in reason


def test_unknown_provider_is_an_input_error() -> None:
    with pytest.raises(InputError, match="mistral"):
        select_client(provider="mistral", env={"OPENAI_API_KEY": "o-key"})
    with pytest.raises(InputError):
        why_none("mistral", {})


def test_key_from_file(tmp_path: Path, fake: FakeVendor) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text(SECRET + "\n")
    env = {f"{KEY_VARS[fake.vendor]}_FILE": str(secret_file), URL_VARS[fake.vendor]: fake.base_url}
    client = select_client(env=env)
    assert client is not None and client.name == fake.vendor
    fake.script(fake.ok_json(INTERPRETATION))
    client.interpret({})
    headers = fake.requests[0].headers
    sent = (headers.get("x-api-key") or headers["authorization"]).removeprefix("Bearer ")
    assert sent == SECRET  # stripped of the trailing newline


def test_configured_providers_reports_without_keys() -> None:
    statuses = configured_providers(
        {"OPENAI_API_KEY": "o-key", "REGRESSION_ANALYZER_OPENAI_MODEL": "gpt-x"}
    )
    assert [(s.name, s.configured, s.model) for s in statuses] == [
        ("anthropic", False, DEFAULT_MODELS["anthropic"]),
        ("openai", True, "gpt-x"),
    ]
    assert "o-key" not in json.dumps([s.model_dump() for s in statuses])


def test_explicit_base_url_overrides_env(fake: FakeVendor) -> None:
    env = {KEY_VARS[fake.vendor]: SECRET, URL_VARS[fake.vendor]: "http://127.0.0.1:9/nowhere"}
    client = select_client(env=env, base_url=fake.base_url, max_retries=0)
    assert client is not None
    fake.script(fake.ok_json(INTERPRETATION))
    with client:
        assert client.interpret({}).text == INTERPRETATION["text"]
    assert len(fake.requests) == 1


def test_persistent_overload_gives_llm_error(fake: FakeVendor) -> None:
    fake.script(*[fake.server_error(529) for _ in range(2)])
    with pytest.raises(LLMError, match=r"HTTP 529.*1 retry"):
        _client(fake, max_retries=1).understand_table(SUMMARY, None)
    assert len(fake.requests) == 2
