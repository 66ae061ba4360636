"""The scenario menu: each preset as its title, date and one line, not its id.

:func:`preset_options` gives ``dcc.Dropdown`` options whose labels are components (Dash 4
renders them as they are). A dropdown does not search inside a component label, so each
option also carries ``search``: the title, date, line and id as text, which is what typing
in the menu filters on.
"""

from __future__ import annotations

from typing import Any

from dash import html

from models import PRESET_INFO, SCENARIOS, PresetInfo

__all__ = ["preset_label", "preset_options"]

_GREY = "#555555"  # 7.5:1 on white: small text still passes WCAG AA


def preset_label(info: PresetInfo) -> html.Div:
    """A menu entry: the title in bold and the date on one line, the line below in small
    grey."""
    return html.Div([
        html.Div([html.B(info.title), html.Span(f" · {info.date}", style={"color": _GREY})]),
        html.Div(info.line, style={"fontSize": "12px", "color": _GREY,
                                   "whiteSpace": "normal", "lineHeight": "1.25"}),
    ], className="preset-option", title=info.name)


def preset_options(scenario: str | None = None) -> list[dict[str, Any]]:
    """``dcc.Dropdown`` options for every preset of :data:`models.SCENARIOS`, in its order.

    Each option is ``{"label": <html.Div>, "value": <preset name>, "search": <text>}``. When
    ``scenario`` is given and is not a preset (a scenario file the app was started on), it
    comes first, labelled ``file: <path>``.

    Examples
    --------
    >>> opts = preset_options()
    >>> opts[0]["value"], "ETH falls 35%" in opts[0]["search"]
    ('default', True)
    >>> preset_options("mine.toml")[0]["value"]
    'mine.toml'
    """
    options: list[dict[str, Any]] = []
    for name in SCENARIOS:
        info = PRESET_INFO[name]
        options.append({"label": preset_label(info), "value": name,
                        "search": f"{info.title} {info.date} {info.line} {name}"})
    if scenario is not None and scenario not in SCENARIOS:
        options.insert(0, {"label": html.Div(f"file: {scenario}"), "value": scenario,
                           "search": f"file {scenario}"})
    return options
