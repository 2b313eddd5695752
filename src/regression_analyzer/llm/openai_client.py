"""OpenAI GPT through the official SDK's Chat Completions API in JSON mode.

Chat Completions with ``response_format={"type": "json_object"}`` is used rather than the
Responses API because every OpenAI-compatible endpoint (Azure, proxies, local servers) speaks it.
"""

from __future__ import annotations

import openai

from ._failures import describe_sdk_failure
from .base import LLMClient, Message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Generous: for reasoning models this budget also covers the hidden reasoning tokens.
MAX_TOKENS = 8192


class OpenAIClient(LLMClient):
    """GPT via ``openai.OpenAI().chat.completions.create``; retries and timeouts by the SDK."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 30,
        max_retries: int = 3,
    ) -> None:
        super().__init__(model=model, api_key=api_key, timeout_s=timeout_s, max_retries=max_retries)
        self._sdk = openai.OpenAI(
            api_key=api_key,
            # Passed explicitly so the caller's env mapping (not os.environ) decides.
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def _complete(self, system: str, messages: list[Message]) -> str:
        response = self._sdk.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": system}, *messages],  # type: ignore[list-item]
            response_format={"type": "json_object"},
            # max_completion_tokens, not max_tokens: reasoning models reject the latter.
            max_completion_tokens=MAX_TOKENS,
        )
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def _describe_failure(self, exc: Exception) -> str:
        return describe_sdk_failure(
            exc, timeout_s=self.timeout_s, max_retries=self.max_retries, sdk=openai
        )
