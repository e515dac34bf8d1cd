//! VRL harness: `rtdw-vrl-harness <program.vrl>...` compiles each program with the VRL crate Vector
//! embeds, then serves requests line by line: each stdin line is one JSON document
//! `{"program": 0, "tables": {"<name>": [{row}...]}, "events": [{...}...], "metadata": [{...}...]}`
//! and gets one stdout line `{"results": [...]}`, one result per event the way a Vector `remap`
//! transform sees it: `{"output": <event after the program>}` or `{"error": "...", "abort": bool}`.
//! A program that does not compile (syntax, types, an unhandled fallible call) exits 2 with the
//! diagnostics before anything is read.
//!
//! Vector's `get_enrichment_table_record` is not part of the VRL crate; it is provided here over the
//! rows of "tables", with Vector's semantics: every condition field must match and exactly one row
//! must match, otherwise the call fails.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use vrl::compiler::prelude::*;
use vrl::compiler::runtime::{Runtime, Terminate};
use vrl::compiler::state::RuntimeState;
use vrl::compiler::{compile, TargetValue, TimeZone};
use vrl::value::{Secrets, Value};

type Tables = BTreeMap<String, Vec<Value>>;
thread_local! {
    static TABLES: RefCell<Tables> = RefCell::new(Tables::new());
}

#[derive(Clone, Copy, Debug)]
struct GetEnrichmentTableRecord;

impl Function for GetEnrichmentTableRecord {
    fn identifier(&self) -> &'static str {
        "get_enrichment_table_record"
    }

    fn parameters(&self) -> &'static [Parameter] {
        &[
            Parameter { keyword: "table", kind: kind::BYTES, required: true },
            Parameter { keyword: "condition", kind: kind::OBJECT, required: true },
            Parameter { keyword: "select", kind: kind::ARRAY, required: false },
            Parameter { keyword: "case_sensitive", kind: kind::BOOLEAN, required: false },
        ]
    }

    fn examples(&self) -> &'static [Example] {
        &[]
    }

    fn compile(&self, _state: &TypeState, _ctx: &mut FunctionCompileContext, arguments: ArgumentList) -> Compiled {
        Ok(LookupFn { table: arguments.required("table"), condition: arguments.required("condition") }.as_expr())
    }
}

#[derive(Debug, Clone)]
struct LookupFn {
    table: Box<dyn Expression>,
    condition: Box<dyn Expression>,
}

impl FunctionExpression for LookupFn {
    fn resolve(&self, ctx: &mut Context) -> Resolved {
        let table = self.table.resolve(ctx)?.try_bytes_utf8_lossy()?.into_owned();
        let condition = self.condition.resolve(ctx)?.try_object()?;
        TABLES.with(|tables| {
            let tables = tables.borrow();
            let rows = tables.get(&table).ok_or_else(|| format!("enrichment table {table} does not exist"))?;
            let hits: Vec<&Value> = rows
                .iter()
                .filter(|row| condition.iter().all(|(k, v)| row.as_object().and_then(|o| o.get(k.as_str())) == Some(v)))
                .collect();
            match hits.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err("no rows found".into()),
                _ => Err("more than one row found".into()),
            }
        })
    }

    fn type_def(&self, _: &TypeState) -> TypeDef {
        TypeDef::object(Collection::any()).fallible()
    }
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: rtdw-vrl-harness <program.vrl>... (then one JSON request per stdin line)");
        std::process::exit(64);
    }
    let mut fns = vrl::stdlib::all();
    fns.push(Box::new(GetEnrichmentTableRecord));
    let mut programs = Vec::new();
    for path in &paths {
        let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        match compile(&source, &fns) {
            Ok(result) => programs.push(result.program),
            Err(diagnostics) => {
                eprintln!("{path}:\n{}", vrl::diagnostic::Formatter::new(&source, diagnostics));
                std::process::exit(2);
            }
        }
    }

    let tz = TimeZone::default();
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        if line.trim().is_empty() {
            continue;
        }
        let doc: serde_json::Value = serde_json::from_str(&line).expect("a request line is not JSON");
        let index = doc.get("program").and_then(|p| p.as_u64()).unwrap_or(0) as usize;
        let program = programs.get(index).unwrap_or_else(|| panic!("no program #{index}"));

        let mut tables = Tables::new();
        if let Some(t) = doc.get("tables").and_then(|t| t.as_object()) {
            for (name, rows) in t {
                let rows = rows.as_array().expect("a table is an array of rows");
                tables.insert(name.clone(), rows.iter().cloned().map(Value::from).collect());
            }
        }
        TABLES.with(|t| *t.borrow_mut() = tables);

        let events = doc.get("events").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        let metadata = doc.get("metadata").and_then(|m| m.as_array()).cloned().unwrap_or_default();
        let mut results = Vec::with_capacity(events.len());
        for (i, event) in events.into_iter().enumerate() {
            let mut target = TargetValue {
                value: Value::from(event),
                metadata: metadata.get(i).cloned().map(Value::from).unwrap_or_else(|| Value::Object(BTreeMap::new())),
                secrets: Secrets::new(),
            };
            let mut runtime = Runtime::new(RuntimeState::default());
            results.push(match runtime.resolve(&mut target, program, &tz) {
                Ok(_) => serde_json::json!({ "output": TryInto::<serde_json::Value>::try_into(target.value).expect("output is JSON") }),
                Err(Terminate::Abort(e)) => serde_json::json!({ "error": e.to_string(), "abort": true }),
                Err(Terminate::Error(e)) => serde_json::json!({ "error": e.to_string(), "abort": false }),
            });
        }
        let mut out = stdout.lock();
        writeln!(out, "{}", serde_json::json!({ "results": results })).expect("stdout");
        out.flush().expect("stdout");
    }
}
