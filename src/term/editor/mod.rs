//! The line editor of a pty session: keys in, [`EditorAction`]s out, and a one-row
//! rendering of prompt and input that fits any terminal width.

use unicode_segmentation::UnicodeSegmentation;

mod render;

use super::keys::{Key, KeyDecoder};
use crate::chat::text::is_forbidden;

/// Entries kept in the Up/Down history.
const HISTORY: usize = 100;

/// What the session must do after feeding input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorAction {
    /// Enter was pressed: the finished line (the buffer is now empty).
    Submit(String),
    /// Ctrl-D on an empty line: leave.
    Eof,
    /// Ctrl-L: clear the screen and redraw.
    ClearScreen,
    /// Tab: the session should call [`LineEditor::complete`] with the nicknames.
    Complete,
}

/// An editable line with a cursor, history and a bounded buffer.
#[derive(Debug)]
pub struct LineEditor {
    decoder: KeyDecoder,
    text: String,
    /// Byte offset of the cursor in `text`, always on a grapheme boundary.
    cursor: usize,
    /// `text.chars().count()`, kept so typing stays O(1) per key on long lines.
    chars: usize,
    max_chars: usize,
    history: Vec<String>,
    /// Position while browsing history (`history.len()` = the line being typed).
    history_pos: usize,
    stash: String,
    keys: Vec<Key>,
}

impl LineEditor {
    /// An empty editor holding at most `max_chars` characters.
    pub fn new(max_chars: usize) -> Self {
        LineEditor {
            decoder: KeyDecoder::new(max_chars.saturating_mul(4)),
            text: String::new(),
            cursor: 0,
            chars: 0,
            max_chars,
            history: Vec::new(),
            history_pos: 0,
            stash: String::new(),
            keys: Vec::new(),
        }
    }

    /// The current input.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Feeds raw terminal bytes; returns what the session has to act on, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<EditorAction> {
        let mut keys = std::mem::take(&mut self.keys);
        self.decoder.feed(bytes, &mut keys);
        let mut actions = Vec::new();
        for key in keys.drain(..) {
            self.apply(key, &mut actions);
        }
        self.keys = keys;
        actions
    }

    fn apply(&mut self, key: Key, actions: &mut Vec<EditorAction>) {
        if let Key::Char(c) = key {
            return self.insert(c);
        }
        self.apply_other(key, actions);
        self.chars = self.text.chars().count();
    }

    /// Every key but a plain character (those are the hot path, in `insert`).
    fn apply_other(&mut self, key: Key, actions: &mut Vec<EditorAction>) {
        match key {
            Key::Char(c) => self.insert(c),
            Key::Paste(text) => {
                // Terminals send pasted line ends as LF, CR (tmux) or CR LF.
                let text = text.replace("\r\n", "\n").replace('\r', "\n");
                let mut lines = text.split('\n').peekable();
                while let Some(line) = lines.next() {
                    line.chars().for_each(|c| self.insert(c));
                    if lines.peek().is_some() {
                        actions.push(self.submit());
                    }
                }
            }
            Key::Enter => actions.push(self.submit()),
            Key::Backspace | Key::Ctrl('h') => {
                if let Some(start) = self.prev_boundary() {
                    self.text.drain(start..self.cursor);
                    self.cursor = start;
                }
            }
            Key::Delete => self.delete_forward(),
            Key::Ctrl('d') if self.text.is_empty() => actions.push(EditorAction::Eof),
            Key::Ctrl('d') => self.delete_forward(),
            Key::Left | Key::Ctrl('b') => self.cursor = self.prev_boundary().unwrap_or(0),
            Key::Right | Key::Ctrl('f') => self.cursor = self.next_boundary(),
            Key::Home | Key::Ctrl('a') => self.cursor = 0,
            Key::End | Key::Ctrl('e') => self.cursor = self.text.len(),
            Key::Ctrl('c') => self.set_text(String::new()),
            Key::Ctrl('u') => {
                self.text.drain(..self.cursor);
                self.cursor = 0;
            }
            Key::Ctrl('k') => self.text.truncate(self.cursor),
            Key::Ctrl('w') => self.delete_word_back(),
            Key::Ctrl('l') => actions.push(EditorAction::ClearScreen),
            Key::Up | Key::Ctrl('p') => self.history_step(-1),
            Key::Down | Key::Ctrl('n') => self.history_step(1),
            Key::Tab => actions.push(EditorAction::Complete),
            Key::Ctrl(_) => {}
        }
    }

    /// Completes the word before the cursor from `names` (and command names).
    pub fn complete(&mut self, names: &[String]) {
        if let Some((text, cursor)) = super::complete::complete(&self.text, self.cursor, names) {
            let chars = text.chars().count();
            if chars <= self.max_chars {
                self.text = text;
                self.cursor = cursor;
                self.chars = chars;
            }
        }
    }

    fn insert(&mut self, c: char) {
        let c = if c == '\t' { ' ' } else { c };
        if is_forbidden(c) || self.chars >= self.max_chars {
            return;
        }
        let after_ascii = self.text[..self.cursor]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_ascii());
        self.chars += 1;
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        if !(c.is_ascii() && after_ascii) {
            // A combining mark joins the previous grapheme; keep the cursor on a boundary.
            self.cursor = self.next_boundary_from(self.prev_boundary().unwrap_or(0));
        }
    }

    fn submit(&mut self) -> EditorAction {
        let line = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.chars = 0;
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        self.history_pos = self.history.len();
        EditorAction::Submit(line)
    }

    fn set_text(&mut self, text: String) {
        self.text = text;
        self.cursor = self.text.len();
    }

    fn history_step(&mut self, delta: isize) {
        let target = self.history_pos as isize + delta;
        if target < 0 || target > self.history.len() as isize {
            return;
        }
        if self.history_pos == self.history.len() {
            self.stash = self.text.clone();
        }
        self.history_pos = target as usize;
        let text = match self.history.get(self.history_pos) {
            Some(entry) => entry.clone(),
            None => std::mem::take(&mut self.stash),
        };
        self.set_text(text);
    }

    fn delete_forward(&mut self) {
        let end = self.next_boundary();
        self.text.drain(self.cursor..end);
    }

    fn delete_word_back(&mut self) {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end_matches(' ');
        let start = trimmed.rfind(' ').map_or(0, |i| i + 1);
        self.text.drain(start..self.cursor);
        self.cursor = start;
    }

    fn prev_boundary(&self) -> Option<usize> {
        self.text[..self.cursor]
            .grapheme_indices(true)
            .next_back()
            .map(|(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.next_boundary_from(self.cursor)
    }

    fn next_boundary_from(&self, from: usize) -> usize {
        self.text[from..]
            .graphemes(true)
            .next()
            .map_or(self.text.len(), |g| from + g.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn typed(bytes: &[u8]) -> (LineEditor, Vec<EditorAction>) {
        let mut e = LineEditor::new(4096);
        let actions = e.feed(bytes);
        (e, actions)
    }

    #[test]
    fn typing_and_submitting() {
        let (e, actions) = typed("hi 안녕\r".as_bytes());
        assert_eq!(actions, vec![EditorAction::Submit("hi 안녕".into())]);
        assert_eq!(e.text(), "");
    }

    #[test]
    fn backspace_removes_a_whole_grapheme() {
        let (e, _) = typed("가e\u{301}\x7f".as_bytes());
        assert_eq!(e.text(), "가");
        let (e, _) = typed("가나\x7f".as_bytes());
        assert_eq!(e.text(), "가");
    }

    #[test]
    fn insert_in_the_middle_and_line_keys() {
        let (e, _) = typed(b"ac\x1b[Db");
        assert_eq!(e.text(), "abc");
        let (e, _) = typed(b"world\x01hello \x05!");
        assert_eq!(e.text(), "hello world!");
        let (e, _) = typed(b"one two\x17");
        assert_eq!(e.text(), "one ");
        let (e, _) = typed(b"abc\x1b[D\x1b[D\x0b");
        assert_eq!(e.text(), "a");
        let (e, _) = typed(b"abc\x1b[D\x15");
        assert_eq!(e.text(), "c");
        let (e, _) = typed(b"abc\x1b[H\x1b[3~");
        assert_eq!(e.text(), "bc");
    }

    #[test]
    fn ctrl_c_clears_and_ctrl_d_leaves_only_when_empty() {
        let (e, actions) = typed(b"abc\x03");
        assert_eq!((e.text(), actions), ("", vec![]));
        let (_, actions) = typed(b"\x04");
        assert_eq!(actions, vec![EditorAction::Eof]);
        let (e, actions) = typed(b"ab\x01\x04");
        assert_eq!((e.text(), actions), ("b", vec![]));
    }

    #[test]
    fn history_up_and_down() {
        let (mut e, _) = typed(b"first\rsecond\rdraft");
        e.feed(b"\x1b[A");
        assert_eq!(e.text(), "second");
        e.feed(b"\x1b[A\x1b[A");
        assert_eq!(e.text(), "first");
        e.feed(b"\x1b[B\x1b[B");
        assert_eq!(e.text(), "draft");
    }

    #[test]
    fn buffer_is_bounded_and_controls_are_never_inserted() {
        let mut e = LineEditor::new(5);
        e.feed(b"abcdefgh");
        assert_eq!(e.text(), "abcde");
        let (e, _) = typed("a\u{202E}\u{200B}b".as_bytes());
        assert_eq!(e.text(), "ab");
    }

    #[test]
    fn paste_submits_each_line() {
        let (e, actions) = typed(b"\x1b[200~one\r\ntwo\rthr\x1b[201~ee");
        assert_eq!(
            actions,
            vec![
                EditorAction::Submit("one".into()),
                EditorAction::Submit("two".into())
            ]
        );
        assert_eq!(e.text(), "three");
    }

    #[test]
    fn render_places_cursor_by_columns() {
        let (e, _) = typed("한글ab\x1b[D".as_bytes());
        // prompt "> " (2) + 한글 (4) + a (1) = column 7
        assert_eq!(e.render("> ", 80), "\r> 한글ab\x1b[K\r\x1b[7C");
    }

    #[test]
    fn render_scrolls_long_input_within_the_row() {
        let (e, _) = typed("가".repeat(50).as_bytes());
        let out = e.render("> ", 20);
        let visible = out.trim_start_matches('\r').split("\x1b[K").next().unwrap();
        assert!(visible.width() <= 19, "{visible:?}");
        assert!(out.ends_with("C"));
    }
}
