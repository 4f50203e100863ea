"""The texts of the gateway, the widget, the staff console and the staff alert e-mails
(``messages.yml``),
with the clinic's facts filled in.

Texts are checked at start-up: a missing key or an unknown ``{placeholder}`` is
reported with the key's name, so a typo never reaches a visitor.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping

import yaml

from clinic.settings import ClinicProfile, clinic_slots

GATEWAY_KEYS = (
    *("apology", "slow_down", "too_long", "empty", "bad_request", "forbidden_origin"),
    *("not_json", "not_an_object", "no_message", "message_not_text"),
    *("wrong_content_type", "post_only", "get_only"),
)
WIDGET_KEYS = (
    "launcher",
    "title",
    "close",
    "notice",
    "privacy_link",
    "acknowledge",
    "log_label",
    "you",
    "assistant",
    "urgent",
    "source",
    "quick_replies",
    "input_label",
    "placeholder",
    "send",
    "typing",
    "footer",
    "privacy",
)
STAFF_KEYS = (
    "not_configured",
    "log_in_first",
    "admins_only",
    "form_expired",
    "login_form_expired",
    "login_failed",
    "forms_only",
    "form_too_large",
    "not_a_form",
)
ALERT_KEYS = (
    *("booking", "callback", "red_flag"),  # the kinds
    *("booking_reference", "conversation", "time", "console"),  # the e-mail's labels
)
# placeholders filled when a text is sent, not at start-up
RUNTIME_FIELDS = ("max_chars", "retry_after")


class TextsError(ValueError):
    """messages.yml is missing a text or uses an unknown placeholder."""


@dataclass(frozen=True)
class Texts:
    gateway: Dict[str, str]
    widget: Dict[str, str]
    staff: Dict[str, str]
    alerts: Dict[str, str]

    def say(self, key: str, **runtime: object) -> str:
        """The gateway text ``key`` with the runtime fields filled in."""
        return self.gateway[key].format(**runtime)


def _fill(section: str, key: str, template: str, facts: Mapping[str, str]) -> str:
    """Fills clinic facts into a template; the runtime placeholders (with their format)
    stay, and literal braces stay escaped, so the result is a template again."""
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TextsError(f"messages.yml {section}.{key}: {exc}") from exc
    for literal, name, spec, conversion in parsed:
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if name in RUNTIME_FIELDS:
            out.append("{" + name + (f"!{conversion}" if conversion else "") + f":{spec}}}")
        elif name in facts:
            try:
                value = format(facts[name], spec or "")
            except ValueError as exc:
                raise TextsError(f"messages.yml {section}.{key}: {{{name}:{spec}}}: {exc}") from exc
            out.append(value.replace("{", "{{").replace("}", "}}"))
        else:
            raise TextsError(f"messages.yml {section}.{key}: unknown placeholder {{{name}}}")
    return "".join(out)


def load_texts(path: Path, clinic: ClinicProfile) -> Texts:
    """Reads messages.yml and fills in the clinic's facts."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TextsError(f"cannot read {path}: {exc}") from exc
    facts = clinic_slots(clinic)
    sections: Dict[str, Dict[str, str]] = {}
    for section, keys in (
        ("gateway", GATEWAY_KEYS),
        ("widget", WIDGET_KEYS),
        ("staff", STAFF_KEYS),
        ("alerts", ALERT_KEYS),
    ):
        given = raw.get(section) or {}
        missing = [key for key in keys if not str(given.get(key) or "").strip()]
        if missing:
            raise TextsError(f"messages.yml {section}: missing text(s) {missing}")
        sections[section] = {key: _fill(section, key, str(given[key]), facts) for key in keys}
    return Texts(
        gateway=sections["gateway"],
        widget=_without_runtime_fields("widget", sections["widget"]),
        staff=_without_runtime_fields("staff", sections["staff"]),
        alerts=_without_runtime_fields("alerts", sections["alerts"]),
    )


def _without_runtime_fields(section: str, templates: Dict[str, str]) -> Dict[str, str]:
    """Texts shown as they are: a runtime placeholder in them is an error."""
    done = {}
    for key, template in templates.items():
        try:
            done[key] = template.format()
        except (KeyError, IndexError) as exc:
            raise TextsError(
                f"messages.yml {section}.{key}: no runtime field here ({exc})"
            ) from exc
    return done
