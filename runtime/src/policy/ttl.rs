//! `ttl`: how long an entry lives, counted from the moment it was stored.
//!
//! The option accepts what people write: seconds as a number (`ttl = 3600`, `ttl = 1.5`), a
//! [`Duration`], or text in the pandas/humantime style Streamlit users know: `"90s"`, `"1h23m"`,
//! `"1.5 days"`, `"2 hours"`, `"500ms"`, `"1d 2h"`. A plain number in text is seconds too.

use std::fmt;
use std::time::Duration;

/// A value the `ttl` option accepts.
pub trait Ttl {
    /// The duration it means, or why it means none.
    fn to_duration(&self) -> Result<Duration, TtlError>;
}

/// A `ttl` that means no duration: bad text, a negative or non-finite number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtlError {
    message: String,
}

impl TtlError {
    fn new(message: impl Into<String>) -> Self {
        TtlError {
            message: message.into(),
        }
    }
}

impl fmt::Display for TtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TtlError {}

impl Ttl for Duration {
    fn to_duration(&self) -> Result<Duration, TtlError> {
        Ok(*self)
    }
}

impl Ttl for str {
    fn to_duration(&self) -> Result<Duration, TtlError> {
        parse(self)
    }
}

impl Ttl for String {
    fn to_duration(&self) -> Result<Duration, TtlError> {
        parse(self)
    }
}

impl<T: Ttl + ?Sized> Ttl for &T {
    fn to_duration(&self) -> Result<Duration, TtlError> {
        (**self).to_duration()
    }
}

macro_rules! seconds {
    ($($ty:ty),*) => {$(
        impl Ttl for $ty {
            fn to_duration(&self) -> Result<Duration, TtlError> {
                seconds(*self as f64)
            }
        }
    )*};
}

seconds!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);

fn seconds(value: f64) -> Result<Duration, TtlError> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        TtlError::new(format!(
            "a ttl must be a finite number of seconds ≥ 0, not {value}"
        ))
    })
}

/// Seconds per unit, by every spelling accepted.
const UNITS: &[(&[&str], f64)] = &[
    (&["ns", "nanosecond", "nanoseconds"], 1e-9),
    (&["us", "µs", "microsecond", "microseconds"], 1e-6),
    (&["ms", "millisecond", "milliseconds", "millis"], 1e-3),
    (&["s", "sec", "secs", "second", "seconds"], 1.0),
    (&["m", "min", "mins", "minute", "minutes"], 60.0),
    (&["h", "hr", "hrs", "hour", "hours"], 3600.0),
    (&["d", "day", "days"], 86400.0),
    (&["w", "week", "weeks"], 604800.0),
];

/// Parses ttl text: a sum of `<number><unit>` parts (spaces allowed anywhere between them), or
/// a bare number of seconds.
pub fn parse(text: &str) -> Result<Duration, TtlError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(TtlError::new(
            "an empty ttl; write e.g. \"90s\", \"1h23m\" or \"1.5 days\"",
        ));
    }
    if let Ok(value) = trimmed.parse::<f64>() {
        return seconds(value);
    }
    let mut total = 0.0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        let value: f64 = number.parse().map_err(|_| bad(text, "expected a number"))?;
        rest = rest[number_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(bad(text, &format!("`{number}` has no unit")));
        }
        let scale = UNITS
            .iter()
            .find(|(names, _)| names.contains(&unit.to_lowercase().as_str()))
            .map(|(_, scale)| *scale)
            .ok_or_else(|| bad(text, &format!("unknown unit `{unit}`")))?;
        total += value * scale;
        rest = rest[unit_len..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
    }
    seconds(total)
}

fn bad(text: &str, why: &str) -> TtlError {
    TtlError::new(format!(
        "invalid ttl {text:?}: {why}; write a number of seconds or parts like \"90s\", \"1h23m\", \"1.5 days\", \"500ms\" (units: ms, s, m, h, d, w and their long names)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> f64 {
        parse(text).unwrap().as_secs_f64()
    }

    #[test]
    fn parses_the_usual_spellings() {
        assert_eq!(secs("90s"), 90.0);
        assert_eq!(secs("1h23m"), 3600.0 + 23.0 * 60.0);
        assert_eq!(secs("1.5 days"), 1.5 * 86400.0);
        assert_eq!(secs("2 hours"), 7200.0);
        assert_eq!(secs("500ms"), 0.5);
        assert_eq!(secs("1d 2h"), 86400.0 + 7200.0);
        assert_eq!(secs("1h, 30min"), 5400.0);
        assert_eq!(secs("  42 "), 42.0);
        assert_eq!(secs("0.25"), 0.25);
        assert_eq!(secs("1W"), 604800.0);
    }

    #[test]
    fn rejects_bad_text_clearly() {
        for text in ["", "soon", "10 parsecs", "h", "1.2.3s", "-5s", "-1", "5 5s"] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains("ttl"), "{text:?}: {error}");
        }
        assert!(parse("10 parsecs")
            .unwrap_err()
            .to_string()
            .contains("unknown unit `parsecs`"));
        assert!(parse("3").is_ok());
    }

    #[test]
    fn numbers_and_durations_convert() {
        assert_eq!(3600.to_duration().unwrap(), Duration::from_secs(3600));
        assert_eq!(1.5.to_duration().unwrap(), Duration::from_millis(1500));
        assert_eq!("1h".to_duration().unwrap(), Duration::from_secs(3600));
        assert_eq!(
            Duration::from_secs(5).to_duration().unwrap(),
            Duration::from_secs(5)
        );
        assert!((-1).to_duration().is_err());
        assert!(f64::NAN.to_duration().is_err());
    }
}
