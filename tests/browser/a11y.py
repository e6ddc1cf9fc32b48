"""Automated accessibility checks with axe-core, run inside the page under test.

axe-core is the npm package pinned in package.json (``npm ci`` puts it in node_modules).
It is evaluated through the DevTools protocol, so the app's Content-Security-Policy
(``script-src 'self'``) stays on while the page is checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

# axe's default run: every rule that is not experimental (WCAG 2.0, 2.1 and 2.2 levels A
# and AA, and the best practices). Pass ``options`` (e.g. ``{"runOnly": ["wcag2a"]}``) to
# check_page to narrow it. ``resultTypes`` keeps the answer small. Results that axe cannot
# decide (``incomplete``, e.g. contrast over DSFR's gradient link underlines) do not fail.
DEFAULT_OPTIONS = {"resultTypes": ["violations"]}


class AccessibilityError(AssertionError):
    """axe found violations; the message lists them."""

    def __init__(self, name: str, url: str, violations: list[dict]):
        self.violations = violations
        super().__init__(format_violations(name, url, violations))


@cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        raise FileNotFoundError(f"{AXE_PATH} is missing: run `npm ci` (or `make setup`).")
    return AXE_PATH.read_text(encoding="utf-8")


def format_violations(name: str, url: str, violations: list[dict]) -> str:
    count = sum(len(v["nodes"]) for v in violations)
    lines = [
        f"{len(violations)} accessibility rule(s) violated on {name} ({url}), {count} node(s):"
    ]
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact') or 'n/a'}] {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            target = " >> ".join(json.dumps(part, ensure_ascii=False) for part in node["target"])
            lines.append(f"    at {target}")
            for line in (node.get("failureSummary") or "").strip().splitlines():
                lines.append(f"        {line.strip()}" if line[:1].isspace() else f"      {line}")
    return "\n".join(lines)


def run_axe(page, options: dict | None = None) -> list[dict]:
    """axe's violations for the page as it is now (a list of axe result objects)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(
        "async (options) => (await window.axe.run(document, options)).violations",
        {**DEFAULT_OPTIONS, **(options or {})},
    )


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page, name: str, *, options: dict | None = None) -> None:
    """Save a full-page screenshot as screenshots/<name>.png, then fail on any axe violation."""
    page.wait_for_load_state("load")
    screenshot(page, name)
    violations = run_axe(page, options)
    if violations:
        raise AccessibilityError(name, page.url, violations)
