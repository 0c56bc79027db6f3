//! Splitting a pty byte stream into the lines a person would see, as the server's
//! output arrives packet by packet.

/// Splits a pty byte stream into lines and hands out what each line shows: the text
/// after the line's last `\r` (the server prints `\r\x1b[K` before a line, and the
/// prompt redraws that precede it on the same row end up before that `\r`). Colour
/// codes stay in; [`crate::strip_escapes`] removes them where needed.
#[derive(Default)]
pub struct LineBuf {
    buf: Vec<u8>,
}

impl LineBuf {
    /// Appends `data` and calls `each` with every line it completes.
    pub fn push(&mut self, data: &[u8], mut each: impl FnMut(&str)) {
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(nl) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let line = &self.buf[start..start + nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let visible = match line.iter().rposition(|&b| b == b'\r') {
                Some(cr) => &line[cr + 1..],
                None => line,
            };
            each(&String::from_utf8_lossy(visible));
            start += nl + 1;
        }
        self.buf.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strip_escapes;

    #[test]
    fn lines_are_split_and_prompt_redraws_dropped() {
        let mut buf = LineBuf::default();
        let mut seen = Vec::new();
        buf.push(b"\r\x1b[K\x1b[1;38;5;33mal", |l| seen.push(l.to_string()));
        assert!(seen.is_empty());
        buf.push(
            b"ice\x1b[0m >> hi\r\nbob >> yo\r\n\ralice> \x1b[K\r\x1b[7C\r\x1b[Kx\r\n",
            |l| seen.push(strip_escapes(l)),
        );
        assert_eq!(seen, ["alice >> hi", "bob >> yo", "x"]);
    }
}
