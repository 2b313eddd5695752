"""Prompt text. Kept apart from transport code so wording changes do not touch retries."""

from __future__ import annotations

import json
from typing import Any

SYSTEM = (
    "You are a careful statistician helping a business user. You answer with one JSON object "
    "and nothing else: no prose before or after it, no code fences."
)

UNDERSTAND_SCHEMA = """{
  "business_context": "one or two sentences on what the table is about",
  "columns": [{"name": "<column>", "role": "numeric|binary|categorical|date|id|constant|text",
               "description": "what the column holds"}],
  "target": "<the column most worth explaining, or null>",
  "target_reason": "why that column",
  "predictors": ["<columns that could plausibly explain the target>"],
  "sideways": true | false | null,
  "sideways_reason": "why the table is or is not laid out with records in columns"
}"""

INTERPRET_SCHEMA = """{
  "text": "a plain-language interpretation in 2-4 short paragraphs",
  "key_points": ["short bullet", "..."]
}"""


def understand_prompt(table_summary: dict[str, Any], context: str | None) -> str:
    """The user message asking for roles, a target, predictors and the orientation."""
    lines = [
        "Here is a summary of a table (column names, types, null counts, sample values, and "
        "what simple heuristics guessed).",
        json.dumps(table_summary, default=str, ensure_ascii=False),
    ]
    if context:
        lines.append(f"The user says the business context is: {context}")
    lines += [
        "Judge each column's role, pick the column most worth explaining with a regression "
        "(numeric or binary), list predictors, and say whether the table is sideways.",
        "Use only column names that appear in the summary.",
        f"Answer with JSON of exactly this shape:\n{UNDERSTAND_SCHEMA}",
    ]
    return "\n\n".join(lines)


def interpret_prompt(facts: dict[str, Any]) -> str:
    """The user message asking for a plain-language interpretation of computed results."""
    return "\n\n".join(
        [
            "These are the computed results of a regression:",
            json.dumps(facts, default=str, ensure_ascii=False),
            "Explain them to a business user: how much the model explains, which predictors "
            "matter (direction and size, holding others fixed; for logistic models odds ratios "
            "of the outcome named in odds_of), and the caveats from the diagnostics. Name rows "
            "by the numbers given, which are as described in row_numbers.",
            "Quote only numbers that appear in the results above (you may round them). "
            "Never invent or compute new numbers.",
            f"Answer with JSON of exactly this shape:\n{INTERPRET_SCHEMA}",
        ]
    )


def correction_prompt(problem: str) -> str:
    """The follow-up sent once when an answer was not valid JSON of the asked shape."""
    return (
        f"Your previous answer could not be used: {problem}. Reply again with only the JSON "
        "object of the shape asked for, no code fences and no other text."
    )
