"""Optional language-model help: Anthropic Claude or OpenAI GPT through their official SDKs.

Which provider runs: the one named explicitly, else Anthropic when ``ANTHROPIC_API_KEY`` (or
``ANTHROPIC_API_KEY_FILE``) is set, else OpenAI when ``OPENAI_API_KEY`` (or ``_FILE``) is set.
Models default to DEFAULT_MODELS, overridable by argument or by
``REGRESSION_ANALYZER_ANTHROPIC_MODEL`` / ``REGRESSION_ANALYZER_OPENAI_MODEL``. Base URLs come
from ``ANTHROPIC_BASE_URL`` / ``OPENAI_BASE_URL`` (the SDKs' own variables) or an argument.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel

from ..credentials import read_secret
from ..errors import InputError, LLMError
from .base import LLMClient
from .schemas import ColumnJudgement, Interpretation, TableUnderstanding

__all__ = [
    "DEFAULT_MODELS",
    "PROVIDERS",
    "ColumnJudgement",
    "Interpretation",
    "LLMClient",
    "ProviderStatus",
    "TableUnderstanding",
    "configured_providers",
    "resolve_model",
    "select_client",
    "why_none",
]

PROVIDERS: tuple[str, ...] = ("anthropic", "openai")  # preference order when both are set
# Current, non-deprecated mid-size models as of the installed SDKs (anthropic 2.14, openai 3.57):
# claude-sonnet-4-5 reaches end-of-life 2026-11-30 and gpt-4o-mini is scheduled for shutdown.
DEFAULT_MODELS: dict[str, str] = {"anthropic": "claude-sonnet-4-6", "openai": "gpt-5.4-mini"}
KEY_VARS: dict[str, str] = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
MODEL_VARS: dict[str, str] = {
    "anthropic": "REGRESSION_ANALYZER_ANTHROPIC_MODEL",
    "openai": "REGRESSION_ANALYZER_OPENAI_MODEL",
}
BASE_URL_VARS: dict[str, str] = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}


class ProviderStatus(BaseModel):
    """Whether a provider has a key, and which model it would use. Never the key itself."""

    name: str
    configured: bool
    model: str


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _check_provider(provider: str | None) -> str | None:
    if provider is None or not provider.strip():
        return None
    name = provider.strip().lower()
    if name not in PROVIDERS:
        raise InputError(
            f"Unknown LLM provider {provider!r}; choose one of: {', '.join(PROVIDERS)}."
        )
    return name


def resolve_model(
    provider: str, model: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The model a provider uses: the argument, else its env variable, else the default."""
    name = _check_provider(provider) or provider
    chosen = (model or "").strip() or (_env(env).get(MODEL_VARS[name]) or "").strip()
    return chosen or DEFAULT_MODELS[name]


def configured_providers(env: Mapping[str, str] | None = None) -> list[ProviderStatus]:
    """Every known provider, whether its key is set, and the model it would use."""
    source = _env(env)
    return [
        ProviderStatus(
            name=name,
            configured=read_secret(KEY_VARS[name], source) is not None,
            model=resolve_model(name, None, source),
        )
        for name in PROVIDERS
    ]


def why_none(provider: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """Why select_client(provider, env=env) returns None, or None when it would not.

    Raises errors.InputError for an unknown provider name, like select_client.
    """
    source = _env(env)
    name = _check_provider(provider)
    if name is not None:
        if read_secret(KEY_VARS[name], source) is None:
            var = KEY_VARS[name]
            return f"provider {name} was requested but neither {var} nor {var}_FILE is set"
        return None
    if any(read_secret(KEY_VARS[p], source) is not None for p in PROVIDERS):
        return None
    names = " or ".join(KEY_VARS[p] for p in PROVIDERS)
    return f"no API key configured (set {names}, or the same name with _FILE)"


def select_client(
    provider: str | None = None,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 30,
    max_retries: int = 3,
    base_url: str | None = None,
) -> LLMClient | None:
    """A ready client for the named provider, or for the first one with a key.

    Returns None when the needed key is missing (``why_none`` gives the reason); an unknown
    provider name raises errors.InputError. ``timeout_s`` applies to each HTTP attempt and
    ``max_retries`` to the SDK's own retries (429, 5xx, connection errors, timeouts).
    A client the SDK refuses to build raises errors.LLMError.
    """
    source = _env(env)
    name = _check_provider(provider)
    candidates = [name] if name is not None else list(PROVIDERS)
    for candidate in candidates:
        key = read_secret(KEY_VARS[candidate], source)
        if key is None:
            continue
        url = (base_url or "").strip() or (source.get(BASE_URL_VARS[candidate]) or "").strip()
        return _build(
            candidate,
            key,
            resolve_model(candidate, model, source),
            url or None,
            timeout_s,
            max_retries,
        )
    return None


def _build(
    name: str, key: str, model: str, base_url: str | None, timeout_s: float, max_retries: int
) -> LLMClient:
    # Imported lazily: each SDK takes a noticeable moment to import and only one is needed.
    client_class: type[LLMClient]
    try:
        if name == "anthropic":
            from .anthropic_client import AnthropicClient

            client_class = AnthropicClient
        else:
            from .openai_client import OpenAIClient

            client_class = OpenAIClient
        return client_class(
            api_key=key,
            model=model,
            base_url=base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
        )
    except Exception as exc:  # e.g. a malformed base URL; the SDK's text is not trusted
        raise LLMError(f"{name} client could not be created ({type(exc).__name__})") from None
