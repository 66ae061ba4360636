"""Historical presets against their history: filled in as the presets land."""

from __future__ import annotations

from experiments.validation.checks import Scale, Section

__all__ = ["preset_sections"]


def preset_sections(scale: Scale) -> list[Section]:
    return []
