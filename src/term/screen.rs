//! A participant's screen: input decoding and output composition for both kinds of
//! session. With a pty the server edits the line and keeps it intact below incoming
//! lines; without one, input is split into lines and output is plain text.

use super::editor::{EditorAction, LineEditor};
use super::style::paint;
use crate::chat::line::ChatLine;

/// Splits piped input into lines (`\n`, optional `\r` before it), keeping at most
/// `max_bytes` of one line; the rest of an overlong line is dropped.
#[derive(Debug)]
struct LineSplitter {
    buf: Vec<u8>,
    max_bytes: usize,
}

impl LineSplitter {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<EditorAction>) {
        for &b in bytes {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.buf);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                out.push(EditorAction::Submit(
                    String::from_utf8_lossy(&line).into_owned(),
                ));
            } else if self.buf.len() < self.max_bytes {
                self.buf.push(b);
            }
        }
    }
}

#[derive(Debug)]
enum Input {
    Editor(LineEditor),
    Lines(LineSplitter),
}

/// Everything a session needs to turn bytes in into actions and room lines into bytes
/// out.
#[derive(Debug)]
pub struct Screen {
    input: Input,
    /// Colours and cursor escapes are allowed (a pty whose TERM is not `dumb`).
    escapes: bool,
    width: usize,
    prompt: String,
}

impl Screen {
    /// A pty screen `width` columns wide; escape codes (colours, cursor moves) only if
    /// `escapes` (false for `TERM=dumb`).
    pub fn pty(width: u32, escapes: bool, max_chars: usize) -> Screen {
        Screen {
            input: Input::Editor(LineEditor::new(max_chars)),
            escapes,
            width: clamp_width(width),
            prompt: String::new(),
        }
    }

    /// A plain line-mode screen (no pty).
    pub fn plain(max_chars: usize) -> Screen {
        Screen {
            input: Input::Lines(LineSplitter {
                buf: Vec::new(),
                max_bytes: max_chars.saturating_mul(4),
            }),
            escapes: false,
            width: 80,
            prompt: String::new(),
        }
    }

    /// Whether escape codes (colours, highlights) may be written.
    pub fn has_escapes(&self) -> bool {
        self.escapes
    }

    /// Whether the server draws an input line (pty) or not.
    pub fn is_pty(&self) -> bool {
        matches!(self.input, Input::Editor(_))
    }

    fn newline(&self) -> &'static str {
        if self.is_pty() {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Decodes input bytes into actions.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<EditorAction> {
        match &mut self.input {
            Input::Editor(editor) => editor.feed(bytes),
            Input::Lines(splitter) => {
                let mut out = Vec::new();
                splitter.feed(bytes, &mut out);
                out
            }
        }
    }

    /// Sets the prompt in front of the input line; returns the redraw.
    pub fn set_prompt(&mut self, prompt: &str) -> String {
        self.prompt = prompt.to_string();
        self.redraw()
    }

    /// A new terminal width; returns the redraw. When the terminal got narrower, most
    /// terminals have already reflowed the old, wider input row onto several rows, with
    /// the cursor on the last of them: those rows are cleared before the redraw so no
    /// fragment of the old row stays on screen.
    pub fn resize(&mut self, width: u32) -> String {
        let new_width = clamp_width(width);
        let mut out = String::new();
        if let Input::Editor(editor) = &self.input {
            if self.escapes && new_width < self.width {
                let up = editor.cursor_column(&self.prompt, self.width) / new_width;
                out.push('\r');
                if up > 0 {
                    out.push_str(&format!("\x1b[{up}A"));
                }
                out.push_str("\x1b[J");
            }
        }
        self.width = new_width;
        out.push_str(&self.redraw());
        out
    }

    /// The input row as it should look now (nothing without a pty, where the prompt is
    /// printed once instead).
    pub fn redraw(&self) -> String {
        match &self.input {
            Input::Editor(editor) if self.escapes => editor.render(&self.prompt, self.width),
            Input::Editor(editor) => editor.render_plain(&self.prompt, self.width),
            Input::Lines(_) => String::new(),
        }
    }

    /// Completes the word before the cursor from `names`; returns the redraw.
    pub fn complete(&mut self, names: &[String]) -> String {
        if let Input::Editor(editor) = &mut self.input {
            editor.complete(names);
        }
        self.redraw()
    }

    /// Bytes to send when the session starts: turn on bracketed paste.
    pub fn start(&self) -> &'static str {
        if self.is_pty() && self.escapes {
            "\x1b[?2004h"
        } else {
            ""
        }
    }

    /// Bytes to send when the session ends: the input row cleared (so the shell's prompt
    /// does not land after ours) and the terminal as we found it.
    pub fn end(&self) -> String {
        let mut out = String::new();
        self.clear_row(&mut out);
        if self.is_pty() && self.escapes {
            out.push_str("\x1b[?2004l");
        }
        out
    }

    /// Bytes that blank the input row and put the cursor at its start (with a pty).
    fn clear_row(&self, out: &mut String) {
        if self.is_pty() && self.escapes {
            out.push_str("\r\x1b[K");
        } else if self.is_pty() {
            out.push('\r');
            out.extend(std::iter::repeat_n(' ', self.width - 1));
            out.push('\r');
        }
    }

    /// Bytes that print `lines` above the input row and redraw it intact.
    pub fn print<'a>(&self, lines: impl IntoIterator<Item = &'a ChatLine>) -> String {
        self.print_with(lines, |line, escapes, out| {
            paint(line, escapes, out);
            true
        })
    }

    /// [`Screen::print`], each line written by `show` (given whether escapes are
    /// allowed), which returns false when it wrote nothing (the line is not shown).
    pub fn print_with<T>(
        &self,
        lines: impl IntoIterator<Item = T>,
        mut show: impl FnMut(T, bool, &mut String) -> bool,
    ) -> String {
        // Room for a typical batch (one line and the prompt) without growing.
        let mut out = String::with_capacity(256);
        self.clear_row(&mut out);
        for line in lines {
            if show(line, self.escapes, &mut out) {
                out.push_str(self.newline());
            }
        }
        match &self.input {
            Input::Editor(editor) if self.escapes => {
                editor.render_into(&self.prompt, self.width, &mut out);
            }
            _ => out.push_str(&self.redraw()),
        }
        out
    }

    /// Bytes for a prompt question such as `Nickname: ` (printed inline without a pty).
    pub fn ask(&mut self, question: &str) -> String {
        if self.is_pty() {
            self.set_prompt(question)
        } else {
            question.to_string()
        }
    }

    /// Bytes that clear the screen and redraw the input row (Ctrl-L).
    pub fn clear_screen(&self) -> String {
        if self.escapes {
            format!("\x1b[H\x1b[2J{}", self.redraw())
        } else {
            self.redraw()
        }
    }
}

/// Width assumed when the client reports none (0 columns, as `ssh -tt` without a local
/// terminal does).
const DEFAULT_WIDTH: usize = 80;

/// Terminal widths the renderer accepts: an unknown or absurd report must not break it.
fn clamp_width(width: u32) -> usize {
    match width {
        0 => DEFAULT_WIDTH,
        w => (w as usize).clamp(10, 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pty_output_keeps_half_typed_input() {
        let mut s = Screen::pty(80, true, 4096);
        s.set_prompt("> ");
        s.feed("안녕하".as_bytes());
        let out = s.print([&ChatLine::server("hi")]);
        assert_eq!(
            out,
            "\r\x1b[K\x1b[33m[Server]: hi\x1b[0m\r\n\r> 안녕하\x1b[K\r\x1b[8C"
        );
    }

    #[test]
    fn plain_mode_is_lines_without_escapes() {
        let mut s = Screen::plain(4096);
        let actions = s.feed(b"one\r\ntw");
        assert_eq!(actions, vec![EditorAction::Submit("one".into())]);
        assert_eq!(s.feed(b"o\n"), vec![EditorAction::Submit("two".into())]);
        let out = s.print([&ChatLine::server("x")]);
        assert_eq!(out, "[Server]: x\n");
    }

    #[test]
    fn the_end_clears_the_input_row_so_the_shells_prompt_starts_clean() {
        let mut s = Screen::pty(20, true, 100);
        s.set_prompt("Bobby> ");
        s.feed(b"half typed");
        assert_eq!(s.end(), "\r\x1b[K\x1b[?2004l");
        let mut dumb = Screen::pty(10, false, 100);
        dumb.set_prompt("> ");
        assert_eq!(dumb.end(), "\r         \r");
        assert_eq!(Screen::plain(100).end(), "");
    }

    #[test]
    fn dumb_terminal_gets_no_escape_codes() {
        let mut s = Screen::pty(20, false, 100);
        s.set_prompt("> ");
        s.feed(b"abc\x7f");
        let out = s.print([&ChatLine::chat("bob", "hi")]);
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(out.contains("bob >> hi\r\n"));
        assert!(out.ends_with("\r> ab"));
        assert_eq!(s.start(), "");
    }

    #[test]
    fn shrinking_clears_the_rows_a_reflowing_terminal_wrapped_the_input_onto() {
        let mut s = Screen::pty(80, true, 200);
        s.set_prompt("bob> ");
        s.feed(&[b'x'; 70]);
        // cursor at column 75; at 40 columns a reflowing terminal shows it one row down
        let out = s.resize(40);
        assert!(out.starts_with("\r\x1b[1A\x1b[J\rbob> "), "{out:?}");
        // growing needs no clearing
        assert!(s.resize(100).starts_with("\rbob> "));
    }

    #[test]
    fn tab_completes_through_the_screen() {
        let mut s = Screen::pty(80, true, 100);
        s.feed(b"hi al");
        let out = s.complete(&["alice".to_string()]);
        assert!(out.contains("hi alice "), "{out:?}");
    }

    #[test]
    fn plain_mode_bounds_a_line() {
        let mut s = Screen::plain(2);
        let actions = s.feed(&[b'a'; 100]);
        assert!(actions.is_empty());
        assert_eq!(s.feed(b"\n"), vec![EditorAction::Submit("aaaaaaaa".into())]);
    }

    #[test]
    fn unknown_or_tiny_widths_still_render() {
        let mut s = Screen::pty(0, true, 100);
        s.set_prompt("Nickname: ");
        s.feed("안녕하세요".as_bytes());
        assert!(s.redraw().contains("Nickname: 안녕하세요"));
        assert!(s.resize(1).contains("요"));
        assert!(s.resize(65535).contains("Nickname: 안녕하세요"));
    }
}
