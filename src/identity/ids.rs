//! Explicit id selections: normalization, sorting and `ids_hash`, in O(n log n) with no
//! allocation per id beyond the id itself.

use std::cmp::Ordering;
use std::io::BufRead;

use serde::Serialize;

use sha2::{Digest, Sha256};

use super::IdentityError;

/// The fingerprint of an explicit id selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdsDigest {
    /// Lowercase hex sha256 of the sorted, distinct, normalized ids joined with `\n`.
    pub hash: String,
    /// How many distinct ids the selection holds.
    pub count: usize,
    /// Whether every id was a base-10 integer (and so compared as a number).
    pub numeric: bool,
}

/// Hashes an id selection: trims each id, normalizes integers, sorts, de-duplicates, and hashes
/// the ids joined with `\n`. Runs in O(n log n) and allocates nothing per id.
pub fn ids_hash<I, S>(ids: I) -> Result<IdsDigest, IdentityError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    // Owning the items lets the normalized ids borrow from them instead of copying each one.
    let items: Vec<S> = ids.into_iter().collect();
    let normalized = NormalizedIds::new(&items)?;
    let mut hasher = Sha256::new();
    normalized.write(|bytes| hasher.update(bytes));
    Ok(IdsDigest {
        hash: hex::encode(hasher.finalize()),
        count: normalized.len(),
        numeric: normalized.is_numeric(),
    })
}

/// Splits the comma form of `--ids 1,2,3`. Empty entries are kept so that `ids_hash` can say which
/// position is empty; an argument with nothing but whitespace is no ids at all.
pub fn split_ids(arg: &str) -> Vec<String> {
    if arg.trim().is_empty() {
        return Vec::new();
    }
    arg.split(',').map(str::to_owned).collect()
}

/// Reads an ids file: one id per line, `\n` or `\r\n` endings, a final newline optional, and a
/// leading UTF-8 byte order mark ignored. Any blank line other than that final newline is an
/// error, since it usually means a truncated or concatenated export.
pub fn read_ids(mut reader: impl BufRead) -> Result<Vec<String>, IdentityError> {
    const BOM: &[u8] = "\u{feff}".as_bytes();

    let mut ids = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(ids);
        }
        line += 1;
        let mut bytes = strip_line_ending(&buf);
        if line == 1 {
            // Editors on Windows like to add one; left in, it would make the first id non-numeric.
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| IdentityError::NotUtf8 { line })?;
        if text.trim().is_empty() {
            return Err(IdentityError::BlankLine { line });
        }
        ids.push(text.to_owned());
    }
}

fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The selection after trimming, normalizing, sorting and de-duplicating, still borrowing from
/// the caller's strings.
pub(super) enum NormalizedIds<'a> {
    Numeric(Vec<Integer<'a>>),
    Strings(Vec<Text<'a>>),
}

impl<'a> NormalizedIds<'a> {
    pub(super) fn new<S: AsRef<str>>(items: &'a [S]) -> Result<Self, IdentityError> {
        if items.is_empty() {
            return Err(IdentityError::EmptySelection);
        }
        // First pass: validate and decide the mode. Trimming again in the second pass is cheaper
        // than keeping a third vector of millions of slices alive.
        let mut all_integers = true;
        for (index, item) in items.iter().enumerate() {
            let id = item.as_ref().trim();
            let position = index + 1;
            if id.is_empty() {
                return Err(IdentityError::EmptyId { position });
            }
            // The ids are joined with '\n'; one inside an id would let ["a\nb"] hash as ["a", "b"].
            if id.contains('\n') {
                return Err(IdentityError::IdContainsNewline { position });
            }
            all_integers = all_integers && Integer::parse(id).is_some();
        }

        let trimmed = items.iter().map(|item| item.as_ref().trim());
        if all_integers {
            let mut integers: Vec<Integer<'a>> = trimmed.filter_map(Integer::parse).collect();
            integers.sort_unstable();
            integers.dedup();
            Ok(Self::Numeric(integers))
        } else {
            let mut strings: Vec<Text<'a>> = trimmed.map(Text::new).collect();
            strings.sort_unstable();
            strings.dedup();
            Ok(Self::Strings(strings))
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Numeric(integers) => integers.len(),
            Self::Strings(strings) => strings.len(),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Self::Numeric(_))
    }

    /// Feeds the exact hashed bytes to `sink`, piece by piece, so no joined copy is ever built.
    pub(super) fn write(&self, mut sink: impl FnMut(&[u8])) {
        match self {
            Self::Numeric(integers) => {
                for (index, integer) in integers.iter().enumerate() {
                    if index > 0 {
                        sink(b"\n");
                    }
                    if integer.negative {
                        sink(b"-");
                    }
                    sink(integer.magnitude.as_bytes());
                }
            }
            Self::Strings(strings) => {
                for (index, string) in strings.iter().enumerate() {
                    if index > 0 {
                        sink(b"\n");
                    }
                    sink(string.text.as_bytes());
                }
            }
        }
    }
}

// Both sort keys below carry a `head`: the first bytes of the id packed into a `u64`, so that most
// comparisons settle without following a pointer to the id's text. With millions of ids each such
// visit is a likely cache miss; the heads make sorting 5M ids several times faster.

/// A string id, ordered bytewise over its UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Text<'a> {
    /// The first 8 bytes, big-endian, zero-padded. Padding only ever ties with a real NUL byte,
    /// and ties fall through to the full comparison, so ordering by `head` first is exact.
    head: u64,
    text: &'a str,
}

impl<'a> Text<'a> {
    fn new(text: &'a str) -> Self {
        let mut head = [0; 8];
        let len = text.len().min(8);
        head[..len].copy_from_slice(&text.as_bytes()[..len]);
        Self {
            head: u64::from_be_bytes(head),
            text,
        }
    }
}

impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // `str`'s order is bytewise over UTF-8, which is the order the definition asks for.
        self.head
            .cmp(&other.head)
            .then_with(|| self.text.cmp(other.text))
    }
}

impl PartialOrd for Text<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A base-10 integer of any length, normalized textually: ids may exceed 64 bits, so they are
/// never parsed into a machine integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Integer<'a> {
    /// Never true for zero, so `-0` and `0` are the same id.
    negative: bool,
    /// The first 16 digits of `magnitude`, four bits each, most significant first. Between
    /// magnitudes of equal length it orders like the digits themselves.
    head: u64,
    /// ASCII digits without leading zeros; `"0"` for zero.
    magnitude: &'a str,
}

impl<'a> Integer<'a> {
    /// Accepts an optional `-` followed by one or more ASCII digits, nothing else (no `+`, no
    /// spaces, no other scripts' digits).
    fn parse(id: &'a str) -> Option<Self> {
        let (negative, digits) = match id.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, id),
        };
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let magnitude = match digits.trim_start_matches('0') {
            "" => "0",
            magnitude => magnitude,
        };
        Some(Self {
            negative: negative && magnitude != "0",
            head: digit_head(magnitude),
            magnitude,
        })
    }

    /// Orders non-negative magnitudes: with leading zeros gone, longer is larger, and equal
    /// lengths compare digit by digit.
    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        self.magnitude
            .len()
            .cmp(&other.magnitude.len())
            .then(self.head.cmp(&other.head))
            .then_with(|| self.magnitude.cmp(other.magnitude))
    }
}

fn digit_head(digits: &str) -> u64 {
    digits
        .bytes()
        .take(16)
        .zip((0..16).rev())
        .fold(0, |head, (digit, nibble)| {
            head | (u64::from(digit - b'0') << (4 * nibble))
        })
}

impl Ord for Integer<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Among negatives the larger magnitude is the smaller number.
        match (self.negative, other.negative) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Integer<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
