//! sovaudit._native: a decoded blob and a field spec in, an Arrow record batch and the set-aside records out.

mod arrow;
mod scan;
mod time;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyList};

use arrow::{export_batch, Column, Kind};
use scan::{CaseVariants, Envelope, Limits, Scanner, Spec, Trie};

type Columns = Vec<(String, Vec<String>, String)>;
/// The envelope step of a spec: the marker path, the record member's path, the envelope's own columns.
type EnvelopeSpec = (Vec<String>, Vec<String>, Columns);

fn nonempty<'p>(what: &str, path: &'p [String]) -> PyResult<&'p [String]> {
    if path.is_empty() {
        return Err(PyValueError::new_err(format!("{what}: an empty path")));
    }
    Ok(path)
}

fn build_spec(columns: &Columns, wrappers: &[Vec<String>], envelope: Option<&EnvelopeSpec>, case_variants: &str)
    -> PyResult<Spec> {
    let case_variants = CaseVariants::parse(case_variants)
        .ok_or_else(|| PyValueError::new_err(format!("case_variants: unknown rule {case_variants:?}")))?;
    let mut fields = Trie::new();
    let mut kinds = Vec::new();
    let mut paths = Vec::new();
    let outer: &[(String, Vec<String>, String)] = envelope.map_or(&[], |e| &e.2);
    for (i, (name, path, kind)) in columns.iter().chain(outer).enumerate() {
        let kind = Kind::parse(kind)
            .ok_or_else(|| PyValueError::new_err(format!("column {name}: unknown type {kind:?}")))?;
        fields.insert(nonempty(&format!("column {name}"), path)?, i);
        kinds.push(kind);
        paths.push(path.join("."));
    }
    let total = kinds.len();
    let envelope = match envelope {
        None => None,
        Some((marker, record, _)) => {
            let record = nonempty("envelope record", record)?;
            for (i, (_, path, _)) in columns.iter().enumerate() {
                fields.insert(&[record, path.as_slice()].concat(), total + i);
            }
            let (marker_id, record_id) = (total + columns.len(), total + columns.len() + 1);
            fields.insert(nonempty("envelope when", marker)?, marker_id);
            let record_node = fields.insert(record, record_id);
            Some(Envelope { marker: marker_id, record: record_id, record_node })
        }
    };
    let captures = if envelope.is_some() { total + columns.len() + 2 } else { total };
    let mut wrapper_trie = Trie::new();
    for (i, path) in wrappers.iter().enumerate() {
        wrapper_trie.insert(path, i);
    }
    let record_columns = columns.len();
    Ok(Spec { case_variants, fields, kinds, paths, wrappers: wrapper_trie, record_columns, envelope, captures })
}

/// The schema and array capsules, the row count, and the set-aside records.
type Extracted<'py> = (Bound<'py, PyCapsule>, Bound<'py, PyCapsule>, usize, Bound<'py, PyList>);

/// Extract the records of `blob`. Returns the batch as Arrow C data interface capsules (schema, array), its row
/// count, and the set-aside records as (position, byte offset, reason, raw bytes). The GIL is released while the
/// blob is read, so two blobs extract on two cores.
#[pyfunction]
#[pyo3(signature = (blob, columns, wrappers, envelope, case_variants, max_depth, max_record_bytes, max_number_chars))]
#[allow(clippy::too_many_arguments)]
fn extract<'py>(
    py: Python<'py>,
    blob: &Bound<'py, PyBytes>,
    columns: Columns,
    wrappers: Vec<Vec<String>>,
    envelope: Option<EnvelopeSpec>,
    case_variants: &str,
    max_depth: usize,
    max_record_bytes: usize,
    max_number_chars: usize,
) -> PyResult<Extracted<'py>> {
    let spec = build_spec(&columns, &wrappers, envelope.as_ref(), case_variants)?;
    let names: Vec<&String> = columns.iter().chain(envelope.iter().flat_map(|e| &e.2)).map(|c| &c.0).collect();
    // The scanner recurses once a level up to the limit (past it, it only matches brackets): keep the stack small.
    if max_depth > 1024 {
        return Err(PyValueError::new_err("max_depth above 1024"));
    }
    let limits = Limits { max_depth, max_record_bytes, max_number_chars };
    let data: &[u8] = blob.as_bytes();
    let (schema, array, rows, set_aside) = py.detach(|| {
        let mut scanner = Scanner::new(data, &spec, &limits);
        scanner.run();
        let out = scanner.out;
        let rows = out.positions.len();
        let mut named: Vec<(String, Column)> = Vec::with_capacity(columns.len() + 2);
        let mut positions = Column::new(Kind::Integer);
        let mut offsets = Column::new(Kind::Integer);
        let mut lengths = Column::new(Kind::Integer);
        for ((&p, &o), &l) in out.positions.iter().zip(&out.offsets).zip(&out.lengths) {
            positions.push(arrow::Value::Int(p));
            offsets.push(arrow::Value::Int(o));
            lengths.push(arrow::Value::Int(l));
        }
        named.push(("_position".to_string(), positions));
        named.push(("_offset".to_string(), offsets));
        named.push(("_length".to_string(), lengths));
        if spec.envelope.is_some() {
            let mut enveloped = Column::new(Kind::Bool);
            let mut kinds = Column::new(Kind::String);
            let mut record_offsets = Column::new(Kind::Integer);
            let mut record_lengths = Column::new(Kind::Integer);
            for inner in &out.inner {
                enveloped.push(arrow::Value::Bool(inner.enveloped));
                kinds.push(inner.kind.map_or(arrow::Value::Null, |k| arrow::Value::Text(k.as_bytes().into())));
                let (o, l) = inner.span.map_or((arrow::Value::Null, arrow::Value::Null),
                                               |(o, l)| (arrow::Value::Int(o), arrow::Value::Int(l)));
                record_offsets.push(o);
                record_lengths.push(l);
            }
            named.push(("_enveloped".to_string(), enveloped));
            named.push(("_record_type".to_string(), kinds));
            named.push(("_record_offset".to_string(), record_offsets));
            named.push(("_record_length".to_string(), record_lengths));
        }
        for (name, column) in names.iter().zip(out.columns) {
            named.push(((*name).clone(), column));
        }
        let (schema, array) = export_batch(named, rows);
        (schema, array, rows, out.set_aside)
    });
    let release_schema = |mut s: arrow::ArrowSchema, _: *mut std::ffi::c_void| arrow::release_schema_value(&mut s);
    let release_array = |mut a: arrow::ArrowArray, _: *mut std::ffi::c_void| arrow::release_array_value(&mut a);
    let schema = PyCapsule::new_with_value_and_destructor(py, schema, c"arrow_schema", release_schema)?;
    let array = PyCapsule::new_with_value_and_destructor(py, array, c"arrow_array", release_array)?;
    let list = PyList::empty(py);
    for s in set_aside {
        let raw = PyBytes::new(py, &data[s.start..s.end]);
        list.append((s.position, s.offset, s.reason, raw))?;
    }
    Ok((schema, array, rows, list))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(extract, m)?)?;
    Ok(())
}
