//! A line with the reader's name highlighted (SPEC §12): bold and reverse over each
//! place the line names them, in the line's own colours elsewhere. Only with escapes
//! (a pty whose TERM is not `dumb`); otherwise the line is shown as it is. The marked
//! text is the line's own, already cleaned: a name can bring no escape of its own.

use std::ops::Range;

use super::style::{colourise, nick_colour, RESET};
use crate::chat::line::{ChatLine, LineKind};

/// Bold and reverse video.
const MARK: &str = "\x1b[1;7m";

/// Appends `line` to `out` with the byte ranges `marks` of its text (in order, apart,
/// inside its body) highlighted; plain text when `colour` is off.
pub fn paint_marked(line: &ChatLine, colour: bool, marks: &[Range<usize>], out: &mut String) {
    let text = line.text.as_str();
    if !colour {
        out.push_str(text);
        return;
    }
    if marks.is_empty() {
        out.push_str(line.coloured(colourise));
        return;
    }
    let body = line.body_start();
    // The part before the body as the line's colours show it, and the body's own style.
    let style = match line.kind {
        LineKind::Chat { nick_len } => {
            let nick = &text[..nick_len.min(body)];
            let colour = nick_colour(nick);
            out.push_str(&format!("\x1b[1;38;5;{colour}m{nick}{RESET}"));
            out.push_str(&text[nick.len()..body]);
            ""
        }
        LineKind::Action { nick_len } => {
            let nick = &text[2.min(body)..(2 + nick_len).min(body)];
            let colour = nick_colour(nick);
            out.push_str(&format!("* \x1b[1;38;5;{colour}m{nick}{RESET} "));
            ""
        }
        LineKind::Server => "\x1b[33m",
        LineKind::Whisper => "\x1b[35m",
        LineKind::Scheduled => "\x1b[36m",
    };
    if !matches!(line.kind, LineKind::Chat { .. } | LineKind::Action { .. }) {
        out.push_str(style);
        out.push_str(&text[..body]);
    }
    let mut at = body;
    for mark in marks {
        if mark.start < at || mark.end > text.len() {
            continue;
        }
        out.push_str(&text[at..mark.start]);
        out.push_str(RESET);
        out.push_str(MARK);
        out.push_str(&text[mark.clone()]);
        out.push_str(RESET);
        out.push_str(style);
        at = mark.end;
    }
    out.push_str(&text[at..]);
    if !style.is_empty() {
        out.push_str(RESET);
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one place named, as a list
mod tests {
    use super::*;

    fn marked(line: &ChatLine, marks: &[Range<usize>]) -> String {
        let mut out = String::new();
        paint_marked(line, true, marks, &mut out);
        out
    }

    #[test]
    fn the_name_is_bold_and_reverse_in_the_lines_colours() {
        let line = ChatLine::chat("Alice", "hi bob!");
        let out = marked(&line, &[12..15]);
        let nick = format!("\x1b[1;38;5;{}mAlice\x1b[0m", nick_colour("Alice"));
        assert_eq!(out, format!("{nick} >> hi \x1b[0m\x1b[1;7mbob\x1b[0m!"));
        let whisper = ChatLine::whisper_from("Alice", "bob?");
        assert_eq!(
            marked(&whisper, &[21..24]),
            "\x1b[35m[Whisper from Alice] \x1b[0m\x1b[1;7mbob\x1b[0m\x1b[35m?\x1b[0m"
        );
        let action = ChatLine::action("Alice", "pokes bob");
        assert!(marked(&action, &[14..17]).ends_with("pokes \x1b[0m\x1b[1;7mbob\x1b[0m"));
    }

    #[test]
    fn without_colour_the_line_is_as_it_is() {
        let mut out = String::new();
        paint_marked(
            &ChatLine::chat("Alice", "hi bob"),
            false,
            &[12..15],
            &mut out,
        );
        assert_eq!(out, "Alice >> hi bob");
    }

    #[test]
    fn only_our_own_escapes_are_in_a_highlighted_line() {
        // A cleaned line cannot hold an escape, whatever the sender typed.
        let typed = crate::chat::text::sanitize("\x1b[31mbob\x1b]0;x\x07 bob");
        let line = ChatLine::chat("Mallory", &typed);
        let marks: Vec<_> = crate::chat::mention::mentions(&line.text, "bob").collect();
        let out = marked(&line, &marks);
        let ours = ["\x1b[0m", "\x1b[1;7m", "\x1b[1;38;5;"];
        let mut rest = out.as_str();
        while let Some(at) = rest.find('\x1b') {
            rest = &rest[at..];
            assert!(ours.iter().any(|e| rest.starts_with(e)), "{out:?}");
            rest = &rest[1..];
        }
        assert!(!out.contains('\x07'));
    }
}
