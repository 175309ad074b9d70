"""End to end in Debian's Chromium: upload the real chest radiograph, segment, rewrite a report, request a
synthetic cohort, and as an expert approve the request and confirm the mask; then the cohort is generated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
               "--disable-background-networking", "--disable-component-update"]


REPORT = ("CT chest without contrast. There is a 6 mm nodule in the right upper lobe. "
          "No pleural effusion. No pneumothorax. Recommend follow-up CT in 12 months.")


CONDITION = "nodule in right lung, 12 mm"


def rg1_path() -> Path:
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("RG1_UNCR.dcm"))


def login(page, url: str, user: dict) -> None:
    page.goto(url + "/logout")
    page.goto(url + "/")
    page.fill("input[type=text]", user["name"])
    page.fill("input[type=password]", user["password"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#whoami", timeout=60_000)
    page.wait_for_function(f"document.querySelector('#whoami').innerText.includes('{user['name']}')", timeout=60_000)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/test installs it)")
def test_upload_segment_confirm_and_audit(served_app: dict) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, (viewer, expert) = served_app["url"], served_app["users"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        try:
            login(page, url, viewer)
            page.get_by_role("tab", name="Study viewer").click()
            page.locator("#viewer-upload input[type=file]").set_input_files(str(rg1_path()))
            expect(page.locator("#viewer-upload-status")).to_contain_text("img-1", timeout=60_000)
            page.locator("#viewer-target textarea").fill("left lung")
            page.locator("#viewer-segment").click()
            status = page.locator("#viewer-seg-status")
            expect(status).to_contain_text("review: pending", timeout=180_000)
            expect(page.locator("#viewer-overlay img").first).to_be_visible(timeout=30_000)
            page.screenshot(path=str(SCREENSHOTS / "ui_segment.png"), full_page=True)

            page.get_by_role("tab", name="Report rewrite").click()
            page.locator("#report-input textarea").fill(REPORT)
            page.locator("#report-rewrite").click()
            expect(page.locator("#report-summary")).to_contain_text("Reading grade", timeout=600_000)
            expect(page.locator("#report-output")).not_to_be_empty()
            page.screenshot(path=str(SCREENSHOTS / "ui_report.png"), full_page=True)

            # Generating a synthetic cohort is high-impact: the viewer's request waits for an expert.
            page.get_by_role("tab", name="Generate").click()
            page.locator("#gen-condition textarea").fill(CONDITION)
            page.locator("#gen-run").click()
            expect(page.locator("#gen-status")).to_contain_text("awaiting expert approval", timeout=60_000)

            login(page, url, expert)
            page.get_by_role("tab", name="Review").click()
            page.locator("#review-refresh").click()
            expect(page.locator("#review-actions")).to_contain_text("generate_images", timeout=30_000)
            page.locator("#review-approve").click()
            expect(page.locator("#review-action-outcome")).to_contain_text("approved by dr-lee", timeout=30_000)
            expect(page.locator("#review-queue")).to_contain_text("segment_image", timeout=30_000)
            page.locator("#review-queue").get_by_text("segment_image").first.click()
            expect(page.locator("#review-item-status")).to_contain_text("pending", timeout=30_000)
            expect(page.locator("#review-item-details")).to_contain_text("segment_image", timeout=30_000)
            page.locator("#review-comment textarea").fill("Lung outline acceptable.")
            page.locator("#review-confirm").click()
            expect(page.locator("#review-outcome")).to_contain_text("confirmed by dr-lee", timeout=30_000)
            expect(page.locator("#review-item-details")).to_contain_text("segment_image")
            expect(page.locator("#review-audit")).to_contain_text("review_confirmed", timeout=30_000)
            expect(page.locator("#review-audit")).to_contain_text("action_approved", timeout=30_000)
            page.screenshot(path=str(SCREENSHOTS / "ui_review.png"), full_page=True)

            login(page, url, viewer)
            page.get_by_role("tab", name="Generate").click()
            page.locator("#gen-condition textarea").fill(CONDITION)
            page.locator("#gen-run").click()
            expect(page.locator("#gen-status")).to_contain_text("SYNTHETIC", timeout=300_000)
            expect(page.locator("#gen-gallery img").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "ui_generate.png"), full_page=True)
        finally:
            browser.close()
