"""Every screen of the demo ward, as its nurse, physician, coordinator and admin reach it (issue 13):
starting from the navigation, every page linked from a page is opened (a few of each kind: patient
pages, follow-up pages and visit forms, timelines, alert details…), and its visible text is read as a
person reads it: no snake_case code, no "None", every clock time with its zone, no "min overdue" in the
hundreds. The browser tests check the main screens at each device size; this one checks them all."""

from __future__ import annotations

import io
import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from accounts.models import User
from alerts.models import Alert
from alerts.services import alert_process_evaluation, run_auditor
from monitoring.models import GradeEvaluation

pytestmark = pytest.mark.django_db

#: What a person must not read (shared with tests/browser/test_ward_screens_browser.py): a code with
#: underscores, and a clock time without its zone's abbreviation or offset.
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
BARE_TIME = re.compile(r"\b\d{1,2}:\d\d(?::\d\d)?(?![:\d])(?!\s?(?:[A-Z]{2,5}\b|[+-]\d))")
#: Python's None on screen; "None withheld." and a choice labelled "None" are English.
NONE = re.compile(r"\bNone\b(?! [a-z])")
MINUTES_OVERDUE = re.compile(r"(\d+) min overdue|overdue by (\d+) min")
#: Real words or names that contain an underscore: none yet (add one here with the reason).
ALLOWED_SNAKE: set[str] = set()
#: Pages a person does not read as a ward screen: Django's admin, the API and its docs, files.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/fhir/", "/health/", "/accounts/logout/")
SKIP_NAMES = {"dashboards:census_export", "alerts:link"}
PER_KIND = 3  # how many pages of one URL name (alert details, forms…) are opened
#: Every demo patient's own pages: each patient's course is in another state (child, ICAHT, lupus…).
PER_KIND_OF = {"monitoring:patient_detail": 30, "followup:patient": 30}

DEMO_USERS = ("demo_nurse", "demo_physician", "demo_coordinator", "demo_admin")
#: Screens each person must reach from the navigation (the crawl opens more: every linked page).
_WARD = {
    "monitoring:my_patients",
    "monitoring:patient_detail",
    "alerts:inbox",
    "alerts:detail_full",
    "alerts:oncall",
    "alerts:policies",
    "dashboards:census",
    "dashboards:timeline",
    "dashboards:handover_team",
    "followup:tasks",
    "followup:patient",
}
_CLINICIAN = _WARD | {"followup:visit", "monitoring:amend"}
_COORDINATION = _WARD | {
    "dashboards:analytics",
    "followup:outcomes",
    "interop:registry",
    "interop:registry_report",
    "monitoring:courses",
    "monitoring:patient_register",
    "monitoring:infusion_start",
    "alerts:operations",
}
REACHED: dict[str, set[str]] = {
    "demo_nurse": _CLINICIAN,
    "demo_physician": _CLINICIAN | {"dashboards:analytics", "followup:outcomes"},
    "demo_coordinator": _COORDINATION,
    "demo_admin": _COORDINATION | {"accounts:team_accounts"},
}


class _Visible(HTMLParser):
    """The text a person sees (and a screen reader reads), and the links on the page."""

    #: Not read as words: scripts, and <code> (what a person types or copies as it is: a username).
    HIDDEN = {"script", "style", "template", "noscript", "code"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._choice = 0  # inside a <label> or <option>: a choice a person wrote ("None")

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag in {"label", "option"}:
            self._choice += 1
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in {"img", "input", "area"}:
            for name in ("alt", "placeholder", "aria-label"):
                if attributes.get(name):
                    self.chunks.append(attributes[name])
        elif attributes.get("aria-label"):
            self.chunks.append(attributes["aria-label"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in {"label", "option"} and self._choice:
            self._choice -= 1
        if tag in {"p", "li", "td", "th", "dd", "dt", "div", "h1", "h2", "h3", "option", "br", "tr"}:
            self.chunks.append("\n")

    def handle_data(self, data):
        if self._hidden or (self._choice and data.strip() == "None"):
            return
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"[ \t]+", " ", " ".join(self.chunks))


def _problems(text: str) -> list[str]:
    found = [f"code {c!r}" for c in SNAKE_CASE.findall(text) if c not in ALLOWED_SNAKE]
    found += [f"'None' in {_around(text, m.start())!r}" for m in NONE.finditer(text)]
    found += [f"time without zone {_around(text, m.start())!r}" for m in BARE_TIME.finditer(text)]
    for m in MINUTES_OVERDUE.finditer(text):
        if int(m.group(1) or m.group(2)) > 120:
            found.append(f"minutes in the hundreds {m.group(0)!r}")
    return found


def _around(text: str, at: int) -> str:
    return text[max(0, at - 40) : at + 40].replace("\n", " ")


@pytest.fixture
def demo_ward(db, monkeypatch, settings):
    """``manage.py seed_demo``, its newest grades processed into alerts and their first pages sent."""
    settings.TWO_FACTOR_REQUIRED = False
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    latest = GradeEvaluation.objects.order_by("infusion_id", "-evaluated_at", "-id").distinct("infusion_id")
    for pk in latest.values_list("pk", flat=True):
        alert_process_evaluation(evaluation_id=pk)
    run_auditor()
    assert Alert.objects.exists()


def _crawl(client, start: str = "/") -> tuple[dict[str, list[str]], Counter[str]]:
    """Open ``start`` and, breadth first, every page linked from an opened page (``PER_KIND`` of each
    URL name). Returns the problems found, by page, and how many pages of each URL name were read."""
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    queue = deque([start])
    problems: dict[str, list[str]] = {}
    while queue:
        url = queue.popleft()
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIP_PREFIXES):
            continue
        seen.add(url)
        try:
            name = resolve(path).view_name or path
        except Resolver404:
            problems[url] = ["a link to a page that does not exist"]
            continue
        if name in SKIP_NAMES or kinds[name] >= PER_KIND_OF.get(name, PER_KIND):
            continue
        kinds[name] += 1
        response = client.get(url)
        if response.status_code in {301, 302}:
            queue.append(urljoin(url, response["Location"]))
            continue
        if response.status_code == 403:
            problems[url] = ["a link to a page the person may not open (403)"]
            continue
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if "html" not in response.get("Content-Type", ""):
            continue
        parser = _Visible()
        parser.feed(response.content.decode())
        found = _problems(parser.text)
        if found:
            problems[url] = found
        for href in parser.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc in {"", "testserver"} and parts.scheme in {"", "http"}:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return problems, kinds


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_screen_a_person_reaches_reads_in_clinical_language(client, demo_ward, username):
    client.force_login(User.objects.get(username=username))
    problems, kinds = _crawl(client)
    assert REACHED[username] <= set(kinds), REACHED[username] - set(kinds)
    assert problems == {}, "\n".join(f"{url}: {', '.join(p[:6])}" for url, p in problems.items())


def test_the_reader_catches_what_a_person_must_not_see():
    parser = _Visible()
    parser.feed(
        "<p>nasal_cannula at 14:05, dose None</p><p>overdue 17822 min overdue</p><p>None withheld.</p>"
        "<label>None</label><option>None</option><code>demo_nurse</code>"
        "<script>var a_b = 1;</script><p>seen 14:05 CET, 12:00:01 UTC</p>"
    )
    found = _problems(parser.text)
    assert len(found) == 4 and "code 'nasal_cannula'" in found, found
