"""Anthropic Claude through the official SDK's Messages API."""

from __future__ import annotations

from typing import Any

import anthropic

from .base import LLMClient, Message

DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_TOKENS = 4096


class AnthropicClient(LLMClient):
    """Claude via ``anthropic.Anthropic().messages.create``; retries and timeouts by the SDK."""

    name = "anthropic"
    sdk = anthropic
    sdk_client = anthropic.Anthropic
    default_base_url = DEFAULT_BASE_URL

    def _complete(self, system: str, messages: list[Message]) -> str:
        response = self._sdk.messages.create(
            model=self.model,
            max_tokens=MAX_TOKENS,
            system=system,
            messages=messages,
        )
        return "".join(_block_text(block) for block in response.content or [])


def _block_text(block: Any) -> str:
    return block.text if getattr(block, "type", None) == "text" else ""
