//! Architecture rules, checked on the source text of src/ (docs/architecture.md):
//!
//! - the top-level modules (src/app, src/config, ...) import each other without
//!   cycles (`use crate::x`, inline `crate::x::` paths, `super::` that leaves
//!   its top-level module). The layers, top down: cli > web > app (the
//!   composition root) > authn, manage > context > oidc > authz, session >
//!   storage > store, credentials, logging, mail > config > risk > audit,
//!   crypto, domain > clock; a module uses only modules below it;
//! - docs/architecture.md's module graph is the one read off the tree;
//! - no production file is over 600 lines, no production function over 80,
//!   no function under src/web/handlers over 40;
//! - src/web reaches storage and the audit trail only through `manage` and the
//!   protocol modules: it neither names `storage::` nor builds an `AuditEvent`.
//!
//! The size and web rules have an allowlist of today's offenders so that the
//! refactor can go on in steps; a new offender fails, and so does a listed one
//! that no longer offends (take it off the list). Import cycles and long
//! handlers have none. Comments, strings and `#[cfg(test)]` modules are not
//! production code and are not read.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::Path;

/// Production files (relative to src/) over [`MAX_FILE_LINES`], to be split.
const LONG_FILES: &[&str] = &[];

/// Production functions (`file::name`) over [`MAX_FN_LINES`], to be split.
const LONG_FUNCTIONS: &[&str] = &[];

/// Route tables: one long list of routes reads better whole. Allowed for good.
const ROUTE_TABLES: &[&str] = &["web/mod.rs::configure"];

/// Files under src/web that name `storage::` (they should call `manage`).
const WEB_STORAGE_USERS: &[&str] = &[];

/// Files under src/web that build an `AuditEvent` (`manage` should).
const WEB_AUDIT_BUILDERS: &[&str] = &[];

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;
/// Handlers parse, make one call and render; anything longer belongs in a
/// helper, a render function or the layer below (no allowlist).
const MAX_HANDLER_FN_LINES: usize = 40;

/// Every import edge `(from, to)` between top-level modules, with the first
/// place that makes it.
fn module_edges(tops: &BTreeSet<String>, files: &[Source]) -> BTreeMap<(String, String), String> {
    let mut edges = BTreeMap::new();
    for f in files {
        for (to, line) in references(f, tops) {
            if to != f.module[0] {
                let at = format!("src/{}:{line}", f.rel);
                edges.entry((f.module[0].clone(), to)).or_insert(at);
            }
        }
    }
    edges
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let (tops, files) = read_src();
    let edges = module_edges(&tops, &files);
    let mut cycles = BTreeSet::new();
    for (a, b) in edges.keys() {
        if let Some(back) = path(&edges, b, a) {
            let mut cycle = vec![a.clone()];
            cycle.extend(back.into_iter().take_while(|m| m != a));
            let first = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap();
            cycle.rotate_left(first);
            cycles.insert(cycle);
        }
    }
    let mut problems = Vec::new();
    for mut cycle in cycles {
        cycle.push(cycle[0].clone());
        let mut text = format!("cycle {}:", cycle.join(" -> "));
        for pair in cycle.windows(2) {
            let at = &edges[&(pair[0].clone(), pair[1].clone())];
            text += &format!("\n    {} -> {}  {at}", pair[0], pair[1]);
        }
        problems.push(text);
    }
    report("import cycles between top-level modules", problems);
}

/// The block under "## The module graph" in docs/architecture.md is the
/// real graph: one `module -> uses, …` line per top-level module (a line
/// without `->` continues the one before; text in parentheses is a note).
#[test]
fn the_module_graph_in_the_docs_is_the_real_one() {
    let (tops, files) = read_src();
    let mut real: BTreeMap<String, BTreeSet<String>> =
        tops.iter().map(|t| (t.clone(), BTreeSet::new())).collect();
    for ((from, to), _) in module_edges(&tops, &files) {
        real.entry(from).or_default().insert(to);
    }
    let docs =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    let block = docs
        .split("## The module graph")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("docs/architecture.md has a ``` block under \"## The module graph\"");
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = String::new();
    for line in block.lines() {
        let line = without_notes(line);
        let uses = match line.split_once("->") {
            Some((module, uses)) => {
                current = module.trim().to_string();
                documented.entry(current.clone()).or_default();
                uses
            }
            None => &line[..],
        };
        let words = uses.split(',').map(str::trim).filter(|w| !w.is_empty());
        if let Some(set) = documented.get_mut(&current) {
            set.extend(words.map(String::from));
        }
    }
    let mut problems = Vec::new();
    for module in real
        .keys()
        .chain(documented.keys())
        .collect::<BTreeSet<_>>()
    {
        let (r, d) = (real.get(module), documented.get(module));
        match (r, d) {
            (Some(_), None) => problems.push(format!("{module} has no line")),
            (None, Some(_)) => problems.push(format!("{module} is not a module under src/")),
            (Some(r), Some(d)) => {
                for m in r.difference(d) {
                    problems.push(format!("{module} uses {m}, and its line does not say so"));
                }
                for m in d.difference(r) {
                    problems.push(format!("{module}'s line names {m}, which it does not use"));
                }
            }
            (None, None) => {}
        }
    }
    report("docs/architecture.md, the module graph", problems);
}

/// `line` without its parenthesized notes.
fn without_notes(line: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in line.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn production_files_are_at_most_600_lines() {
    let (_, files) = read_src();
    let mut offenders = BTreeMap::new();
    for f in files.iter().filter(|f| !f.is_test_file()) {
        if f.lines > MAX_FILE_LINES {
            offenders.insert(f.rel.clone(), format!("src/{}: {} lines", f.rel, f.lines));
        }
    }
    report(
        &format!("production files over {MAX_FILE_LINES} lines (LONG_FILES)"),
        against(offenders, LONG_FILES),
    );
}

#[test]
fn production_functions_are_at_most_80_lines() {
    let (_, files) = read_src();
    let mut offenders = BTreeMap::new();
    for f in files.iter().filter(|f| !f.is_test_file()) {
        for (name, line, lines) in functions(f) {
            let key = format!("{}::{name}", f.rel);
            if lines > MAX_FN_LINES && !ROUTE_TABLES.contains(&key.as_str()) {
                offenders.insert(
                    key,
                    format!("src/{}:{line}: fn {name}, {lines} lines", f.rel),
                );
            }
        }
    }
    report(
        &format!("production functions over {MAX_FN_LINES} lines (LONG_FUNCTIONS)"),
        against(offenders, LONG_FUNCTIONS),
    );
}

#[test]
fn web_handler_functions_are_at_most_40_lines() {
    let (_, files) = read_src();
    let mut problems = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.rel.starts_with("web/handlers/") && !f.is_test_file())
    {
        for (name, line, lines) in functions(f) {
            if lines > MAX_HANDLER_FN_LINES {
                problems.push(format!("src/{}:{line}: fn {name}, {lines} lines", f.rel));
            }
        }
    }
    report(
        &format!("functions under src/web/handlers over {MAX_HANDLER_FN_LINES} lines"),
        problems,
    );
}

#[test]
fn web_neither_names_storage_nor_builds_audit_events() {
    let (tops, files) = read_src();
    let mut storage = BTreeMap::new();
    let mut audit = BTreeMap::new();
    for f in files.iter().filter(|f| f.module[0] == "web") {
        let tokens = tokens(&f.code);
        let mut storage_lines: BTreeSet<usize> = references(f, &tops)
            .into_iter()
            .filter(|(to, _)| to == "storage")
            .map(|(_, line)| line)
            .collect();
        let mut audit_lines = BTreeSet::new();
        for (i, t) in tokens.iter().enumerate() {
            let next = tokens.get(i + 1).map(|n| n.text.as_str());
            let prev = i.checked_sub(1).map(|p| tokens[p].text.as_str());
            if t.text == "storage" && next == Some("::") {
                storage_lines.insert(t.line);
            }
            let builds = next == Some("::")
                || (next == Some("{") && !matches!(prev, Some("->" | "for" | "impl")));
            if t.text == "AuditEvent" && builds {
                audit_lines.insert(t.line);
            }
        }
        let at = |lines: &BTreeSet<usize>| {
            let l: Vec<String> = lines.iter().map(|l| format!("src/{}:{l}", f.rel)).collect();
            l.join(", ")
        };
        if !storage_lines.is_empty() {
            storage.insert(f.rel.clone(), at(&storage_lines));
        }
        if !audit_lines.is_empty() {
            audit.insert(f.rel.clone(), at(&audit_lines));
        }
    }
    let mut problems = against(storage, WEB_STORAGE_USERS);
    problems.extend(
        against(audit, WEB_AUDIT_BUILDERS)
            .into_iter()
            .map(|p| format!("AuditEvent built: {p}")),
    );
    report(
        "src/web naming storage:: (WEB_STORAGE_USERS) or building AuditEvent (WEB_AUDIT_BUILDERS)",
        problems,
    );
}

/// Offenders not on `allowed`, and entries of `allowed` that no longer offend.
fn against(offenders: BTreeMap<String, String>, allowed: &[&str]) -> Vec<String> {
    let mut problems: Vec<String> = offenders
        .iter()
        .filter(|(key, _)| !allowed.contains(&key.as_str()))
        .map(|(key, what)| format!("{what}  [{key}]"))
        .collect();
    for key in allowed {
        if !offenders.contains_key(*key) {
            problems.push(format!(
                "{key} is on the allowlist but no longer offends: take it off the list"
            ));
        }
    }
    problems
}

fn report(rule: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{rule}:\n  {}\n",
        problems.join("\n  ")
    );
}

/// The shortest import path from `from` to `to`, both included.
fn path(edges: &BTreeMap<(String, String), String>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(m) = queue.pop_front() {
        if m == to {
            let mut out = vec![to.to_string()];
            let mut at = to;
            while at != from {
                at = came_from[at];
                out.push(at.to_string());
            }
            out.reverse();
            return Some(out);
        }
        for (a, b) in edges.keys() {
            if a == m && b != from && !came_from.contains_key(b.as_str()) {
                came_from.insert(b, a);
                queue.push_back(b);
            }
        }
    }
    None
}

/// One file under src/.
struct Source {
    /// Relative to src/, with `/`.
    rel: String,
    /// Its module path: `oidc/grants/mod.rs` is `["oidc", "grants"]`.
    module: Vec<String>,
    /// The text with comments and string and char literals blanked out.
    code: String,
    lines: usize,
}

impl Source {
    fn is_test_file(&self) -> bool {
        self.rel.ends_with("/tests.rs") || self.rel.split('/').any(|part| part == "tests")
    }
}

/// The top-level module names and every file that belongs to one of them.
fn read_src() -> (BTreeSet<String>, Vec<Source>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    walk(&src, &mut paths);
    let mut files = Vec::new();
    for p in paths {
        let rel = p
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "lib.rs" || rel == "main.rs" {
            continue;
        }
        let mut module: Vec<String> = rel
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        if module.len() > 1 && module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        let text = fs::read_to_string(&p).unwrap();
        files.push(Source {
            rel,
            module,
            code: blank(&text),
            lines: text.lines().count(),
        });
    }
    let tops = files.iter().map(|f| f.module[0].clone()).collect();
    (tops, files)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `text` with comments, string literals and char literals replaced by spaces
/// (newlines kept, so line numbers stay right).
fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let start = i;
        let prev_ident = i > 0 && ident(c[i - 1]);
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&c, i).filter(|_| !prev_ident || c[i - 1] == 'b') {
            i = end;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 1) == Some(&'\\') {
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let end = i.min(c.len());
        out.extend(
            c[start..end]
                .iter()
                .map(|&ch| if ch == '\n' { '\n' } else { ' ' }),
        );
    }
    out
}

/// Where a raw string (`r"…"`, `r#"…"#`, …) starting at `i` ends.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    if c[i] != 'r' {
        return None;
    }
    let mut j = i + 1;
    while c.get(j) == Some(&'#') {
        j += 1;
    }
    if c.get(j) != Some(&'"') {
        return None;
    }
    let hashes = j - i - 1;
    j += 1;
    while j < c.len() {
        if c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

struct Token {
    text: String,
    line: usize,
}

/// Identifiers (with `$crate` as one), `::`, `->`, and single other characters.
fn tokens(code: &str) -> Vec<Token> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let start = i;
        if c[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if c[i].is_whitespace() {
            i += 1;
            continue;
        } else if c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$' {
            i += 1;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
        } else if (c[i] == ':' && c.get(i + 1) == Some(&':'))
            || (c[i] == '-' && c.get(i + 1) == Some(&'>'))
        {
            i += 2;
        } else {
            i += 1;
        }
        out.push(Token {
            text: c[start..i].iter().collect(),
            line,
        });
    }
    out
}

/// Every top-level module `f` names, with the line. Inline `mod x { … }`
/// blocks are followed so that `super::` resolves from the right place.
fn references(f: &Source, tops: &BTreeSet<String>) -> Vec<(String, usize)> {
    let t = tokens(&f.code);
    let text = |i: usize| t.get(i).map_or("", |t: &Token| t.text.as_str());
    let mut out = Vec::new();
    let mut inline = Inline::default();
    for i in 0..t.len() {
        inline.step(&t, i);
        if text(i.wrapping_sub(1)) == "::" {
            continue;
        }
        // Where the path starts (the module `crate` or `super::…` names) and
        // the index of its next segment.
        let (root, next) = match text(i) {
            "crate" if text(i + 1) == "::" => (Vec::new(), i + 2),
            "super" => {
                let mut here: Vec<String> =
                    f.module.iter().cloned().chain(inline.names()).collect();
                let mut j = i;
                while text(j) == "super" && text(j + 1) == "::" {
                    here.pop();
                    j += 2;
                }
                (here, j)
            }
            _ => continue,
        };
        if root.is_empty() {
            for name in path_heads(&t, next) {
                if tops.contains(&name) {
                    out.push((name, t[i].line));
                }
            }
        } else if root[0] != f.module[0] {
            out.push((root[0].clone(), t[i].line));
        }
    }
    out
}

/// After `crate::`: the first segment, or the first segment of each item of a
/// `{…}` group.
fn path_heads(t: &[Token], i: usize) -> Vec<String> {
    let Some(first) = t.get(i) else {
        return Vec::new();
    };
    if first.text != "{" {
        return vec![first.text.clone()];
    }
    let mut heads = Vec::new();
    let (mut depth, mut expect) = (0, true);
    for tok in &t[i..] {
        match tok.text.as_str() {
            "{" => {
                depth += 1;
                expect = depth == 1;
            }
            "}" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," => expect = depth == 1,
            name if expect => {
                heads.push(name.to_string());
                expect = false;
            }
            _ => {}
        }
    }
    heads
}

/// The inline modules (`mod x { … }`) open at a token, and whether each is
/// `#[cfg(test)]`.
#[derive(Default)]
struct Inline {
    depth: usize,
    open: Vec<(String, usize, bool)>,
}

impl Inline {
    fn step(&mut self, t: &[Token], i: usize) {
        match t[i].text.as_str() {
            "{" => {
                self.depth += 1;
                if i >= 2 && t[i - 2].text == "mod" {
                    let cfg_test: Vec<&str> = t[i.saturating_sub(9)..i - 2]
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect();
                    let test = cfg_test.ends_with(&["#", "[", "cfg", "(", "test", ")", "]"]);
                    self.open.push((t[i - 1].text.clone(), self.depth, test));
                }
            }
            "}" => {
                if self.open.last().is_some_and(|(_, d, _)| *d == self.depth) {
                    self.open.pop();
                }
                self.depth = self.depth.saturating_sub(1);
            }
            _ => {}
        }
    }

    fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.open.iter().map(|(n, _, _)| n.clone())
    }

    fn in_test(&self) -> bool {
        self.open.iter().any(|(_, _, test)| *test)
    }
}

/// Every function with a body outside `#[cfg(test)]` modules: name, first
/// line, and length in lines from `fn` to the closing brace.
fn functions(f: &Source) -> Vec<(String, usize, usize)> {
    let t = tokens(&f.code);
    let mut out = Vec::new();
    let mut inline = Inline::default();
    for i in 0..t.len() {
        inline.step(&t, i);
        if t[i].text != "fn" || inline.in_test() {
            continue;
        }
        let Some(name) = t.get(i + 1).filter(|n| n.text != "(") else {
            continue;
        };
        let (mut nesting, mut j) = (0i32, i + 2);
        let open = loop {
            match t.get(j).map(|t| t.text.as_str()) {
                None => break None,
                Some("(" | "[") => nesting += 1,
                Some(")" | "]") => nesting -= 1,
                Some(";") if nesting == 0 => break None,
                Some("{") if nesting == 0 => break Some(j),
                _ => {}
            }
            j += 1;
        };
        let Some(open) = open else { continue };
        let mut depth = 0;
        for tok in &t[open..] {
            match tok.text.as_str() {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((name.text.clone(), t[i].line, tok.line - t[i].line + 1));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn the_scanner_finds_paths_groups_and_super_but_not_comments_or_strings() {
    let tops: BTreeSet<String> = ["a", "b", "c", "d", "e"].map(String::from).into();
    let text = r##"use crate::a::X;
use crate::{b::Y, c};
// use crate::d::Z;
const S: &str = "crate::d::Z";
const R: &str = r#"crate::d::"Z"#;
mod inner {
    use super::super::super::e::W;
}
fn f() -> u8 { let c = '{'; $crate::d::m!(); 0 }
"##;
    let f = Source {
        rel: "x/y.rs".into(),
        module: vec!["x".into(), "y".into()],
        code: blank(text),
        lines: text.lines().count(),
    };
    let found: Vec<(String, usize)> = references(&f, &tops);
    let expected = [("a", 1), ("b", 2), ("c", 2), ("e", 7)].map(|(m, l)| (m.to_string(), l));
    assert_eq!(found, expected);
    assert_eq!(functions(&f), vec![("f".to_string(), 9, 1)]);
}
