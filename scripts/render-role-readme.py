#!/usr/bin/env python3
"""Write the variables table of the Ansible role's README from meta/argument_specs.yml.

Usage: render-role-readme.py [--check] [ROLE_DIR]

The table between the README's `<!-- BEGIN VARIABLES -->` and `<!-- END VARIABLES -->` lines
lists every option of argument_specs (name, type, default, description). Before writing, it
checks that argument_specs and defaults/main.yml name the same variables and agree on every
default that is a plain value (a templated default such as "{{ role_path }}/..." is described
in words in argument_specs). With --check nothing is written: exit 1 if the README differs
(CI's lint step), with a line saying how to regenerate it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parent.parent / "ansible" / "roles" / "regression_analyzer"
BEGIN = "<!-- BEGIN VARIABLES (scripts/render-role-readme.py; do not edit by hand) -->"
END = "<!-- END VARIABLES -->"


class SpecDrift(Exception):
    """argument_specs and defaults/main.yml disagree."""


def load_options(role: Path) -> dict[str, dict[str, Any]]:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return specs["argument_specs"]["main"]["options"]


def check_against_defaults(options: dict[str, dict[str, Any]], defaults: dict[str, Any]) -> None:
    """Raise SpecDrift when a variable is in only one file, or a plain default differs."""
    only_spec = sorted(set(options) - set(defaults))
    only_defaults = sorted(set(defaults) - set(options))
    problems = []
    if only_spec:
        problems.append(f"in argument_specs but not defaults/main.yml: {', '.join(only_spec)}")
    if only_defaults:
        problems.append(f"in defaults/main.yml but not argument_specs: {', '.join(only_defaults)}")
    for name in sorted(set(options) & set(defaults)):
        value = defaults[name]
        if isinstance(value, str) and "{{" in value:
            continue
        if options[name].get("default") != value:
            problems.append(
                f"{name}: argument_specs default {options[name].get('default')!r}"
                f" != defaults/main.yml {value!r}"
            )
    if problems:
        raise SpecDrift("; ".join(problems))


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ").strip()


def default_text(option: dict[str, Any]) -> str:
    if option.get("required"):
        return "(required)"
    if "default" not in option:
        return ""
    value = option["default"]
    if option.get("no_log") and value:
        return "(secret)"
    shown = value if isinstance(value, str) else json.dumps(value)
    return f"`{shown}`" if shown != "" else '`""`'


def description_text(option: dict[str, Any]) -> str:
    description = option.get("description", "")
    if isinstance(description, list):
        description = " ".join(description)
    extras = []
    if "choices" in option:
        extras.append("One of " + ", ".join(f"`{c}`" for c in option["choices"]) + ".")
    if option.get("no_log"):
        extras.append("Secret: never logged.")
    return " ".join([description, *extras])


def render_table(options: dict[str, dict[str, Any]]) -> str:
    """The Markdown table, one row per option, in argument_specs order."""
    rows = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, option in options.items():
        kind = option.get("type", "str")
        if "elements" in option:
            kind = f"{kind} of {option['elements']}"
        rows.append(
            f"| `{name}` | {kind} | {cell(default_text(option))} "
            f"| {cell(description_text(option))} |"
        )
    return "\n".join(rows)


def rendered_readme(role: Path) -> tuple[str, str]:
    """(current README, README with a freshly rendered table)."""
    options = load_options(role)
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    check_against_defaults(options, defaults)
    readme = (role / "README.md").read_text(encoding="utf-8")
    if BEGIN not in readme or END not in readme:
        raise SpecDrift(f"{role / 'README.md'} lacks the {BEGIN!r} ... {END!r} markers")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return readme, f"{head}{BEGIN}\n{render_table(options)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    role = Path(paths[0]) if paths else ROLE
    try:
        current, fresh = rendered_readme(role)
    except SpecDrift as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if current == fresh:
        return 0
    if check:
        print(
            f"error: {role / 'README.md'} is out of date with meta/argument_specs.yml:"
            " run python scripts/render-role-readme.py",
            file=sys.stderr,
        )
        return 1
    (role / "README.md").write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
