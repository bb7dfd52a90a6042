//! sovaudit._native: a decoded blob and a field spec in, an Arrow record batch and the set-aside records out.

mod arrow;
mod scan;
mod time;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyList};

use arrow::{export_batch, Column, Kind};
use scan::{Limits, Scanner, Spec, Trie};

fn build_spec(columns: &[(String, Vec<String>, String)], wrappers: &[Vec<String>]) -> PyResult<Spec> {
    let mut fields = Trie::new();
    let mut kinds = Vec::new();
    let mut paths = Vec::new();
    for (i, (name, path, kind)) in columns.iter().enumerate() {
        let kind = Kind::parse(kind)
            .ok_or_else(|| PyValueError::new_err(format!("column {name}: unknown type {kind:?}")))?;
        if path.is_empty() {
            return Err(PyValueError::new_err(format!("column {name}: an empty path")));
        }
        fields.insert(path, i);
        kinds.push(kind);
        paths.push(path.join("."));
    }
    let mut wrapper_trie = Trie::new();
    for (i, path) in wrappers.iter().enumerate() {
        wrapper_trie.insert(path, i);
    }
    Ok(Spec { fields, kinds, paths, wrappers: wrapper_trie })
}

/// The schema and array capsules, the row count, and the set-aside records.
type Extracted<'py> = (Bound<'py, PyCapsule>, Bound<'py, PyCapsule>, usize, Bound<'py, PyList>);

/// Extract the records of `blob`. Returns the batch as Arrow C data interface capsules (schema, array), its row
/// count, and the set-aside records as (position, byte offset, reason, raw bytes). The GIL is released while the
/// blob is read, so two blobs extract on two cores.
#[pyfunction]
#[pyo3(signature = (blob, columns, wrappers, max_depth, max_record_bytes, max_number_chars))]
fn extract<'py>(
    py: Python<'py>,
    blob: &Bound<'py, PyBytes>,
    columns: Vec<(String, Vec<String>, String)>,
    wrappers: Vec<Vec<String>>,
    max_depth: usize,
    max_record_bytes: usize,
    max_number_chars: usize,
) -> PyResult<Extracted<'py>> {
    let spec = build_spec(&columns, &wrappers)?;
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
        for ((name, _, _), column) in columns.iter().zip(out.columns) {
            named.push((name.clone(), column));
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
