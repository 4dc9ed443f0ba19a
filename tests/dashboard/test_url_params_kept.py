"""The page's address in real headless Chromium against the real API process over a real SQLite
store (one server and one browser for the module): a change of state through the page (the alarm
history's window, the language, the history's range) rewrites the parameters the
page tracks and keeps every other one as written, in its place, with the fragment; a reload shows
the same; the API key taken out of the address never comes back; a link to another page carries
the language, kiosk mode, theme and ``refresh=`` only (docs/dashboard.md, "The page's state in its
URL")."""

from __future__ import annotations

import pytest

from tests.dashboard.chromium import Page
from tests.dashboard.server import KEYS
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# untracked: refresh= (read by the page, not part of its state) and a name the page does not know,
# written with %20 to see it kept as written; tracked: lang, alarm_range
UNTRACKED = "refresh=30&tag=mur%20nord"


def _address(page: Page) -> str:
    return str(page.evaluate("location.pathname + location.search + location.hash"))


def _shows(page: Page, **want: str) -> None:
    """Wait until the page shows ``want`` as chosen (a panel redraws its buttons once it has loaded)."""
    wait_for(lambda: _pressed(page) == want, timeout=60, interval=0.1, what=f"the page showing {want}")


def _pressed(page: Page) -> dict[str, str]:
    """The choices the page shows as made: language, alarm window, history range."""
    return dict(
        page.evaluate("""({
            lang: document.documentElement.lang,
            alarm: (document.querySelector('.alarm-ranges button[aria-pressed=true]') || {dataset: {}}).dataset.range,
            range: (document.querySelector('#range-presets button[aria-pressed=true]') || {dataset: {}}).dataset.range,
        })""")
    )  # fmt: skip


def test_a_change_of_state_keeps_what_the_page_does_not_track_and_a_reload_shows_it(
    live_city_url: str, desktop_tab: Page
) -> None:
    page = desktop_tab.open_ready(
        f"{live_city_url}/?refresh=30&key={KEYS['viewer']}&tag=mur%20nord&alarm_range=7d#wall"
    )
    # the key is taken out of the address, the rest left as written
    assert _address(page) == f"/?{UNTRACKED}&alarm_range=7d#wall"

    page.click(".alarm-history button[data-range='30d']")
    assert _address(page) == f"/?{UNTRACKED}&alarm_range=30d#wall"
    page.click("#lang-toggle")  # French by default: to English
    assert _address(page) == f"/?{UNTRACKED}&lang=en&alarm_range=30d#wall"
    page.click("#range-presets button[data-range='7d']")
    after = f"/?{UNTRACKED}&lang=en&range=7d&alarm_range=30d#wall"
    assert _address(page) == after
    _shows(page, lang="en", alarm="30d", range="7d")

    page.leave("location.reload()", "the page reloaded")
    assert _address(page) == after
    _shows(page, lang="en", alarm="30d", range="7d")

    # back to the defaults: the page's own parameters go, the others stay
    page.click("#lang-toggle")
    page.click(".alarm-history button[data-range='24h']")
    page.click("#range-presets button[data-range='today']")
    assert _address(page) == f"/?{UNTRACKED}&lang=fr#wall"
    assert "key" not in page.evaluate("location.href")
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems  # the staff's views, refused


def test_a_link_to_another_page_carries_the_screen_s_settings_only(live_city_url: str, desktop_tab: Page) -> None:
    page = desktop_tab.open_ready(f"{live_city_url}/?{UNTRACKED}&key={KEYS['viewer']}&theme=dark&lang=en&period=year")
    page.click(".alarm-history button[data-range='7d']")
    link = str(page.evaluate("document.querySelector('nav#scopes a').getAttribute('href')"))
    assert link.endswith("?lang=en&theme=dark&refresh=30"), link  # not the period, window, tag or key
    page.leave("document.querySelector('nav#scopes a').click()", "a district's page")
    assert page.evaluate("location.search") == "?lang=en&theme=dark&refresh=30"
    assert (page.evaluate("document.body.dataset.theme"), _pressed(page)["lang"]) == ("dark", "en")


def _notice(page: Page) -> str | None:
    """The text of the page's notice about its address; ``None`` while it is hidden."""
    return page.evaluate("(n => n.hidden ? null : n.textContent)(document.getElementById('url-notice'))")  # type: ignore[no-any-return]


def test_what_the_address_asks_and_the_page_cannot_take_is_said_until_the_state_changes(
    live_city_url: str, desktop_tab: Page
) -> None:
    page = desktop_tab.open_ready(f"{live_city_url}/?{UNTRACKED}&key={KEYS['viewer']}&lang=en&period=decade&theme=pink")
    assert _notice(page) == (
        "Not understood in the address: period=“decade”, theme=“pink”; the page shows its defaults instead."
    )
    assert page.evaluate("document.body.dataset.theme") == "light"  # the defaults, shown
    assert page.evaluate("document.querySelector('button[data-period][aria-pressed=true]').dataset.period") == "day"
    # a change of state rewrites the address without them, and the notice goes
    page.click("#theme-toggle")
    assert _address(page) == f"/?{UNTRACKED}&lang=en&theme=dark"
    assert _notice(page) is None

    page = desktop_tab.open_ready(f"{live_city_url}/?key={KEYS['viewer']}&lang=fr&range=custom&kiosk=yes")
    assert _notice(page) == (
        "Non compris dans l'adresse : range=« custom », kiosk=« yes » ;"
        " la page montre à la place ses valeurs par défaut."
    )
    page = desktop_tab.open_ready(f"{live_city_url}/?key={KEYS['viewer']}&lang=en&period=month&alarm_range=7d")
    assert _notice(page) is None
    page.drain()
    assert all("status of 403" in p for p in page.problems), page.problems
