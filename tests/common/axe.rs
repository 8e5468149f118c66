//! Accessibility checks in the browser with axe-core (WCAG 2.1 AA rules).
//!
//! axe-core is not vendored: `.ci/run` installs it from the npm registry into
//! `~/.cache/ward-axe` and points `WARD_AXE_JS` at `axe.min.js`. The script is
//! injected through WebDriver, which the page's CSP does not govern, so the
//! page is checked exactly as it is served.

use serde_json::Value;

use super::browser::Driver;

const DEFAULT: &str = ".cache/ward-axe/node_modules/axe-core/axe.min.js";

fn source() -> Option<String> {
    let path = std::env::var("WARD_AXE_JS")
        .ok()
        .unwrap_or_else(|| format!("{}/{DEFAULT}", std::env::var("HOME").unwrap_or_default()));
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if std::env::var("WARD_REQUIRE_BROWSER").as_deref() == Ok("1") => panic!(
            "axe-core is required (WARD_REQUIRE_BROWSER=1) but {path} cannot be read: {e}; \
             run `npm install --prefix ~/.cache/ward-axe axe-core@4.10.3` or set WARD_AXE_JS"
        ),
        Err(_) => {
            eprintln!("axe-core not found at {path}: accessibility check skipped");
            None
        }
    }
}

/// The serious and critical WCAG 2.1 A/AA violations on the current page, one
/// line each (rule, impact, the offending elements). Empty when axe-core is
/// not installed and not required.
pub fn serious_violations(browser: &Driver) -> Vec<String> {
    let Some(axe) = source() else {
        return Vec::new();
    };
    browser.js(&format!("{axe}\n;return true;"));
    let result = browser.js("return axe.run(document, { runOnly: { type: 'tag', \
         values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })\
         .then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, \
           nodes: v.nodes.map(n => n.target.join(' ')) })));");
    let checked = result.as_array().expect("axe.run returned its violations");
    checked
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v: &Value| format!("{} ({}): {}", v["id"], v["impact"], v["nodes"]))
        .collect()
}
