"""Anthropic Claude through the official SDK's Messages API."""

from __future__ import annotations

from typing import Any

import anthropic

from ._failures import describe_sdk_failure
from .base import LLMClient, Message

DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_TOKENS = 4096


class AnthropicClient(LLMClient):
    """Claude via ``anthropic.Anthropic().messages.create``; retries and timeouts by the SDK."""

    name = "anthropic"

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
        self._sdk = anthropic.Anthropic(
            api_key=api_key,
            # Passed explicitly so the caller's env mapping (not os.environ) decides.
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def _complete(self, system: str, messages: list[Message]) -> str:
        response = self._sdk.messages.create(
            model=self.model,
            max_tokens=MAX_TOKENS,
            system=system,
            messages=messages,  # type: ignore[arg-type]
        )
        return "".join(_block_text(block) for block in response.content or [])

    def _describe_failure(self, exc: Exception) -> str:
        return describe_sdk_failure(
            exc, timeout_s=self.timeout_s, max_retries=self.max_retries, sdk=anthropic
        )


def _block_text(block: Any) -> str:
    return block.text if getattr(block, "type", None) == "text" else ""
