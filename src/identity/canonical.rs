//! Canonical JSON: keys sorted by code point, no whitespace, minimal escaping, numbers as
//! ECMAScript prints them (RFC 8785 style). The bytes `query_hash` and `run_identity_hash` hash.

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// The canonical JSON text of `value`: keys sorted by code point, no whitespace, minimal string
/// escaping, numbers as ECMAScript prints them (RFC 8785 style). See `docs/identity.md`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

// Recursion is bounded for anything that came through `parse_query`: serde_json refuses to nest
// deeper than 128 levels.
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(string) => write_string(out, string),
        Value::Array(items) => write_array(out, items),
        Value::Object(map) => write_object(out, map),
    }
}

fn write_array(out: &mut String, items: &[Value]) {
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_value(out, item);
    }
    out.push(']');
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    // Keys sort by Unicode code point. `str`'s `Ord` compares UTF-8 bytes, and UTF-8 was designed
    // so that bytewise order equals code point order, so `str::cmp` is exactly that order (and is
    // what serde_json's `BTreeMap`-backed `Map` already iterates in, since we do not enable
    // `preserve_order`). We sort anyway: if some dependency ever turned `preserve_order` on through
    // feature unification, relying on the map's order would silently change every hash. On an
    // already sorted map this costs one linear pass.
    //
    // Note: RFC 8785 sorts by UTF-16 code units instead; the two orders differ only when a key
    // holds a character above U+FFFF and another holds one in U+E000..=U+FFFF at the same place.
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));

    out.push('{');
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

/// Minimal escaping: `"`, `\` and U+0000..=U+001F only; everything else stays as UTF-8.
fn write_string(out: &mut String, string: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";

    out.push('"');
    let mut clean_from = 0;
    for (index, byte) in string.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte we escape is ASCII, so `index` is always a char boundary.
        out.push_str(&string[clean_from..index]);
        clean_from = index + 1;
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        } else {
            out.push_str(short);
        }
    }
    out.push_str(&string[clean_from..]);
    out.push('"');
}

fn write_number(out: &mut String, number: &Number) {
    // Integers serde_json holds exactly (i64/u64) print in plain decimal, even where an f64 could
    // not hold them. Everything else (fractions, exponents, integers beyond u64) is an f64.
    if let Some(integer) = number.as_i64() {
        out.push_str(&integer.to_string());
    } else if let Some(integer) = number.as_u64() {
        out.push_str(&integer.to_string());
    } else {
        // Without serde_json's `arbitrary_precision` every other number is an f64 and `as_f64`
        // always answers; `null` only keeps this total.
        match number.as_f64() {
            Some(float) => write_float(out, float),
            None => out.push_str("null"),
        }
    }
}

/// ECMAScript `Number::toString` (ECMA-262 Number::toString, adopted by RFC 8785 §3.2.2.3).
pub(super) fn write_float(out: &mut String, value: f64) {
    // serde_json never holds NaN or infinities in a `Number`; print them as JSON.stringify would
    // rather than panic if that ever changes.
    if !value.is_finite() {
        out.push_str("null");
        return;
    }
    // Covers -0.0, which ECMAScript prints as "0".
    if value == 0.0 {
        out.push('0');
        return;
    }
    if value < 0.0 {
        out.push('-');
    }

    let (digits, exponent) = shortest_digits(value.abs());
    place_digits(out, &digits, exponent);
}

/// The shortest significant digits that round-trip to `value` (positive, finite), and the decimal
/// exponent of the first one: 0.015 -> ("15", -2).
fn shortest_digits(value: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest round-tripping digits, the closest such to the exact value.
    // Only when two candidates are exactly as close does it differ from ECMAScript, which then
    // takes the even one.
    let Some((digits, exponent)) = split_scientific(&format!("{value:e}")) else {
        // Unreachable: `{:e}` always prints `<mantissa>e<exponent>`.
        return (String::from("0"), 0);
    };
    // A tie needs both k-digit neighbours to round-trip, so the decimal step at the k-th digit
    // can be no coarser than the spacing of f64s around the value, while the exact value ends one
    // digit later in a 5 (a binary fraction with few bits). Together these force the value to be
    // about 2^52 decimal steps large: 16 or more significant digits. Below that, skip the exact
    // expansion. (The vectors and unit tests hold 16- and 17-digit ties.)
    if digits.len() < 16 {
        return (digits, exponent);
    }
    match even_tie_breaker(value, &digits, exponent) {
        Some(even) => even,
        None => (digits, exponent),
    }
}

/// `d.ddde±x` (as Rust's `{:e}` prints) -> ("dddd", x).
fn split_scientific(scientific: &str) -> Option<(String, i32)> {
    let (mantissa, exponent) = scientific.split_once('e')?;
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    Some((digits, exponent.parse().ok()?))
}

/// When `value` lies exactly halfway between two `digits.len()`-digit decimals that both
/// round-trip, returns the even one if it is not `digits` already (ECMA-262 Number::toString,
/// step 5: "if there are two such possible values of s, choose the one that is even").
fn even_tie_breaker(value: f64, digits: &str, exponent: i32) -> Option<(String, i32)> {
    // 800 places print every f64 exactly: the longest exact expansion has 767 significant digits.
    let (exact, exact_exponent) = split_scientific(&format!("{value:.800e}"))?;
    let exact = exact.trim_end_matches('0');
    let k = digits.len();
    let is_tie = exact_exponent == exponent && exact.len() == k + 1 && exact.ends_with('5');
    if !is_tie {
        return None;
    }
    let lower = &exact[..k];
    let (upper, upper_exponent) = increment_digits(lower, exponent);
    let lower_is_even = lower.bytes().last().is_some_and(|digit| digit % 2 == 0);
    let (even, even_exponent) = if lower_is_even {
        (lower.to_owned(), exponent)
    } else {
        (upper, upper_exponent)
    };
    let round_trips = format!("{}.{}e{even_exponent}", &even[..1], &even[1..]).parse() == Ok(value);
    (even != digits && round_trips).then_some((even, even_exponent))
}

/// `digits` + 1 in the last place, without trailing zeros: ("129", 0) -> ("13", 0),
/// ("99", 0) -> ("1", 1).
pub(super) fn increment_digits(digits: &str, exponent: i32) -> (String, i32) {
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            let incremented = String::from_utf8_lossy(&bytes);
            return (incremented.trim_end_matches('0').to_owned(), exponent);
        }
    }
    (String::from("1"), exponent + 1)
}

/// Places significant `digits` (no leading or trailing zeros) whose first digit has decimal
/// `exponent`, following ECMAScript's four cases (n is the position of the decimal point).
fn place_digits(out: &mut String, digits: &str, exponent: i32) {
    let Some((lead, rest)) = digits.split_at_checked(1) else {
        // Unreachable: there is always at least one significant digit.
        out.push('0');
        return;
    };
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let n = exponent + 1;

    if k <= n && n <= 21 {
        // 1e20 -> "100000000000000000000"
        out.push_str(digits);
        push_zeros(out, n - k);
    } else if 0 < n && n <= 21 {
        // 1.5 -> "1.5"; here 0 < n < k, so the split falls inside `digits`.
        let (whole, fraction) = digits.split_at(n.unsigned_abs() as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < n && n <= 0 {
        // 1e-6 -> "0.000001"
        out.push_str("0.");
        push_zeros(out, -n);
        out.push_str(digits);
    } else {
        // 1e21 -> "1e+21", 1.5e-7 -> "1.5e-7"
        out.push_str(lead);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).unsigned_abs().to_string());
    }
}

fn push_zeros(out: &mut String, count: i32) {
    for _ in 0..count {
        out.push('0');
    }
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
