"""Log-in (password, then TOTP for physicians/coordinators), accessibility and touch-target checks."""

from __future__ import annotations

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories

MIN_TARGET_PX = 44


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def login(page, user, device: TOTPDevice | None = None, next_path: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(factories.PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    if device is not None:
        page.wait_for_url("**/two-factor/**")
        device.refresh_from_db()
        token = TOTP(device.bin_key, step=device.step, digits=device.digits).token()
        otp_form = page.locator("form:has(input[name=otp_token])")
        otp_form.locator("input[name=otp_token]").fill(f"{token:0{device.digits}d}")
        otp_form.locator("button[type=submit]").click()
        page.wait_for_load_state("domcontentloaded")
    assert "/accounts/login/" not in page.url, f"login failed, still on {page.url}"
    assert "/two-factor/" not in page.url, f"two-factor step failed, still on {page.url}"


def serious_axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(f"{n['target']}: {n.get('failureSummary', '')[:160]}" for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def small_targets(page, selector: str) -> list[str]:
    """Visible interactive elements matching ``selector`` whose box (or their label's) is < 44 px."""
    found = page.evaluate(
        """([selector, min]) => {
            const out = [];
            for (const el of document.querySelectorAll(selector)) {
                const r = el.getBoundingClientRect();
                const style = getComputedStyle(el);
                if (r.width === 0 && r.height === 0) continue;            // not rendered
                if (style.visibility === 'hidden' || el.type === 'hidden') continue;
                let box = r;
                // A checkbox/radio is operated through its label: measure the label.
                if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length) {
                    box = el.labels[0].getBoundingClientRect();
                }
                if (box.height < min || box.width < min) {
                    out.push(`${el.tagName.toLowerCase()}#${el.id || ''}.${el.className || ''} ` +
                             `${Math.round(box.width)}x${Math.round(box.height)}`);
                }
            }
            return out;
        }""",
        [selector, MIN_TARGET_PX],
    )
    return found


def csp_errors(page) -> list[str]:
    return [m for m in page.console_errors if "Content Security Policy" in m or "Refused to" in m]
