//! Removing escape sequences from what a terminal would be sent: colour codes only (SPEC's
//! lines are byte-exact "colour codes aside"), or every CSI sequence.

/// Removes SGR sequences (`ESC [ digits;... m`, i.e. colours) and leaves every other
/// escape sequence, such as `ESC [ K`, in place.
pub fn strip_colours(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let seq = &rest[at + 2..];
        match seq.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if seq[end..].starts_with('m') => rest = &seq[end + 1..],
            _ => {
                out.push_str("\x1b[");
                rest = seq;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes every CSI sequence (`ESC [ params final`), e.g. colours and `ESC [ K`.
pub fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "\r\x1b[K\x1b[1;38;5;33malice\x1b[0m >> hi";

    #[test]
    fn colours_go_and_other_sequences_stay() {
        assert_eq!(strip_colours(LINE), "\r\x1b[Kalice >> hi");
        assert_eq!(strip_colours("cut \x1b[1;3"), "cut \x1b[1;3");
    }

    #[test]
    fn every_csi_sequence_goes() {
        assert_eq!(strip_escapes(LINE), "\ralice >> hi");
        assert_eq!(strip_escapes("a\x1b[7Cb"), "ab");
    }
}
