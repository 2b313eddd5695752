"""OpenAI GPT through the official SDK's Chat Completions API in JSON mode.

Chat Completions with ``response_format={"type": "json_object"}`` is used rather than the
Responses API because every OpenAI-compatible endpoint (Azure, proxies, local servers) speaks it.
"""

from __future__ import annotations

import openai

from .base import LLMClient, Message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Generous: for reasoning models this budget also covers the hidden reasoning tokens.
MAX_TOKENS = 8192


class OpenAIClient(LLMClient):
    """GPT via ``openai.OpenAI().chat.completions.create``; retries and timeouts by the SDK."""

    name = "openai"
    sdk = openai
    sdk_client = openai.OpenAI
    default_base_url = DEFAULT_BASE_URL

    def _complete(self, system: str, messages: list[Message]) -> str:
        response = self._sdk.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": system}, *messages],
            response_format={"type": "json_object"},
            # max_completion_tokens, not max_tokens: reasoning models reject the latter.
            max_completion_tokens=MAX_TOKENS,
        )
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""
