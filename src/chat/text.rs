//! Cleaning user text so it can never act on a terminal, and escaping it for log files.

/// True for characters that must never reach a terminal from user text: C0/C1 controls,
/// DEL, bidi overrides/isolates/marks and zero-width or invisible formatting characters.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{2028}'..='\u{202E}' // line/paragraph separators, bidi embeddings/overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{061C}'              // Arabic letter mark
            | '\u{FEFF}'              // zero-width no-break space / BOM
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotations
        )
}

/// Removes every forbidden character (see [`is_forbidden`]); tabs become a space so
/// columns stay predictable.
pub fn sanitize(input: &str) -> String {
    input
        .chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if is_forbidden(c) => None,
            c => Some(c),
        })
        .collect()
}

/// Escapes text for a one-event-per-line log: backslash, newline, CR, tab and every other
/// forbidden character become visible escapes, so the result has no control characters.
pub fn escape_for_log(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_forbidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_drops_escapes_and_bidi() {
        assert_eq!(sanitize("a\x1b]52;c;AAAA\x07b"), "a]52;c;AAAAb");
        assert_eq!(sanitize("x\u{202E}y\u{200B}z"), "xyz");
        assert_eq!(sanitize("over\rwrite"), "overwrite");
        assert_eq!(sanitize("tab\there"), "tab here");
        assert_eq!(sanitize("안녕 😀"), "안녕 😀");
    }

    #[test]
    fn log_escape_keeps_one_line_and_is_reversible_enough() {
        let escaped = escape_for_log("a\nb\\c\x1b[2J\u{202E}");
        assert_eq!(escaped, "a\\nb\\\\c\\u{001b}[2J\\u{202e}");
        assert!(!escaped.chars().any(is_forbidden));
    }
}
