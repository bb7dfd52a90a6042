//! Column builders, and their hand-over to pyarrow through the Arrow C data interface: the buffers built here
//! become pyarrow's without a copy, and are freed when pyarrow releases them.

use std::ffi::{c_char, c_void, CString};
use std::ptr;

#[repr(C)]
pub struct ArrowSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *mut *mut ArrowSchema,
    dictionary: *mut ArrowSchema,
    release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    private_data: *mut c_void,
}

#[repr(C)]
pub struct ArrowArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *mut *const c_void,
    children: *mut *mut ArrowArray,
    dictionary: *mut ArrowArray,
    release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    private_data: *mut c_void,
}

// Safety: the structs own what they point to, and nothing else refers to it until pyarrow takes them.
unsafe impl Send for ArrowSchema {}
unsafe impl Send for ArrowArray {}

const NULLABLE: i64 = 2;

struct SchemaPrivate {
    _format: CString,
    _name: CString,
    _metadata: Option<Vec<u8>>,
    children: Vec<*mut ArrowSchema>,
}

unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    if schema.is_null() || (*schema).release.is_none() {
        return;
    }
    let private = Box::from_raw((*schema).private_data as *mut SchemaPrivate);
    for &child in &private.children {
        if let Some(release) = (*child).release {
            release(child);
        }
        drop(Box::from_raw(child));
    }
    (*schema).release = None;
}

/// The C data interface's metadata encoding: a count, then each key and value with its length (native endian).
fn metadata(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = (pairs.len() as i32).to_ne_bytes().to_vec();
    for (k, v) in pairs {
        for part in [k, v] {
            out.extend_from_slice(&(part.len() as i32).to_ne_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

fn schema(format: &str, name: &str, nullable: bool, children: Vec<ArrowSchema>) -> ArrowSchema {
    schema_with(format, name, nullable, children, None)
}

fn schema_with(format: &str, name: &str, nullable: bool, children: Vec<ArrowSchema>, meta: Option<Vec<u8>>)
    -> ArrowSchema {
    let format = CString::new(format).unwrap();
    // A column name comes from the field spec; a NUL in it would end the C string early.
    let name = CString::new(name.replace('\0', "")).unwrap();
    let mut private = Box::new(SchemaPrivate {
        _format: format,
        _name: name,
        _metadata: meta,
        children: children.into_iter().map(|c| Box::into_raw(Box::new(c))).collect(),
    });
    ArrowSchema {
        format: private._format.as_ptr(),
        name: private._name.as_ptr(),
        metadata: private._metadata.as_ref().map_or(ptr::null(), |m| m.as_ptr() as *const c_char),
        flags: if nullable { NULLABLE } else { 0 },
        n_children: private.children.len() as i64,
        children: private.children.as_mut_ptr(),
        dictionary: ptr::null_mut(),
        release: Some(release_schema),
        private_data: Box::into_raw(private) as *mut c_void,
    }
}

/// Owned buffers of one array: the allocations stay here until pyarrow releases the array.
enum Buffer {
    Bytes(Vec<u8>),
    Words(Vec<i64>),
}

impl Buffer {
    fn ptr(&self) -> *const c_void {
        match self {
            Buffer::Bytes(v) => v.as_ptr() as *const c_void,
            Buffer::Words(v) => v.as_ptr() as *const c_void,
        }
    }
}

struct ArrayPrivate {
    _buffers: Vec<Option<Buffer>>,
    pointers: Vec<*const c_void>,
    children: Vec<*mut ArrowArray>,
}

unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    if array.is_null() || (*array).release.is_none() {
        return;
    }
    let private = Box::from_raw((*array).private_data as *mut ArrayPrivate);
    for &child in &private.children {
        if let Some(release) = (*child).release {
            release(child);
        }
        drop(Box::from_raw(child));
    }
    (*array).release = None;
}

fn array(length: usize, null_count: usize, buffers: Vec<Option<Buffer>>, children: Vec<ArrowArray>) -> ArrowArray {
    let pointers = buffers.iter().map(|b| b.as_ref().map_or(ptr::null(), Buffer::ptr)).collect();
    let mut private = Box::new(ArrayPrivate {
        _buffers: buffers,
        pointers,
        children: children.into_iter().map(|c| Box::into_raw(Box::new(c))).collect(),
    });
    ArrowArray {
        length: length as i64,
        null_count: null_count as i64,
        offset: 0,
        n_buffers: private.pointers.len() as i64,
        n_children: private.children.len() as i64,
        buffers: private.pointers.as_mut_ptr(),
        children: private.children.as_mut_ptr(),
        dictionary: ptr::null_mut(),
        release: Some(release_array),
        private_data: Box::into_raw(private) as *mut c_void,
    }
}

#[derive(Default)]
pub struct Bitmap {
    bits: Vec<u8>,
    len: usize,
    unset: usize,
}

impl Bitmap {
    #[inline]
    pub fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(8) {
            self.bits.push(0);
        }
        if bit {
            self.bits[self.len / 8] |= 1 << (self.len % 8);
        } else {
            self.unset += 1;
        }
        self.len += 1;
    }

    fn into_validity(self) -> (usize, Option<Buffer>) {
        if self.unset == 0 {
            (0, None)
        } else {
            (self.unset, Some(Buffer::Bytes(self.bits)))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    String,
    Json,
    Bool,
    Integer,
    Timestamp,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "string" => Kind::String,
            "json" => Kind::Json,
            "bool" => Kind::Bool,
            "integer" => Kind::Integer,
            "timestamp" => Kind::Timestamp,
            _ => return None,
        })
    }
}

/// One value of a row, before it is appended: a row goes in whole or not at all.
pub enum Value<'a> {
    Null,
    Text(std::borrow::Cow<'a, [u8]>),
    Bool(bool),
    Int(i64),
}

pub enum Column {
    Text { offsets: Vec<i64>, data: Vec<u8>, valid: Bitmap, json: bool },
    Bool { values: Bitmap, valid: Bitmap },
    Int { values: Vec<i64>, valid: Bitmap, time: bool },
}

impl Column {
    pub fn new(kind: Kind) -> Column {
        match kind {
            Kind::String | Kind::Json => {
                Column::Text { offsets: vec![0], data: Vec::new(), valid: Bitmap::default(), json: kind == Kind::Json }
            }
            Kind::Bool => Column::Bool { values: Bitmap::default(), valid: Bitmap::default() },
            Kind::Integer | Kind::Timestamp => {
                Column::Int { values: Vec::new(), valid: Bitmap::default(), time: kind == Kind::Timestamp }
            }
        }
    }

    pub fn push(&mut self, value: Value<'_>) {
        match (self, value) {
            (Column::Text { offsets, data, valid, .. }, Value::Text(t)) => {
                data.extend_from_slice(&t);
                offsets.push(data.len() as i64);
                valid.push(true);
            }
            (Column::Text { offsets, data, valid, .. }, _) => {
                offsets.push(data.len() as i64);
                valid.push(false);
            }
            (Column::Bool { values, valid }, Value::Bool(b)) => {
                values.push(b);
                valid.push(true);
            }
            (Column::Bool { values, valid }, _) => {
                values.push(false);
                valid.push(false);
            }
            (Column::Int { values, valid, .. }, Value::Int(v)) => {
                values.push(v);
                valid.push(true);
            }
            (Column::Int { values, valid, .. }, _) => {
                values.push(0);
                valid.push(false);
            }
        }
    }

    /// A null of any column.
    #[inline]
    pub fn push_null(&mut self) {
        match self {
            Column::Text { offsets, data, valid, .. } => {
                offsets.push(data.len() as i64);
                valid.push(false);
            }
            Column::Bool { values, valid } => {
                values.push(false);
                valid.push(false);
            }
            Column::Int { values, valid, .. } => {
                values.push(0);
                valid.push(false);
            }
        }
    }

    /// Bytes as they are, to a text column.
    #[inline]
    pub fn push_text(&mut self, text: &[u8]) {
        if let Column::Text { offsets, data, valid, .. } = self {
            data.extend_from_slice(text);
            offsets.push(data.len() as i64);
            valid.push(true);
        }
    }

    /// A JSON string's inside, its escapes decoded (`escaped`: it has some), to a text column.
    #[inline]
    pub fn push_string(&mut self, inner: &[u8], escaped: bool) {
        if let Column::Text { offsets, data, valid, .. } = self {
            if escaped {
                crate::scan::unescape_into(inner, data);
            } else {
                data.extend_from_slice(inner);
            }
            offsets.push(data.len() as i64);
            valid.push(true);
        }
    }

    /// Room for `scale` times what the column holds now (1.1 times that, for the estimate's error).
    pub fn reserve(&mut self, scale: f64) {
        let more = |len: usize| ((len as f64) * (scale * 1.1 - 1.0)).max(0.0) as usize;
        match self {
            Column::Text { offsets, data, .. } => {
                offsets.reserve(more(offsets.len()));
                data.reserve(more(data.len()));
            }
            Column::Int { values, .. } => values.reserve(more(values.len())),
            Column::Bool { .. } => {}
        }
    }

    fn export(self, name: &str, rows: usize) -> (ArrowSchema, ArrowArray) {
        match self {
            Column::Text { offsets, data, valid, json } => {
                let (nulls, validity) = valid.into_validity();
                // Raw JSON is Arrow's canonical JSON extension type, which DuckDB reads as its JSON type.
                let meta = json.then(|| metadata(&[("ARROW:extension:name", "arrow.json"), ("ARROW:extension:metadata", "")]));
                (schema_with("U", name, true, vec![], meta),
                 array(rows, nulls, vec![validity, Some(Buffer::Words(offsets)), Some(Buffer::Bytes(data))], vec![]))
            }
            Column::Bool { values, valid } => {
                let (nulls, validity) = valid.into_validity();
                let mut bits = values.bits;
                if bits.is_empty() {
                    bits.push(0);
                }
                (schema("b", name, true, vec![]), array(rows, nulls, vec![validity, Some(Buffer::Bytes(bits))], vec![]))
            }
            Column::Int { values, valid, time } => {
                let (nulls, validity) = valid.into_validity();
                let format = if time { "tsu:UTC" } else { "l" };
                (schema(format, name, true, vec![]), array(rows, nulls, vec![validity, Some(Buffer::Words(values))], vec![]))
            }
        }
    }
}

/// The batch as one struct array (a record batch, in the C data interface's terms).
pub fn export_batch(columns: Vec<(String, Column)>, rows: usize) -> (ArrowSchema, ArrowArray) {
    let (schemas, arrays): (Vec<_>, Vec<_>) = columns.into_iter().map(|(name, c)| c.export(&name, rows)).unzip();
    (schema("+s", "", false, schemas), array(rows, 0, vec![None], arrays))
}

/// Release a schema the consumer never took (a capsule dropped unused); a no-op once taken.
pub fn release_schema_value(schema: &mut ArrowSchema) {
    if let Some(release) = schema.release {
        unsafe { release(schema) }
    }
}

pub fn release_array_value(array: &mut ArrowArray) {
    if let Some(release) = array.release {
        unsafe { release(array) }
    }
}
