//! Golden JSON fixtures (`tests/fixtures/*.json`) and the examples in `PROTOCOL.md`.
//!
//! Each `client_*.json` decodes as a `ClientMsg` (bounds checks included) and each `server_*.json`
//! as a `ServerMsg`, and each re-encodes to the same JSON value. Every message type, room event
//! kind, action op and practice op (as ts-rs sees the Rust types) has a fixture and an example in
//! `PROTOCOL.md`; every example there is one of the fixtures; every close code is in its table.
//! The browser client's tests parse the same files.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use stampede_protocol::{
    Action, ClientMsg, MAX_MESSAGE_BYTES, PracticeOp, RoomEvent, ServerMsg, close_code,
};
use ts_rs::{Config, TS};

struct Fixture {
    name: String,
    text: String,
    value: Value,
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("read tests/fixtures")
        .map(|e| e.expect("read a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("read a fixture");
            let value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}.json is not JSON: {e}"));
            Fixture { name, text, value }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() > 20, "fixtures missing from {}", dir.display());
    out
}

/// Equal as JSON values the way JavaScript sees them: numbers compare by value, so `1000` and
/// `1000.0` (an `f64` field) are the same.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Which direction a message is, and its re-encoding; `Err` when it does not decode.
fn decode(name: &str, text: &str) -> Result<(&'static str, Value), String> {
    if name.starts_with("client_") {
        let msg = ClientMsg::decode(text).map_err(|e| e.message)?;
        Ok(("client", serde_json::to_value(&msg).unwrap()))
    } else if name.starts_with("server_") {
        let msg: ServerMsg = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(("server", serde_json::from_str(&msg.encode()).unwrap()))
    } else {
        Err("a fixture's name starts with `client_` or `server_`".to_owned())
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// The tags a set of examples uses: `client:<type>`, `server:<type>`, `event:<kind>`,
/// `action:<op>`, `practice:<op>`.
fn tags_used<'a>(values: impl Iterator<Item = (&'static str, &'a Value)>) -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    for (dir, v) in values {
        let ty = str_at(v, &["type"]).unwrap_or_default();
        tags.insert(format!("{dir}:{ty}"));
        let paths: &[(&str, &[&str])] = &[
            ("event", &["event", "kind"]),
            ("action", &["action", "op"]),
            ("action", &["event", "action", "op"]),
            ("practice", &["op", "op"]),
            ("practice", &["event", "op", "op"]),
        ];
        for (tag, path) in paths {
            if let Some(s) = str_at(v, path) {
                tags.insert(format!("{tag}:{s}"));
            }
        }
    }
    tags
}

/// Every tag the Rust types define, read from their ts-rs declarations (`"type": "hello"`).
fn tags_defined() -> BTreeSet<String> {
    fn tags_of<T: TS + 'static>(prefix: &str, key: &str) -> Vec<String> {
        let decl = T::decl(&Config::new());
        let pat = format!("\"{key}\": \"");
        let found: Vec<String> = decl
            .split(&pat)
            .skip(1)
            .map(|s| format!("{prefix}:{}", &s[..s.find('"').unwrap()]))
            .collect();
        assert!(!found.is_empty(), "no {key} tags in {decl}");
        found
    }
    let mut all = BTreeSet::new();
    all.extend(tags_of::<ClientMsg>("client", "type"));
    all.extend(tags_of::<ServerMsg>("server", "type"));
    all.extend(tags_of::<RoomEvent>("event", "kind"));
    all.extend(tags_of::<Action>("action", "op"));
    all.extend(tags_of::<PracticeOp>("practice", "op"));
    all
}

fn protocol_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("PROTOCOL.md"))
        .expect("read protocol/PROTOCOL.md")
}

/// The ```json blocks of a Markdown text.
fn json_blocks(md: &str) -> Vec<String> {
    md.split("```json\n")
        .skip(1)
        .map(|s| s[..s.find("```").expect("an unclosed ```json block")].to_owned())
        .collect()
}

#[test]
fn every_fixture_decodes_and_re_encodes_to_the_same_json() {
    let mut failures = Vec::new();
    for f in fixtures() {
        match decode(&f.name, &f.text) {
            Ok((_, again)) if same(&again, &f.value) => {}
            Ok((_, again)) => failures.push(format!(
                "{}.json re-encodes differently:\n  {}",
                f.name,
                serde_json::to_string(&again).unwrap()
            )),
            Err(e) => failures.push(format!("{}.json does not decode: {e}", f.name)),
        }
        if f.name.starts_with("client_") {
            let compact = serde_json::to_string(&f.value).unwrap();
            assert!(
                compact.len() <= MAX_MESSAGE_BYTES,
                "{}.json is too big",
                f.name
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_message_event_and_op_has_a_fixture() {
    let fixtures = fixtures();
    let used = tags_used(fixtures.iter().map(|f| {
        let dir = if f.name.starts_with("client_") {
            "client"
        } else {
            "server"
        };
        (dir, &f.value)
    }));
    let defined = tags_defined();
    let missing: Vec<&String> = defined.difference(&used).collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
}

#[test]
fn protocol_md_examples_are_fixtures_and_cover_every_message() {
    let fixtures = fixtures();
    let md = protocol_md();
    let mut examples = Vec::new();
    for block in json_blocks(&md) {
        let value: Value = serde_json::from_str(&block)
            .unwrap_or_else(|e| panic!("a PROTOCOL.md example is not JSON ({e}):\n{block}"));
        let Some(f) = fixtures.iter().find(|f| same(&f.value, &value)) else {
            panic!("this PROTOCOL.md example is not one of tests/fixtures/*.json:\n{block}");
        };
        let (dir, _) = decode(&f.name, &f.text).unwrap();
        examples.push((dir, value));
    }
    let used = tags_used(examples.iter().map(|(d, v)| (*d, v)));
    let defined = tags_defined();
    // Every message type and room event kind is shown; action and practice ops may be listed
    // instead (their examples are in the fixtures).
    let missing: Vec<&String> = defined
        .difference(&used)
        .filter(|t| !t.starts_with("action:") && !t.starts_with("practice:"))
        .collect();
    assert!(
        missing.is_empty(),
        "PROTOCOL.md shows no example of {missing:?}"
    );
    for tag in defined.iter().filter_map(|t| t.split_once(':')) {
        assert!(
            md.contains(&format!("`{}`", tag.1)),
            "PROTOCOL.md never names `{}` ({})",
            tag.1,
            tag.0
        );
    }
}

#[test]
fn protocol_md_documents_every_close_code() {
    let md = protocol_md();
    for (name, code) in close_code::ALL {
        assert!(
            md.lines().any(|l| l.starts_with(&format!("| {code} "))),
            "PROTOCOL.md's close-code table has no row for {code} ({name})"
        );
    }
}

#[test]
fn messages_out_of_bounds_are_refused() {
    let max = stampede_protocol::MAX_SAFE_INTEGER;
    let ok = [
        format!(r#"{{"type":"create_room","level":"01-scale-out","mode":"solo","seed":{max}}}"#),
        r#"{"type":"join_room","code":"kx7m2q"}"#.to_owned(),
        r#"{"type":"ping"}"#.to_owned(),
    ];
    for text in &ok {
        assert!(ClientMsg::decode(text).is_ok(), "refused: {text}");
    }
    let refused = [
        format!(
            r#"{{"type":"create_room","level":"01-scale-out","mode":"solo","seed":{}}}"#,
            max + 1
        ),
        r#"{"type":"join_room","room":"r-1","code":"KX7M2Q"}"#.to_owned(),
        r#"{"type":"join_room"}"#.to_owned(),
        format!(r#"{{"type":"chat","text":"{}"}}"#, "x".repeat(501)),
        r#"{"type":"chat","text":"   "}"#.to_owned(),
        r#"{"type":"practice","op":{"op":"speed","factor":3}}"#.to_owned(),
        r#"{"type":"teleport"}"#.to_owned(),
        r#"{"protocol":1,"token":"t"}"#.to_owned(),
        r#"{"type":"start","now":true}"#.to_owned(),
        r#"{"type":"leave_room","room":"r-1"}"#.to_owned(),
        r#"{"type":"practice","op":{"op":"pause","for_s":10}}"#.to_owned(),
        r#"{"type":"hello","protocol":1,"token":""}"#.to_owned(),
    ];
    for text in &refused {
        assert!(ClientMsg::decode(text).is_err(), "accepted: {text}");
    }
}
