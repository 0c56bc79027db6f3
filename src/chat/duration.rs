//! How long a mute or a ban lasts (SPEC §11): `30m`, `2h`, `7d` or `forever`, read from
//! the words after a command's target, and said back in words (`10 minutes`).

use std::fmt;
use std::time::Duration;

/// The longest duration that may be given in numbers; beyond it, `forever`.
pub const LONGEST_DAYS: u64 = 365;

/// A length of time a measure lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lasting {
    For(Duration),
    Forever,
}

/// A word that starts with a digit but is not a duration; `Display` is the text after
/// `[Server]: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDuration(pub String);

impl fmt::Display for BadDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid duration \"{}\". Use a number and m, h or d (30m, 2h, 7d), at most {LONGEST_DAYS}d, or forever.",
            self.0
        )
    }
}

impl Lasting {
    /// `word` as a duration: `None` if it is no duration and does not look like one
    /// (it starts the reason instead); an error if it starts with a digit or a sign but
    /// is not a valid one (`5x`, `-1m`, `99999d`, `0m`).
    pub fn parse(word: &str) -> Option<Result<Lasting, BadDuration>> {
        if word.eq_ignore_ascii_case("forever") {
            return Some(Ok(Lasting::Forever));
        }
        let looks_like_one = word
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+');
        if !looks_like_one {
            return None;
        }
        let bad = || Err(BadDuration(word.to_string()));
        let (number, unit) =
            word.split_at(word.len() - word.chars().last().map_or(0, char::len_utf8));
        let Ok(n) = number.parse::<u64>() else {
            return Some(bad());
        };
        if !number.bytes().all(|b| b.is_ascii_digit()) || n == 0 {
            return Some(bad());
        }
        let seconds = match unit {
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Some(bad()),
        };
        if n.saturating_mul(seconds) > LONGEST_DAYS * 86_400 {
            return Some(bad());
        }
        Some(Ok(Lasting::For(Duration::from_secs(n * seconds))))
    }

    /// Splits `rest` (the words after a target) into a duration, `default` when none is
    /// given, and the reason (the remaining words, possibly empty).
    ///
    /// # Errors
    /// The first word starts with a digit but is no valid duration.
    pub fn with_reason(rest: &str, default: Lasting) -> Result<(Lasting, String), BadDuration> {
        let rest = rest.trim();
        let (first, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        match Lasting::parse(first) {
            Some(parsed) => Ok((parsed?, after.trim().to_string())),
            None => Ok((default, rest.to_string())),
        }
    }
}

impl fmt::Display for Lasting {
    /// `10 minutes`, `1 hour`, `7 days`, `forever`: the largest whole unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Lasting::For(d) = self else {
            return write!(f, "forever");
        };
        let s = d.as_secs();
        let (n, unit) = if s % 86_400 == 0 {
            (s / 86_400, "day")
        } else if s % 3600 == 0 {
            (s / 3600, "hour")
        } else {
            (s.div_ceil(60), "minute")
        };
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{n} {unit}{plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lasting(word: &str) -> Lasting {
        Lasting::parse(word).expect("a duration").expect("valid")
    }

    #[test]
    fn minutes_hours_days_and_forever_are_read() {
        assert_eq!(lasting("30m"), Lasting::For(Duration::from_secs(1800)));
        assert_eq!(lasting("2h"), Lasting::For(Duration::from_secs(7200)));
        assert_eq!(lasting("7d"), Lasting::For(Duration::from_secs(7 * 86_400)));
        assert_eq!(
            lasting("365d"),
            Lasting::For(Duration::from_secs(365 * 86_400))
        );
        assert_eq!(lasting("forever"), Lasting::Forever);
    }

    #[test]
    fn what_starts_like_a_duration_but_is_not_one_is_an_error() {
        for word in [
            "5x",
            "-1m",
            "+1m",
            "99999d",
            "366d",
            "0m",
            "1.5h",
            "10",
            "9999999999999999999999m",
        ] {
            let error = Lasting::parse(word).expect("looks like one").unwrap_err();
            assert_eq!(error, BadDuration(word.to_string()));
            assert!(error
                .to_string()
                .starts_with(&format!("Invalid duration \"{word}\"")));
        }
    }

    #[test]
    fn another_word_starts_the_reason() {
        assert_eq!(Lasting::parse("spam"), None);
        let day = Lasting::For(Duration::from_secs(86_400));
        assert_eq!(
            Lasting::with_reason("spam and flooding", day),
            Ok((day, "spam and flooding".to_string()))
        );
        assert_eq!(
            Lasting::with_reason("2h  spam", day),
            Ok((Lasting::For(Duration::from_secs(7200)), "spam".to_string()))
        );
        assert_eq!(Lasting::with_reason("", day), Ok((day, String::new())));
        assert!(Lasting::with_reason("5x spam", day).is_err());
    }

    #[test]
    fn durations_are_said_in_the_largest_whole_unit() {
        let said = |s: u64| Lasting::For(Duration::from_secs(s)).to_string();
        assert_eq!(said(600), "10 minutes");
        assert_eq!(said(60), "1 minute");
        assert_eq!(said(3600), "1 hour");
        assert_eq!(said(5400), "90 minutes");
        assert_eq!(said(7 * 86_400), "7 days");
        assert_eq!(Lasting::Forever.to_string(), "forever");
    }
}
