"""Markdown (the guided tours' text) as Dash components, rendered on the server.

``dcc.Markdown`` would make every first load fetch a 325 KB markdown parser for a few
paragraphs; the tours use CommonMark's basics (paragraphs, emphasis, lists, code, links), so
they are parsed here with markdown-it-py and sent as plain ``html`` components. Raw HTML in
the text is shown as text, never interpreted.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dash import html
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

__all__ = ["markdown_components"]

_PARSER = MarkdownIt("commonmark", {"html": False})
_BLOCKS: dict[str, Any] = {
    "paragraph": html.P, "bullet_list": html.Ul, "ordered_list": html.Ol,
    "list_item": html.Li, "blockquote": html.Blockquote, "strong": html.Strong,
    "em": html.Em,
}
_HEADINGS: dict[str, Any] = {"h1": html.H4, "h2": html.H4, "h3": html.H5, "h4": html.H5,
                             "h5": html.H6, "h6": html.H6}


def _convert(node: SyntaxTreeNode) -> list[Any]:
    kind = node.type
    if kind == "text":
        return [node.content] if node.content else []
    if kind == "softbreak":
        return [" "]
    if kind == "hardbreak":
        return [html.Br()]
    if kind == "code_inline":
        return [html.Code(node.content)]
    if kind in ("fence", "code_block"):
        return [html.Pre(html.Code(node.content))]
    if kind in ("html_inline", "html_block"):
        return [node.content]  # shown as text
    children = [c for child in node.children for c in _convert(child)]
    if kind == "link":
        href = str(node.attrs.get("href", ""))
        safe = href.startswith(("https://", "http://", "#", "/"))
        return [html.A(children, href=href, target="_blank", rel="noopener")] if safe \
            else children
    if kind == "heading":
        return [_HEADINGS.get(node.tag, html.H6)(children)]
    if kind == "list_item" and node.parent is not None and node.parent.type in (
            "bullet_list", "ordered_list") and all(
            isinstance(c, html.P) for c in children):  # tight lists: no paragraph margins
        children = [x for c in children for x in (c.children if isinstance(c.children, list)
                                                  else [c.children])]
    maker = _BLOCKS.get(kind)
    return [maker(children)] if maker is not None else children


@lru_cache(maxsize=256)
def _cached(text: str) -> tuple[Any, ...]:
    return tuple(_convert(SyntaxTreeNode(_PARSER.parse(text))))


def markdown_components(text: str) -> list[Any]:
    """``text`` (CommonMark) as a list of Dash ``html`` components.

    Examples
    --------
    >>> [c.to_plotly_json()["type"] for c in markdown_components("**A** run *on* it.\\n\\n- x")]
    ['P', 'Ul']
    >>> markdown_components("a <script>x</script>")[0].children  # text, not HTML
    ['a <script>x</script>']
    """
    return list(_cached(text))
