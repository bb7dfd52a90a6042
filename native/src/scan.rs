//! One pass over a decoded blob: split it into records, validate each, and take the spec's fields from it.
//!
//! Every problem is one record's problem. A record whose end can still be found (a duplicate key, a lone
//! surrogate, invalid UTF-8, a control character, nesting past the limit, an overlong number, an oversize
//! record, a field out of range, a value that is no object) is set aside alone and the next record is read.
//! A syntax error is the end of the line in JSON lines; anywhere else the rest of the blob cannot be split,
//! and is set aside as one record. A blob whose first document breaks before any record of it is read, where the
//! next non-blank line is a whole record, is JSON lines whose first line is broken.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::arrow::{Column, Kind, Value};
use crate::time::parse_rfc3339;

pub struct Limits {
    pub max_depth: usize,
    pub max_record_bytes: usize,
    pub max_number_chars: usize,
}

/// A path trie: the spec's field paths, or the wrapper paths whose arrays hold records.
#[derive(Default)]
pub struct Trie {
    children: Vec<Vec<(Vec<u8>, usize)>>,
    terminal: Vec<Vec<usize>>,
}

pub const ROOT: usize = 0;

/// `a == b` for member names, a word at a time without a call to memcmp (most names are 4 to 30 bytes).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap());
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

impl Trie {
    pub fn new() -> Trie {
        Trie { children: vec![vec![]], terminal: vec![vec![]] }
    }

    /// Adds `id` at the end of `path`; returns that node.
    pub fn insert(&mut self, path: &[String], id: usize) -> usize {
        let mut node = ROOT;
        for segment in path {
            let key = segment.as_bytes();
            node = match self.children[node].iter().find(|(k, _)| k == key) {
                Some(&(_, n)) => n,
                None => {
                    self.children.push(vec![]);
                    self.terminal.push(vec![]);
                    let n = self.children.len() - 1;
                    self.children[node].push((key.to_vec(), n));
                    n
                }
            };
        }
        self.terminal[node].push(id);
        node
    }

    fn child(&self, node: usize, key: &[u8]) -> Option<usize> {
        self.children[node].iter().find(|(k, _)| k == key).map(|&(_, n)| n)
    }

    /// A mapped key that `key` equals but for letter case, and its node.
    fn case_variant(&self, node: usize, key: &[u8]) -> Option<(&[u8], usize)> {
        self.children[node].iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(k, n)| (k.as_slice(), *n))
    }

    fn has_children(&self, node: usize) -> bool {
        !self.children[node].is_empty()
    }
}

/// A record that may come inside an envelope: `marker` and `record` are the captures of the path whose presence
/// makes a record an envelope and of the member that holds the record proper; `record_node` is that member's node.
pub struct Envelope {
    pub marker: usize,
    pub record: usize,
    pub record_node: usize,
}

/// What a record's own member that is a mapped name in another letter case does (`properties` for `Properties`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CaseVariants {
    /// Sets the record aside: which spelling a reader takes is the reader's choice.
    SetAside,
    /// Is read as the mapped name; of two spellings in one record, the first.
    First,
    /// Is not the mapped name: ignored, as DuckDB's json_transform matches names.
    Exact,
}

impl CaseVariants {
    pub fn parse(name: &str) -> Option<CaseVariants> {
        match name {
            "set_aside" => Some(CaseVariants::SetAside),
            "first" => Some(CaseVariants::First),
            "exact" => Some(CaseVariants::Exact),
            _ => None,
        }
    }
}

/// The output columns are `kinds` (and `paths`, for messages): the first `record_columns` read from the record,
/// the rest from its envelope. The field trie's terminals are captures: output column i's own path is capture i;
/// with an envelope, record column i's path inside the envelope's record member is capture `kinds.len() + i`, then
/// come the envelope's marker and record captures.
pub struct Spec {
    pub case_variants: CaseVariants,
    pub fields: Trie,
    pub kinds: Vec<Kind>,
    pub paths: Vec<String>,
    pub wrappers: Trie,
    pub record_columns: usize,
    pub envelope: Option<Envelope>,
    pub captures: usize,
}

pub struct SetAside {
    pub position: i64,
    pub offset: usize,
    pub reason: String,
    pub start: usize,
    pub end: usize,
}

/// Where a stored record's record proper lies: itself, or its envelope's member (absent: `kind` None).
pub struct Inner {
    pub enveloped: bool,
    pub kind: Option<&'static str>,
    pub span: Option<(i64, i64)>,
}

pub struct Output {
    pub columns: Vec<Column>,
    pub positions: Vec<i64>,
    pub offsets: Vec<i64>,
    pub lengths: Vec<i64>,
    pub inner: Vec<Inner>,
    pub set_aside: Vec<SetAside>,
}

/// A syntax error: what was expected, and where (an offset into the scanner's slice).
type Hard = (String, usize);

/// Where the blob could no longer be split: from `at` on it is one set-aside record.
struct Broken {
    at: usize,
    why: String,
    error_at: usize,
    /// Inside a record array, once it was being split (not a first line broken in JSON lines, then).
    in_array: bool,
}

const SET_KEYS_FROM: usize = 32;
const RESERVE_AFTER_ROWS: usize = 64;
const BOM: &[u8] = b"\xEF\xBB\xBF";
const SHOWN_KEY_BYTES: usize = 64;

pub struct Scanner<'a> {
    blob: &'a [u8],
    b: &'a [u8],
    base: usize,
    spec: &'a Spec,
    limits: &'a Limits,
    problem: Option<String>,
    caps: Vec<Option<(usize, usize)>>,
    /// Whether each capture, when it is a string, holds escapes (as `string` found; a plain one is copied as is).
    escaped: Vec<bool>,
    /// Whether the last string `value` read held escapes.
    last_escaped: bool,
    keys: Vec<(usize, usize, bool)>,
    wrapper_hint: bool,
    pub out: Output,
}

fn show_key(raw: &[u8]) -> String {
    let cut = &raw[..raw.len().min(SHOWN_KEY_BYTES)];
    let text: String = String::from_utf8_lossy(cut).chars().flat_map(char::escape_default).collect();
    if raw.len() > SHOWN_KEY_BYTES { format!("\"{text}…\"") } else { format!("\"{text}\"") }
}

fn show_byte(c: u8) -> String {
    if c.is_ascii_graphic() { format!("'{}'", c as char) } else { format!("byte 0x{c:02x}") }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// The text of a JSON string's inside (between its quotes), its escapes decoded. Keys are decoded before their
/// record is known to be valid (to compare them), so a lone surrogate or a cut escape becomes U+FFFD, never a panic.
pub fn unescape(inner: &[u8]) -> Cow<'_, [u8]> {
    if !inner.contains(&b'\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    unescape_into(inner, &mut out);
    Cow::Owned(out)
}

/// `unescape`, appended to `out`.
pub fn unescape_into(inner: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = inner.get(i + 1).copied().unwrap_or(b'u');
        i += 2;
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => {
                let cp = inner.get(i..).and_then(hex4).unwrap_or(0xFFFD);
                i += 4;
                let low = if (0xD800..0xDC00).contains(&cp) && inner.get(i..).is_some_and(|r| r.starts_with(b"\\u")) {
                    inner.get(i + 2..).and_then(hex4).filter(|l| (0xDC00..0xE000).contains(l))
                } else {
                    None
                };
                match low {
                    Some(low) => {
                        i += 6;
                        char::from_u32(0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)).unwrap_or('\u{FFFD}')
                    }
                    None => char::from_u32(cp).unwrap_or('\u{FFFD}'),
                }
            }
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The end of the run of bytes from b[i] that need no look inside a string: none is '"', '\\' or a control
/// character. Sixteen bytes at a time by SSE2 (every x86-64 has it), then eight by `plain_run_words`.
#[cfg(target_arch = "x86_64")]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::*;
    // Safety: SSE2 is part of x86-64; each load reads b[i..i + 16], inside the slice.
    unsafe {
        let (quote, slash, control) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1f));
        while i + 16 <= b.len() {
            let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, control), v); // v <= 0x1f, unsigned
            let hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)), low);
            let mask = _mm_movemask_epi8(hit) as u32;
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    plain_run_words(b, i)
}

#[cfg(not(target_arch = "x86_64"))]
fn plain_run(b: &[u8], i: usize) -> usize {
    plain_run_words(b, i)
}

/// `plain_run` eight bytes at a time (a byte is flagged where it is zero after the xor, or below 0x20).
fn plain_run_words(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        let quote = w ^ (ONES * b'"' as u64);
        let slash = w ^ (ONES * b'\\' as u64);
        let flags = (quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash
            | w.wrapping_sub(ONES * 0x20) & !w) & HIGHS;
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i] != b'"' && b[i] != b'\\' && b[i] >= 0x20 {
        i += 1;
    }
    i
}

/// The first '\n' in b from `from` on. By the standard library's memchr (`skip_until`): a trail file is one
/// line of megabytes, and a byte at a time it cost 8% of its extraction.
fn newline(b: &[u8], from: usize) -> Option<usize> {
    use std::io::BufRead;
    let mut rest = &b[from..];
    let read = rest.skip_until(b'\n').unwrap_or(0);
    (read > 0 && b[from + read - 1] == b'\n').then(|| from + read - 1)
}

fn json_type(first: u8) -> &'static str {
    match first {
        b'{' => "object",
        b'[' => "array",
        b'"' => "string",
        b't' | b'f' => "boolean",
        b'n' => "null",
        _ => "number",
    }
}

fn parse_integer(text: &[u8]) -> Result<Option<i64>, ()> {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    std::str::from_utf8(text).ok().and_then(|t| t.parse::<i64>().ok()).map(Some).ok_or(())
}

impl<'a> Scanner<'a> {
    pub fn new(blob: &'a [u8], spec: &'a Spec, limits: &'a Limits) -> Scanner<'a> {
        let columns = spec.kinds.iter().map(|&k| Column::new(k)).collect();
        Scanner {
            blob,
            b: blob,
            base: 0,
            spec,
            limits,
            problem: None,
            caps: vec![None; spec.captures],
            escaped: vec![false; spec.captures],
            last_escaped: false,
            keys: Vec::new(),
            wrapper_hint: false,
            out: Output {
                columns,
                positions: Vec::new(),
                offsets: Vec::new(),
                lengths: Vec::new(),
                inner: Vec::new(),
                set_aside: Vec::new(),
            },
        }
    }

    fn ws(&self, mut p: usize) -> usize {
        while p < self.b.len() && matches!(self.b[p], b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        }
        p
    }

    /// Whitespace between documents, where a byte order mark may also stand (files concatenated whole).
    fn ws_bom(&self, mut p: usize) -> usize {
        loop {
            p = self.ws(p);
            if self.b[p..].starts_with(BOM) {
                p += BOM.len();
            } else {
                return p;
            }
        }
    }

    fn soft(&mut self, why: impl FnOnce() -> String) {
        if self.problem.is_none() {
            self.problem = Some(why());
        }
    }

    fn at(&self, p: usize) -> usize {
        self.base + p
    }

    fn expect(&self, p: usize, what: &str) -> Hard {
        let found = match self.b.get(p) {
            Some(&c) => show_byte(c),
            None => "the end of the data".to_string(),
        };
        (format!("expected {what}, found {found}"), p)
    }

    // --- validation, one value at a time -------------------------------------------------------------------------

    fn value(&mut self, p: usize, depth: usize, node: Option<usize>, top: bool) -> Result<usize, Hard> {
        match self.b.get(p) {
            Some(b'{' | b'[') if depth >= self.limits.max_depth => {
                let limit = self.limits.max_depth;
                self.soft(|| format!("nested deeper than {limit} levels"));
                self.skip(p)
            }
            Some(b'{') => self.object(p, depth + 1, node, top),
            Some(b'[') => self.array(p, depth + 1),
            Some(b'"') => self.string(p).map(|(end, escaped)| {
                self.last_escaped = escaped;
                end
            }),
            Some(b't') => self.literal(p, b"true"),
            Some(b'f') => self.literal(p, b"false"),
            Some(b'n') => self.literal(p, b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(p),
            _ => Err(self.expect(p, "a JSON value")),
        }
    }

    fn literal(&self, p: usize, word: &[u8]) -> Result<usize, Hard> {
        if self.b[p..].starts_with(word) { Ok(p + word.len()) } else { Err(self.expect(p, "a JSON value")) }
    }

    fn number(&mut self, p: usize) -> Result<usize, Hard> {
        let b = self.b;
        let digits = |mut i: usize| {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = p + (b[p] == b'-') as usize;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i),
            _ => return Err(self.expect(i, "a digit")),
        }
        if b.get(i) == Some(&b'.') {
            let j = digits(i + 1);
            if j == i + 1 {
                return Err(self.expect(j, "a digit after the decimal point"));
            }
            i = j;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let j = digits(i);
            if j == i {
                return Err(self.expect(j, "a digit in the exponent"));
            }
            i = j;
        }
        if i - p > self.limits.max_number_chars {
            let (len, limit, at) = (i - p, self.limits.max_number_chars, self.at(p));
            self.soft(|| format!("a number of {len} characters at byte offset {at} (the limit is {limit})"));
        }
        Ok(i)
    }

    /// A string at b[p] (its opening quote): the position after it, and whether it holds escapes.
    fn string(&mut self, p: usize) -> Result<(usize, bool), Hard> {
        let b = self.b;
        let mut i = p + 1;
        let mut escaped = false;
        loop {
            i = plain_run(b, i);
            match b.get(i) {
                None => return Err(("a string runs to the end of the data".to_string(), p)),
                Some(b'"') => return Ok((i + 1, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let Some(cp) = hex4(&b[i + 2..]) else {
                                return Err(self.expect(i + 2, "four hex digits after \\u"));
                            };
                            let at = self.at(i);
                            i += 6;
                            if (0xD800..0xDC00).contains(&cp) {
                                let low = if b[i..].starts_with(b"\\u") { hex4(&b[i + 2..]) } else { None };
                                match low {
                                    Some(low) if (0xDC00..0xE000).contains(&low) => i += 6,
                                    _ => self.soft(|| format!("a lone surrogate escape \\u{cp:04x} at byte offset {at}")),
                                }
                            } else if (0xDC00..0xE000).contains(&cp) {
                                self.soft(|| format!("a lone surrogate escape \\u{cp:04x} at byte offset {at}"));
                            }
                        }
                        _ => return Err(self.expect(i + 1, "an escape character after the backslash")),
                    }
                }
                Some(&c) => {
                    let at = self.at(i);
                    self.soft(|| format!("control character 0x{c:02x} inside a string at byte offset {at}"));
                    i += 1;
                }
            }
        }
    }

    fn array(&mut self, p: usize, depth: usize) -> Result<usize, Hard> {
        let mut q = self.ws(p + 1);
        if self.b.get(q) == Some(&b']') {
            return Ok(q + 1);
        }
        loop {
            let end = self.value(q, depth, None, false)?;
            q = self.ws(end);
            match self.b.get(q) {
                Some(b',') => q = self.ws(q + 1),
                Some(b']') => return Ok(q + 1),
                _ => return Err(self.expect(q, "',' or ']' in an array")),
            }
        }
    }

    fn key_bytes(&self, k: (usize, usize, bool)) -> Cow<'a, [u8]> {
        let b: &'a [u8] = self.b;
        if k.2 { unescape(&b[k.0..k.1]) } else { Cow::Borrowed(&b[k.0..k.1]) }
    }

    fn same_key(&self, a: (usize, usize, bool), b: (usize, usize, bool)) -> bool {
        if !a.2 && !b.2 {
            same_bytes(&self.b[a.0..a.1], &self.b[b.0..b.1])
        } else {
            self.key_bytes(a) == self.key_bytes(b)
        }
    }

    fn object(&mut self, p: usize, depth: usize, node: Option<usize>, top: bool) -> Result<usize, Hard> {
        let key_base = self.keys.len();
        let mut seen: Option<HashSet<Vec<u8>>> = None;
        let mut bloom = Some(0u64);
        let mut q = self.ws(p + 1);
        if self.b.get(q) == Some(&b'}') {
            return Ok(q + 1);
        }
        loop {
            if self.b.get(q) != Some(&b'"') {
                return Err(self.expect(q, "a member name in double quotes"));
            }
            let (kend, escaped) = self.string(q)?;
            let key = (q + 1, kend - 1, escaped);
            self.check_duplicate(key, key_base, &mut seen, &mut bloom);
            q = self.ws(kend);
            if self.b.get(q) != Some(&b':') {
                return Err(self.expect(q, "':' after a member name"));
            }
            q = self.ws(q + 1);
            let child = match node {
                Some(n) if self.spec.fields.has_children(n) => self.mapped_child(n, key),
                _ => None,
            };
            if top && matches!(self.b.get(q), Some(b'[' | b'{')) {
                let name = self.key_bytes(key);
                if self.spec.wrappers.child(ROOT, &name).is_some() {
                    self.wrapper_hint = true;
                }
            }
            let start = q;
            let end = self.value(q, depth, child, false)?;
            q = self.ws(end);
            if let Some(c) = child {
                for &col in &self.spec.fields.terminal[c] {
                    if self.caps[col].is_none() {
                        self.caps[col] = Some((start, end));
                        self.escaped[col] = self.last_escaped;
                    }
                }
            }
            match self.b.get(q) {
                Some(b',') => q = self.ws(q + 1),
                Some(b'}') => {
                    self.keys.truncate(key_base);
                    return Ok(q + 1);
                }
                _ => return Err(self.expect(q, "',' or '}' in an object")),
            }
        }
    }

    fn mapped_child(&mut self, node: usize, key: (usize, usize, bool)) -> Option<usize> {
        let name = self.key_bytes(key);
        if let Some(c) = self.spec.fields.child(node, &name) {
            return Some(c);
        }
        // Only a record's own members (and an envelope's record's): DuckDB's read_json matches them to columns
        // ignoring case, so either could be read as the field; nested paths are read case-sensitively everywhere,
        // and AWS and Azure nest parameters of either case.
        if self.spec.case_variants == CaseVariants::Exact
            || node != ROOT && self.spec.envelope.as_ref().map(|e| e.record_node) != Some(node) {
            return None;
        }
        let (mapped, child) = self.spec.fields.case_variant(node, &name)?;
        if self.spec.case_variants == CaseVariants::First {
            return Some(child);
        }
        let (found, mapped) = (show_key(&name), show_key(mapped));
        self.soft(|| format!("member {found} differs only in letter case from the mapped {mapped}"));
        None
    }

    /// `bloom` has a bit for each (length, first, last byte) class of the object's names so far, so that most
    /// names are known new without a comparison; an escaped name (whose bytes are not its text) turns it off.
    fn check_duplicate(&mut self, key: (usize, usize, bool), key_base: usize, seen: &mut Option<HashSet<Vec<u8>>>,
                       bloom: &mut Option<u64>) {
        let count = self.keys.len() - key_base;
        let mut surely_new = false;
        if key.2 {
            *bloom = None;
        } else if let Some(bits) = bloom {
            let (b, len) = (self.b, key.1 - key.0);
            let class = if len == 0 { 0 } else { len * 31 + b[key.0] as usize + 7 * b[key.1 - 1] as usize };
            let bit = 1u64 << (class % 64);
            surely_new = *bits & bit == 0;
            *bits |= bit;
        }
        let duplicate = if surely_new && seen.is_none() && count + 1 < SET_KEYS_FROM {
            false
        } else if let Some(set) = seen {
            !set.insert(self.key_bytes(key).into_owned())
        } else if count + 1 >= SET_KEYS_FROM {
            let mut set: HashSet<Vec<u8>> =
                self.keys[key_base..].iter().map(|&k| self.key_bytes(k).into_owned()).collect();
            let duplicate = !set.insert(self.key_bytes(key).into_owned());
            *seen = Some(set);
            duplicate
        } else {
            self.keys[key_base..].iter().any(|&k| self.same_key(k, key))
        };
        if seen.is_none() {
            self.keys.push(key);
        }
        if duplicate {
            let (name, at) = (show_key(&self.key_bytes(key)), self.at(key.0 - 1));
            self.soft(|| format!("duplicate member {name} at byte offset {at}"));
        }
    }

    /// Past the depth limit: only the value's end is wanted, its brackets matched and its strings read.
    fn skip(&mut self, p: usize) -> Result<usize, Hard> {
        let mut open: Vec<u8> = Vec::new();
        let mut i = p;
        loop {
            match self.b.get(i) {
                None => return Err(("a value runs to the end of the data".to_string(), p)),
                Some(b'"') => i = self.string(i)?.0,
                Some(&c @ (b'{' | b'[')) => {
                    open.push(if c == b'{' { b'}' } else { b']' });
                    i += 1;
                }
                Some(&c @ (b'}' | b']')) => {
                    if open.pop() != Some(c) {
                        return Err(self.expect(i, "a matching bracket"));
                    }
                    i += 1;
                    if open.is_empty() {
                        return Ok(i);
                    }
                }
                Some(_) => i += 1,
            }
        }
    }

    // --- records --------------------------------------------------------------------------------------------------

    fn record(&mut self, p: usize, top: bool) -> Result<usize, Hard> {
        self.problem = None;
        self.caps.iter_mut().for_each(|c| *c = None);
        self.keys.clear();
        self.wrapper_hint = false;
        self.value(p, 0, Some(ROOT), top)
    }

    /// The capture that output column `col` takes: with an envelope, a record column's from inside the record
    /// member, and no envelope column's when the record came bare.
    fn source(&self, col: usize, enveloped: bool) -> Option<usize> {
        let bare = self.spec.envelope.is_none() || col < self.spec.record_columns;
        match (enveloped, bare) {
            (false, true) => Some(col),
            (false, false) => None,
            (true, true) => Some(self.spec.kinds.len() + col),
            (true, false) => Some(col),
        }
    }

    fn convert(&self, col: usize, enveloped: bool) -> Result<Value<'a>, String> {
        let Some((s, e)) = self.source(col, enveloped).and_then(|c| self.caps[c]) else { return Ok(Value::Null) };
        let b: &'a [u8] = self.b;
        let raw = &b[s..e];
        let text = || if raw[0] == b'"' { unescape(&raw[1..raw.len() - 1]) } else { Cow::Borrowed(raw) };
        Ok(match (self.spec.kinds[col], raw[0]) {
            (_, b'n') => Value::Null,
            (Kind::Json, _) => Value::Text(Cow::Borrowed(raw)),
            (Kind::String, _) => Value::Text(text()),
            (Kind::Bool, b't') => Value::Bool(true),
            (Kind::Bool, b'f') => Value::Bool(false),
            (Kind::Bool, b'"') => match text().to_ascii_lowercase().as_slice() {
                b"true" => Value::Bool(true),
                b"false" => Value::Bool(false),
                _ => Value::Null,
            },
            (Kind::Integer, b'"' | b'-' | b'0'..=b'9') => match parse_integer(&text()) {
                Ok(Some(v)) => Value::Int(v),
                Ok(None) => Value::Null,
                Err(()) => return Err(format!("{} is an integer out of the 64-bit range", self.spec.paths[col])),
            },
            (Kind::Timestamp, b'"') => parse_rfc3339(&text()).map_or(Value::Null, Value::Int),
            _ => Value::Null,
        })
    }

    fn set_aside(&mut self, position: i64, start: usize, end: usize, reason: String) {
        let (start, end) = (self.at(start), self.at(end));
        self.out.set_aside.push(SetAside { position, offset: start, reason, start, end });
    }

    /// The record b[start..end] just scanned, at `position`: stored, or set aside with its reason.
    fn take(&mut self, start: usize, end: usize, position: i64) {
        let span = &self.b[start..end];
        let reason = if span.len() > self.limits.max_record_bytes {
            Some(format!("record of {} bytes exceeds the {}-byte limit", span.len(), self.limits.max_record_bytes))
        } else if let Err(e) = std::str::from_utf8(span) {
            let at = self.at(start + e.valid_up_to());
            Some(format!("non-UTF-8 byte 0x{:02x} at byte offset {at}", span[e.valid_up_to()]))
        } else if span[0] != b'{' {
            Some(format!("record is a JSON {}, expected an object", json_type(span[0])))
        } else {
            self.problem.take()
        };
        if let Some(reason) = reason {
            return self.set_aside(position, start, end, reason);
        }
        let enveloped = self.spec.envelope.as_ref().is_some_and(|e| self.caps[e.marker].is_some());
        // A row goes in whole or not at all: an integer out of range is the only value that refuses its record.
        for col in 0..self.spec.kinds.len() {
            if self.spec.kinds[col] == Kind::Integer {
                if let Err(reason) = self.convert(col, enveloped) {
                    return self.set_aside(position, start, end, reason);
                }
            }
        }
        let b: &'a [u8] = self.b;
        for col in 0..self.spec.kinds.len() {
            // Text is the most of a row: it goes from the blob to its column without a Value between.
            let cap = self.source(col, enveloped).and_then(|c| Some((self.caps[c]?, self.escaped[c])));
            match (self.spec.kinds[col], cap) {
                (_, None) => self.out.columns[col].push_null(),
                (Kind::Json, Some(((s, e), _))) if b[s] != b'n' => self.out.columns[col].push_text(&b[s..e]),
                (Kind::String, Some(((s, e), escaped))) if b[s] == b'"' => {
                    self.out.columns[col].push_string(&b[s + 1..e - 1], escaped)
                }
                _ => {
                    let value = self.convert(col, enveloped).unwrap_or(Value::Null);
                    self.out.columns[col].push(value);
                }
            }
        }
        if let Some(envelope) = &self.spec.envelope {
            let (s, e) = if enveloped { self.caps[envelope.record].unwrap_or((0, 0)) } else { (start, end) };
            let inner = if e > s {
                Inner { enveloped, kind: Some(json_type(self.b[s])), span: Some((self.at(s) as i64, (e - s) as i64)) }
            } else {
                Inner { enveloped, kind: None, span: None }
            };
            self.out.inner.push(inner);
        }
        self.out.positions.push(position);
        self.out.offsets.push(self.at(start) as i64);
        self.out.lengths.push((end - start) as i64);
        if self.out.positions.len() == RESERVE_AFTER_ROWS {
            // The first rows foretell the rest: growing the buffers by doubling would copy them again and again.
            let scale = self.blob.len() as f64 / (self.at(end) as f64).max(1.0);
            for column in &mut self.out.columns {
                column.reserve(scale);
            }
        }
    }

    /// The records of the array at b[p], numbered on from `next`.
    fn records_array(&mut self, p: usize, next: &mut i64) -> Result<usize, Broken> {
        let mut q = self.ws(p + 1);
        let mut first = true;
        loop {
            if self.b.get(q) == Some(&b']') {
                return Ok(q + 1);
            }
            if !first {
                if self.b.get(q) != Some(&b',') {
                    let (why, error_at) = self.expect(q, "',' or ']' between records");
                    return Err(Broken { at: q, why, error_at, in_array: true });
                }
                q = self.ws(q + 1);
            }
            first = false;
            match self.record(q, false) {
                Ok(end) => {
                    self.take(q, end, *next);
                    *next += 1;
                    q = self.ws(end);
                }
                Err((why, error_at)) => return Err(Broken { at: q, why, error_at, in_array: true }),
            }
        }
    }

    /// The object at b[p], whose record arrays (the spec's wrappers, below `node`) are split: the position after
    /// it, and whether it held one.
    fn wrapper(&mut self, p: usize, node: usize, next: &mut i64) -> Result<(usize, bool), Broken> {
        let broken = |(why, error_at): Hard| Broken { at: error_at, why, error_at, in_array: false };
        let mut took = false;
        let mut q = self.ws(p + 1);
        if self.b.get(q) == Some(&b'}') {
            return Ok((q + 1, false));
        }
        loop {
            if self.b.get(q) != Some(&b'"') {
                return Err(broken(self.expect(q, "a member name in double quotes")));
            }
            let (kend, escaped) = self.string(q).map_err(broken)?;
            let name = self.key_bytes((q + 1, kend - 1, escaped));
            q = self.ws(kend);
            if self.b.get(q) != Some(&b':') {
                return Err(broken(self.expect(q, "':' after a member name")));
            }
            q = self.ws(q + 1);
            let child = self.spec.wrappers.child(node, &name);
            q = match (child, self.b.get(q)) {
                (Some(c), Some(b'[')) if !self.spec.wrappers.terminal[c].is_empty() => {
                    took = true;
                    self.records_array(q, next)?
                }
                (Some(c), Some(b'{')) if self.spec.wrappers.has_children(c) => {
                    let (end, inner) = self.wrapper(q, c, next)?;
                    took |= inner;
                    end
                }
                _ => self.value(q, 1, None, false).map_err(broken)?,
            };
            q = self.ws(q);
            match self.b.get(q) {
                Some(b',') => q = self.ws(q + 1),
                Some(b'}') => return Ok((q + 1, took)),
                _ => return Err(broken(self.expect(q, "',' or '}' in an object"))),
            }
        }
    }

    /// One top-level value at b[p]: a wrapper's records, a bare array's, or one record.
    fn document(&mut self, p: usize, next: &mut i64) -> Result<usize, Broken> {
        if self.b[p] == b'[' {
            return self.records_array(p, next);
        }
        let scanned = self.record(p, true);
        if self.wrapper_hint {
            let before = self.out.positions.len() + self.out.set_aside.len();
            match self.wrapper(p, ROOT, next) {
                Ok((end, true)) => return Ok(end),
                Ok((_, false)) => {}
                Err(broken) if self.out.positions.len() + self.out.set_aside.len() > before => return Err(broken),
                Err(broken) => return Err(Broken { at: p, ..broken }),
            }
            self.record(p, true).map_err(|(why, error_at)| Broken { at: p, why, error_at, in_array: false })?;
        }
        match scanned {
            Ok(end) => {
                self.take(p, end, *next);
                *next += 1;
                Ok(end)
            }
            Err((why, error_at)) => Err(Broken { at: p, why, error_at, in_array: false }),
        }
    }

    /// The documents from b[first]; where the first of them broke before any record of it was read (and not in
    /// a record array), its error, with nothing set aside (the caller decides what the blob was).
    fn documents(&mut self, first: usize) -> Result<(), Broken> {
        let mut next = 0i64;
        let mut p = self.ws_bom(first);
        while p < self.b.len() {
            match self.document(p, &mut next) {
                Ok(end) => p = self.ws_bom(end),
                Err(broken) if p == first && !broken.in_array && self.out.positions.is_empty()
                    && self.out.set_aside.is_empty() => {
                    return Err(broken)
                }
                Err(broken) => {
                    self.set_aside_rest(broken, next);
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn set_aside_rest(&mut self, broken: Broken, position: i64) {
        let remaining = self.b.len() - broken.at;
        let rest = if remaining > 0 {
            format!("the remaining {remaining} bytes cannot be split into records")
        } else {
            "the blob ends there".to_string()
        };
        let reason = format!("invalid JSON: {} at byte offset {} (record {position}); {rest}", broken.why,
                             self.at(broken.error_at));
        self.set_aside(position, broken.at, self.b.len(), reason);
    }

    fn lines(&mut self) {
        let blob = self.blob;
        let (mut offset, mut line_no, mut next) = (0usize, -1i64, 0i64);
        while offset < blob.len() {
            let end = newline(blob, offset).unwrap_or(blob.len());
            line_no += 1;
            self.b = &blob[offset..end];
            self.base = offset;
            offset = end + 1;
            let p = self.ws_bom(0);
            if p >= self.b.len() {
                continue;
            }
            let index = line_no.max(next);
            next = index + 1;
            let scanned = self.record(p, true).and_then(|end| {
                let after = self.ws(end);
                if after < self.b.len() { Err(self.expect(after, "the end of the line after the record")) } else { Ok(end) }
            });
            let end = match scanned {
                Ok(end) => end,
                Err((why, error_at)) => {
                    let reason = format!("invalid JSON on line {}: {why} at byte offset {}", line_no + 1, self.at(error_at));
                    self.set_aside(index, 0, self.b.len(), reason);
                    continue;
                }
            };
            if self.wrapper_hint {
                let mut wrapped = index;
                // The line is whole JSON, so its wrapper cannot break off.
                if let Ok((_, true)) = self.wrapper(p, ROOT, &mut wrapped) {
                    next = wrapped;
                    continue;
                }
                let _ = self.record(p, true);
            }
            self.take(p, end, index);
        }
        self.b = blob;
        self.base = 0;
    }

    /// JSON lines when the first line is one whole JSON object and more follows (as the careful Python path
    /// decides, sovaudit.ingest.records), or when the blob opens with anything but '[' or '{'.
    fn is_json_lines(&mut self, first: usize) -> bool {
        let b = self.blob;
        match b.get(first) {
            Some(b'[') => return false,
            Some(b'{') => {}
            _ => return true,
        }
        let Some(nl) = newline(b, first) else { return false };
        if b[nl..].iter().all(|c| c.is_ascii_whitespace()) {
            return false;
        }
        self.line_is_a_record(first)
    }

    /// Whether the line from blob[start] is one whole JSON object and nothing else.
    fn line_is_a_record(&mut self, start: usize) -> bool {
        let b = self.blob;
        if b.get(start) != Some(&b'{') {
            return false;
        }
        let nl = newline(b, start).unwrap_or(b.len());
        self.b = &b[..nl];
        let whole = self.record(start, true).map(|end| self.ws(end) == nl).unwrap_or(false);
        self.b = b;
        whole
    }

    /// Whether the next non-blank line after the one at blob[first] is a whole record: a JSON lines blob whose
    /// first record is broken, rather than one broken document (as sovaudit.ingest.records decides).
    fn second_line_is_a_record(&mut self, first: usize) -> bool {
        let b = self.blob;
        let Some(nl) = newline(b, first) else { return false };
        let start = self.ws_bom(nl + 1);
        self.line_is_a_record(start)
    }

    pub fn run(&mut self) {
        let first = self.ws_bom(0);
        if first >= self.blob.len() {
            return;
        }
        if self.is_json_lines(first) {
            self.lines();
        } else if let Err(broken) = self.documents(first) {
            if self.second_line_is_a_record(first) {
                // Only the first line is set aside, not every record after it.
                self.lines();
            } else {
                self.set_aside_rest(broken, 0);
            }
        }
    }
}
