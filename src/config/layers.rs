//! Layering defaults, the TOML file and `WARD_*` variables as TOML tables, and
//! reporting file errors without echoing values.

use super::{ConfigError, env_name};

/// "line N: message", with quoted strings in the message replaced (they are values).
pub(super) fn located(text: &str, e: &toml::de::Error) -> String {
    let mut message = String::new();
    let mut in_quotes = false;
    for ch in e.message().chars() {
        match ch {
            '"' if !in_quotes => {
                in_quotes = true;
                message.push_str("\"…\"");
            }
            '"' => in_quotes = false,
            _ if in_quotes => {}
            c => message.push(c),
        }
    }
    let Some(span) = e.span() else { return message };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    // Name the key: the text before `=` on that line, under the last [section].
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    let section = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    match line_text.split_once('=') {
        Some((key, _)) => {
            let key = key.trim();
            let path = section
                .map(|s| format!("{s}.{key}"))
                .unwrap_or_else(|| key.to_string());
            format!("line {line}, key `{path}` ({}): {message}", env_name(&path))
        }
        None => format!("line {line}: {message}"),
    }
}

/// Every leaf key of the defaults, dotted, with its TOML value (which carries the type).
pub(super) fn leaves(table: &toml::Table) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(t) => {
                for (sub, leaf) in leaves(t) {
                    out.push((format!("{k}.{sub}"), leaf));
                }
            }
            other => out.push((k.clone(), other.clone())),
        }
    }
    out
}

pub(super) fn parse_env_value(
    key: &str,
    kind: &toml::Value,
    raw: &str,
) -> Result<toml::Value, ConfigError> {
    Ok(match kind {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| ConfigError::invalid(key, format!("`{raw}` is not an integer")))?,
        ),
        toml::Value::Float(_) => toml::Value::Float(
            raw.trim()
                .parse()
                .map_err(|_| ConfigError::invalid(key, format!("`{raw}` is not a number")))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                return Err(ConfigError::invalid(
                    key,
                    format!("`{raw}` is not true or false"),
                ));
            }
        }),
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_string()),
    })
}

pub(super) fn set_path(table: &mut toml::Table, dotted: &str, value: toml::Value) {
    match dotted.split_once('.') {
        None => {
            table.insert(dotted.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = table
                .entry(head.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(sub) = entry {
                set_path(sub, rest, value);
            }
        }
    }
}

pub(super) fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}
