/* Accessible names the theme leaves out (axe-core rules in brackets; the
   browser test in tests/test_site_browser.py runs axe on every page). */
document.addEventListener("DOMContentLoaded", () => {
  // [summary-name] The sidebar's expand arrows are icon-only: name them after their section.
  document.querySelectorAll(".bd-sidenav details > summary").forEach((summary) => {
    const link = summary.parentElement.parentElement.querySelector(":scope > a");
    if (!summary.textContent.trim() && link) {
      summary.setAttribute("aria-label", `Show the pages under ${link.textContent.trim()}`);
    }
  });
  // [label-content-name-mismatch] A control that shows text is named by that text:
  // drop labels that say something else ("Search" on a button reading "Search Ctrl+K").
  document.querySelectorAll(".search-button-field[aria-label], details > summary[aria-label]").forEach((el) => {
    if (el.textContent.trim()) el.removeAttribute("aria-label");
  });
  // [aria-required-children] The bibliography is a list whose entries carry the
  // deprecated doc-biblioentry role; a list needs list items.
  document.querySelectorAll('.citation-list [role="doc-biblioentry"]').forEach((entry) => {
    entry.setAttribute("role", "listitem");
  });
});
