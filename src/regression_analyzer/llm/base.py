"""What every provider client shares: the JSON-answer protocol, the one corrective retry,
and turning SDK failures into one-line, key-free errors.LLMError messages.

Transport retries (429, 5xx, connection errors, timeouts) are *not* done here: both official
SDKs already retry those with exponential backoff (0.5 s doubling, capped at 8 s, with jitter)
and honour ``retry-after`` / ``retry-after-ms``; we only set ``max_retries`` and ``timeout``.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import LLMError
from . import prompts
from ._failures import describe_sdk_failure
from .schemas import Interpretation, TableUnderstanding

log = logging.getLogger(__name__)

AnswerT = TypeVar("AnswerT", bound=BaseModel)
Message = dict[str, str]

# Anything shaped like a vendor key is masked even when it is not *our* key (a proxy could echo
# another one back in an error body).
_KEYLIKE = re.compile(r"\b(?:sk|key)-[A-Za-z0-9_\-*.]{6,}")
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_MAX_DETAIL = 160


class AnswerFormatError(ValueError):
    """An answer that is not JSON of the asked shape; the message says what is wrong."""


def extract_json(text: str) -> Any:
    """Parse the JSON object in a model's answer, tolerating code fences and chatter around it."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        pass
    # Some models still wrap the object in a sentence; take the outermost braces.
    start, end = body.find("{"), body.rfind("}")
    if start == -1 or end <= start:
        raise AnswerFormatError("the answer contained no JSON object") from None
    try:
        return json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise AnswerFormatError(f"the JSON did not parse ({exc.msg})") from None


def parse_answer(text: str, schema: type[AnswerT]) -> AnswerT:
    """Validate an answer against a pydantic schema; AnswerFormatError says what is wrong."""
    data = extract_json(text)
    if not isinstance(data, dict):
        raise AnswerFormatError("the answer was JSON but not an object")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()[:3]
        ]
        raise AnswerFormatError("; ".join(problems)) from None


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Mask our secrets and anything key-shaped; collapse to one short line."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _KEYLIKE.sub("***", text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


class LLMClient(ABC):
    """A language-model provider that answers with validated, structured JSON.

    Subclasses name their vendor SDK (``sdk``: the module, whose exception classes
    ``_describe_failure`` reads; ``sdk_client``: its client class) and the API's
    ``default_base_url``, and implement ``_complete`` (one chat exchange through that client,
    with the SDK's own retries).
    """

    name: str = "llm"
    sdk: ModuleType
    sdk_client: Callable[..., Any]
    default_base_url: str

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 30,
        max_retries: int = 3,
    ) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        # Kept only so error text can be scrubbed of it; never printed.
        self._secrets: tuple[str, ...] = (api_key,)
        # Both official SDKs (Stainless-generated) take the same constructor arguments.
        self._sdk = self.sdk_client(
            api_key=api_key,
            # Passed explicitly so the caller's env mapping (not os.environ) decides.
            base_url=base_url or self.default_base_url,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model={self.model!r})"

    def close(self) -> None:
        """Release the SDK's HTTP connections (also done when the client is collected)."""
        sdk = getattr(self, "_sdk", None)
        if sdk is not None:
            sdk.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def _complete(self, system: str, messages: list[Message]) -> str:
        """Send one conversation and return the answer's text (SDK exceptions propagate)."""

    def _describe_failure(self, exc: Exception) -> str:
        """One line, without secrets, saying what went wrong in the SDK call."""
        return describe_sdk_failure(
            exc, timeout_s=self.timeout_s, max_retries=self.max_retries, sdk=self.sdk
        )

    def understand_table(
        self, table_summary: dict[str, Any], context: str | None = None
    ) -> TableUnderstanding:
        """Ask for column roles, a target, predictors and the table's orientation."""
        return self._ask(prompts.understand_prompt(table_summary, context), TableUnderstanding)

    def interpret(self, facts: dict[str, Any]) -> Interpretation:
        """Ask for a plain-language interpretation of computed regression results."""
        return self._ask(prompts.interpret_prompt(facts), Interpretation)

    def _ask(self, prompt: str, schema: type[AnswerT]) -> AnswerT:
        """One question; an unusable answer gets one corrective follow-up, then LLMError."""
        messages: list[Message] = [{"role": "user", "content": prompt}]
        for attempt in range(2):
            text = self._call(messages)
            try:
                return parse_answer(text, schema)
            except AnswerFormatError as exc:
                problem = str(exc)
                log.info("%s answer rejected (%s); attempt %d", self.name, problem, attempt + 1)
                messages = [
                    *messages,
                    {"role": "assistant", "content": text or "(empty)"},
                    {"role": "user", "content": prompts.correction_prompt(problem)},
                ]
        raise LLMError(
            f"{self.name} ({self.model}) gave an unusable answer twice: "
            f"{redact(problem, self._secrets)}"
        )

    def _call(self, messages: list[Message]) -> str:
        try:
            return self._complete(prompts.SYSTEM, messages)
        except LLMError:
            raise
        except Exception as exc:  # any SDK failure becomes one key-free line
            detail = redact(self._describe_failure(exc), self._secrets)
            log.warning("%s request failed: %s", self.name, detail)
            # "from None": the SDK exception's text may carry request details; drop the chain.
            raise LLMError(f"{self.name} ({self.model}): {detail}") from None
