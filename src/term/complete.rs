//! Tab completion of the word before the cursor: command names at the start of the
//! line, nicknames anywhere. Pure: text and cursor in, text and cursor out.

/// The command names Tab completes.
pub const COMMANDS: &[&str] = &[
    "/help",
    "/kick",
    "/quit",
    "/rename",
    "/schedule",
    "/unschedule",
    "/user",
    "/whisper",
];

/// Completes the word that ends at byte offset `cursor` of `text`. One match becomes
/// the whole word plus a space; several extend the word to their longest common
/// prefix. Returns the new text and cursor, or `None` when nothing changes.
pub fn complete(text: &str, cursor: usize, names: &[String]) -> Option<(String, usize)> {
    let before = &text[..cursor];
    let start = before.rfind(' ').map_or(0, |i| i + 1);
    let word = &before[start..];
    if word.is_empty() {
        return None;
    }
    let lower = word.to_lowercase();
    let matches: Vec<&str> = if start == 0 && word.starts_with('/') {
        COMMANDS
            .iter()
            .copied()
            .filter(|c| c.starts_with(&lower))
            .collect()
    } else {
        names
            .iter()
            .map(String::as_str)
            .filter(|n| n.to_lowercase().starts_with(&lower))
            .collect()
    };
    let replacement = match matches.as_slice() {
        [] => return None,
        [only] => format!("{only} "),
        several => common_prefix(several),
    };
    if replacement.chars().count() <= word.chars().count() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..start]);
    out.push_str(&replacement);
    let new_cursor = out.len();
    out.push_str(&text[cursor..]);
    Some((out, new_cursor))
}

/// The longest prefix (compared ignoring case, spelled as in the first) all share.
fn common_prefix(words: &[&str]) -> String {
    let first = words[0];
    let mut len = first.chars().count();
    for w in &words[1..] {
        len = first
            .chars()
            .zip(w.chars())
            .take(len)
            .take_while(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
            .count();
    }
    first.chars().take(len).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["alice", "Albert", "bob", "개똥이"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn one_match_completes_with_a_space() {
        assert_eq!(complete("b", 1, &names()), Some(("bob ".into(), 4)));
        assert_eq!(
            complete("hi 개", 6, &names()),
            Some(("hi 개똥이 ".into(), 13))
        );
        assert_eq!(complete("/wh", 3, &names()), Some(("/whisper ".into(), 9)));
    }

    #[test]
    fn several_matches_extend_to_the_common_prefix() {
        assert_eq!(complete("a", 1, &names()), Some(("al".into(), 2)));
        assert_eq!(
            complete("/u", 2, &names()),
            None,
            "/user and /unschedule share only /u"
        );
        assert_eq!(complete("/s", 2, &names()), Some(("/schedule ".into(), 10)));
    }

    #[test]
    fn completes_mid_line_and_keeps_the_rest() {
        assert_eq!(
            complete("hi bo there", 5, &names()),
            Some(("hi bob  there".into(), 7))
        );
        assert_eq!(complete("", 0, &names()), None);
        assert_eq!(complete("zz", 2, &names()), None);
        // a command name only completes at the start of the line
        assert_eq!(complete("x /wh", 5, &names()), None);
    }
}
