"""The structured answers a language model must give, validated with pydantic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["numeric", "binary", "categorical", "date", "id", "constant", "text"]


class _Answer(BaseModel):
    # Models sometimes add a stray field; ignoring it is safer than rejecting a good answer.
    model_config = ConfigDict(extra="ignore")


class ColumnJudgement(_Answer):
    name: str
    role: Role
    description: str = ""


class TableUnderstanding(_Answer):
    business_context: str = Field(description="one or two sentences: what the table is about")
    columns: list[ColumnJudgement] = Field(default_factory=list)
    target: str | None = Field(None, description="column worth explaining, or null")
    target_reason: str = ""
    predictors: list[str] = Field(default_factory=list)
    sideways: bool | None = Field(
        None, description="true when records run across columns (the table needs transposing)"
    )
    sideways_reason: str = ""


class Interpretation(_Answer):
    text: str = Field(min_length=1, description="plain-language interpretation")
    key_points: list[str] = Field(default_factory=list)
