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
//!
//! `--geoip <file.mmdb> <locale>` (before the programs) adds Vector 0.48's `geoip` table
//! (src/enrichment_tables/geoip.rs, read 2026-12-06) over a City database read with the same
//! `maxminddb` crate: only GeoIP2-City/GeoLite2-City databases load; one `ip` condition; the City
//! fields by the same names, names in the configured locale only (no fallback), null when absent;
//! "IP not found" for an address the database does not hold, "Invalid IP address" for a non-address.

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
    static GEOIP: RefCell<Option<(maxminddb::Reader<Vec<u8>>, String)>> = RefCell::new(None);
}

/// Vector's `geoip` table over a City database: the row it returns for `ip`.
fn geoip_row(reader: &maxminddb::Reader<Vec<u8>>, locale: &str, ip: &Value) -> Result<Value, String> {
    let ip: std::net::IpAddr = ip.to_string_lossy().parse().map_err(|_| "Invalid IP address".to_string())?;
    let city: maxminddb::geoip2::City = reader.lookup(ip).map_err(|_| "IP not found".to_string())?;
    let name = |names: Option<&BTreeMap<&str, &str>>| names.and_then(|n| n.get(locale)).map(|s| Value::from(*s)).unwrap_or(Value::Null);
    let text = |v: Option<&str>| v.map(Value::from).unwrap_or(Value::Null);
    let location = city.location.as_ref();
    let subdivision = city.subdivisions.as_ref().and_then(|s| s.last());
    let float = |v: Option<f64>| v.map(Value::from_f64_or_zero).unwrap_or(Value::Null);
    let mut row = BTreeMap::new();
    row.insert("city_name".into(), name(city.city.as_ref().and_then(|c| c.names.as_ref())));
    row.insert("continent_code".into(), text(city.continent.as_ref().and_then(|c| c.code)));
    row.insert("country_code".into(), text(city.country.as_ref().and_then(|c| c.iso_code)));
    row.insert("country_name".into(), name(city.country.as_ref().and_then(|c| c.names.as_ref())));
    row.insert("timezone".into(), text(location.and_then(|l| l.time_zone)));
    row.insert("latitude".into(), float(location.and_then(|l| l.latitude)));
    row.insert("longitude".into(), float(location.and_then(|l| l.longitude)));
    row.insert("metro_code".into(), location.and_then(|l| l.metro_code).map(|m| Value::from(m as i64)).unwrap_or(Value::Null));
    row.insert("region_name".into(), name(subdivision.and_then(|s| s.names.as_ref())));
    row.insert("region_code".into(), text(subdivision.and_then(|s| s.iso_code)));
    row.insert("postal_code".into(), text(city.postal.as_ref().and_then(|p| p.code)));
    Ok(Value::Object(row.into_iter().map(|(k, v): (String, Value)| (k.into(), v)).collect()))
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
        if table == "geoip" {
            if let Some(found) = GEOIP.with(|g| {
                g.borrow().as_ref().map(|(reader, locale)| match condition.len() {
                    0 => Err("IP condition must be specified".to_string()),
                    1 => geoip_row(reader, locale, condition.values().next().unwrap()),
                    _ => Err("Only one condition is allowed".to_string()),
                })
            }) {
                return found.map_err(Into::into);
            }
        }
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
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.first().map(String::as_str) == Some("--geoip") {
        if paths.len() < 3 {
            eprintln!("--geoip needs a database file and a locale");
            std::process::exit(64);
        }
        let (file, locale) = (paths[1].clone(), paths[2].clone());
        paths.drain(0..3);
        let reader = maxminddb::Reader::open_readfile(&file).unwrap_or_else(|e| {
            eprintln!("{file}: {e}");
            std::process::exit(2);
        });
        // Vector refuses to start on any other database type.
        if !matches!(reader.metadata.database_type.as_str(), "GeoIP2-City" | "GeoLite2-City") {
            eprintln!("{file}: Unsupported MMDB database type ({}). Use `mmdb` enrichment table instead.", reader.metadata.database_type);
            std::process::exit(2);
        }
        GEOIP.with(|g| *g.borrow_mut() = Some((reader, locale)));
    }
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
