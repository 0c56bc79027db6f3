//! Decodes the bytes a terminal sends into keys, across any split into packets.
//!
//! Hand-written rather than built on `termina`: the state machine below is bounded in
//! memory and linear in time for any input (a 1 MiB paste is one pass), which is the
//! property a server facing the internet needs.

/// One key press (or a bracketed paste).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Backspace,
    Delete,
    Tab,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    /// Ctrl plus a letter, given in lowercase (`Ctrl('a')` is byte 0x01).
    Ctrl(char),
    /// The text of a bracketed paste (ESC[200~ ... ESC[201~).
    Paste(String),
}

/// Most parameter bytes kept for one CSI sequence; longer ones are skipped whole.
const MAX_CSI: usize = 16;
const PASTE_END: &[u8] = b"\x1b[201~";

#[derive(Debug, Default)]
enum State {
    #[default]
    Ground,
    Escape,
    Csi,
    Ss3,
    Paste,
}

/// Incremental decoder; keeps partial sequences between calls to [`KeyDecoder::feed`].
#[derive(Debug)]
pub struct KeyDecoder {
    state: State,
    /// CSI parameter bytes, or a partial UTF-8 character in `Ground`.
    pending: Vec<u8>,
    csi_overflow: bool,
    paste: Vec<u8>,
    max_paste: usize,
    after_cr: bool,
}

impl KeyDecoder {
    /// A decoder that keeps at most `max_paste` bytes of one bracketed paste.
    pub fn new(max_paste: usize) -> Self {
        KeyDecoder {
            state: State::Ground,
            pending: Vec::new(),
            csi_overflow: false,
            paste: Vec::new(),
            max_paste,
            after_cr: false,
        }
    }

    /// Decodes `bytes`, appending complete keys to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Key>) {
        for &b in bytes {
            match self.state {
                State::Ground => self.ground(b, out),
                State::Escape => self.escape(b),
                State::Csi => self.csi(b, out),
                State::Ss3 => {
                    self.state = State::Ground;
                    out.extend(cursor_key(b));
                }
                State::Paste => self.paste(b, out),
            }
        }
    }

    fn ground(&mut self, b: u8, out: &mut Vec<Key>) {
        let after_cr = std::mem::replace(&mut self.after_cr, false);
        if !self.pending.is_empty() || b >= 0x80 {
            return self.utf8(b, out);
        }
        match b {
            0x1b => self.state = State::Escape,
            b'\r' => {
                self.after_cr = true;
                out.push(Key::Enter);
            }
            b'\n' if after_cr => {}
            b'\n' => out.push(Key::Enter),
            0x7f | 0x08 => out.push(Key::Backspace),
            b'\t' => out.push(Key::Tab),
            0x01..=0x1a => out.push(Key::Ctrl((b'a' + b - 1) as char)),
            0x20..=0x7e => out.push(Key::Char(b as char)),
            _ => {}
        }
    }

    fn utf8(&mut self, b: u8, out: &mut Vec<Key>) {
        if b & 0xC0 != 0x80 {
            // A lead byte (or ASCII) ends whatever partial character came before.
            self.pending.clear();
            if b < 0x80 {
                return self.ground(b, out);
            }
            if !(0xC2..=0xF4).contains(&b) {
                return; // never valid as a lead byte
            }
        } else if self.pending.is_empty() {
            return; // stray continuation byte
        }
        self.pending.push(b);
        let need = match self.pending[0] {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        if self.pending.len() == need {
            if let Some(c) = std::str::from_utf8(&self.pending)
                .ok()
                .and_then(|s| s.chars().next())
            {
                out.push(Key::Char(c));
            }
            self.pending.clear();
        }
    }

    fn escape(&mut self, b: u8) {
        self.state = match b {
            b'[' => {
                self.pending.clear();
                self.csi_overflow = false;
                State::Csi
            }
            b'O' => State::Ss3,
            0x1b => State::Escape,
            _ => State::Ground, // Alt+key: ignored
        };
    }

    fn csi(&mut self, b: u8, out: &mut Vec<Key>) {
        if (0x20..=0x3f).contains(&b) {
            if self.pending.len() < MAX_CSI {
                self.pending.push(b);
            } else {
                self.csi_overflow = true;
            }
            return;
        }
        self.state = State::Ground;
        let params = std::mem::take(&mut self.pending);
        if self.csi_overflow || !(0x40..=0x7e).contains(&b) {
            return;
        }
        if b != b'~' {
            out.extend(cursor_key(b));
            return;
        }
        let first = params.split(|&p| p == b';').next().unwrap_or(&[]);
        match first {
            b"1" | b"7" => out.push(Key::Home),
            b"4" | b"8" => out.push(Key::End),
            b"3" => out.push(Key::Delete),
            b"200" => {
                self.paste.clear();
                self.state = State::Paste;
            }
            _ => {}
        }
    }

    fn paste(&mut self, b: u8, out: &mut Vec<Key>) {
        // Keep up to max_paste bytes plus room to recognise the end marker.
        if self.paste.len() < self.max_paste + PASTE_END.len() {
            self.paste.push(b);
        } else {
            let keep = self.paste.len() - PASTE_END.len() + 1;
            self.paste.drain(self.max_paste..keep);
            self.paste.push(b);
        }
        if self.paste.ends_with(PASTE_END) {
            self.paste.truncate(self.paste.len() - PASTE_END.len());
            self.paste.truncate(self.max_paste);
            let text = String::from_utf8_lossy(&self.paste).into_owned();
            self.paste.clear();
            self.state = State::Ground;
            out.push(Key::Paste(text));
        }
    }
}

/// The final byte of `ESC [ X` / `ESC O X` cursor keys.
fn cursor_key(b: u8) -> Option<Key> {
    Some(match b {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<Key> {
        let mut d = KeyDecoder::new(1024);
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out);
        }
        out
    }

    #[test]
    fn text_and_controls() {
        assert_eq!(
            decode(&[b"a\x7f\r\n\x01\x03\x04\t"]),
            vec![
                Key::Char('a'),
                Key::Backspace,
                Key::Enter,
                Key::Ctrl('a'),
                Key::Ctrl('c'),
                Key::Ctrl('d'),
                Key::Tab
            ]
        );
        assert_eq!(decode(&[b"\n\n"]), vec![Key::Enter, Key::Enter]);
    }

    #[test]
    fn utf8_split_across_packets() {
        let bytes = "한글".as_bytes();
        let keys = decode(&[&bytes[..1], &bytes[1..4], &bytes[4..]]);
        assert_eq!(keys, vec![Key::Char('한'), Key::Char('글')]);
        assert_eq!(decode(&[b"\xff\x80a\xe4\xb8"]), vec![Key::Char('a')]);
    }

    #[test]
    fn every_common_cursor_encoding() {
        let keys =
            decode(&[b"\x1b[A\x1bOB\x1b[C\x1b[D\x1b[H\x1bOF\x1b[1~\x1b[4~\x1b[7~\x1b[8~\x1b[3~"]);
        use Key::*;
        assert_eq!(
            keys,
            vec![Up, Down, Right, Left, Home, End, Home, End, Home, End, Delete]
        );
        assert_eq!(decode(&[b"\x1b[", b"1;5", b"C"]), vec![Key::Right]);
    }

    #[test]
    fn bracketed_paste_is_one_key_and_bounded() {
        assert_eq!(
            decode(&[b"\x1b[200~a\nb", b"\x1b[20", b"1~x"]),
            vec![Key::Paste("a\nb".into()), Key::Char('x')]
        );
        let mut d = KeyDecoder::new(4);
        let mut out = Vec::new();
        d.feed(b"\x1b[200~", &mut out);
        d.feed(&[b'z'; 100_000], &mut out);
        d.feed(b"\x1b[201~", &mut out);
        assert_eq!(out, vec![Key::Paste("zzzz".into())]);
    }

    #[test]
    fn overlong_csi_is_skipped() {
        let mut long = b"\x1b[".to_vec();
        long.extend([b'9'; 1000]);
        long.extend(b"Cq");
        assert_eq!(decode(&[&long]), vec![Key::Char('q')]);
    }
}
