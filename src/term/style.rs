//! Colours for room lines: every nickname in a stable colour, server lines, whispers and
//! scheduled messages each in their own style. Plain text when colours are off.

use crate::chat::line::{ChatLine, LineKind};

/// 256-colour palette entries that read well on dark and light backgrounds.
const NICK_COLOURS: &[u8] = &[
    33, 39, 41, 69, 75, 105, 135, 141, 166, 170, 172, 178, 197, 202, 208, 214,
];

pub(super) const RESET: &str = "\x1b[0m";

/// Whether a terminal type gets colours (`dumb` and an empty type do not).
pub fn term_has_colour(term: &str) -> bool {
    !(term.is_empty() || term == "dumb")
}

/// The colour of a nickname: the same name has the same colour for everyone.
pub fn nick_colour(nick: &str) -> u8 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = nick.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    NICK_COLOURS[(hash % NICK_COLOURS.len() as u64) as usize]
}

/// Appends `line` to `out`, styled when `colour` is on. The line's text is already clean.
/// A broadcast line is coloured once and the result shared by all its recipients.
pub fn paint(line: &ChatLine, colour: bool, out: &mut String) {
    if colour {
        out.push_str(line.coloured(colourise));
    } else {
        out.push_str(&line.text);
    }
}

pub(super) fn colourise(line: &ChatLine) -> String {
    let style = match line.kind {
        LineKind::Chat { nick_len } => {
            let (nick, rest) = line.text.split_at(nick_len);
            return format!("\x1b[1;38;5;{}m{nick}{RESET}{rest}", nick_colour(nick));
        }
        LineKind::Action { nick_len } => {
            let (star, rest) = line.text.split_at(2.min(line.text.len()));
            let (nick, rest) = rest.split_at(nick_len.min(rest.len()));
            return format!(
                "{star}\x1b[1;38;5;{}m{nick}{RESET}{rest}",
                nick_colour(nick)
            );
        }
        LineKind::Server => "\x1b[33m",
        LineKind::Whisper => "\x1b[35m",
        LineKind::Scheduled => "\x1b[36m",
    };
    format!("{style}{}{RESET}", line.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_when_colour_is_off() {
        let mut out = String::new();
        paint(&ChatLine::chat("Alice", "hi"), false, &mut out);
        assert_eq!(out, "Alice >> hi");
    }

    #[test]
    fn nickname_colour_is_stable_and_text_kept() {
        assert_eq!(nick_colour("Alice"), nick_colour("Alice"));
        let mut out = String::new();
        paint(&ChatLine::chat("Alice", "hi"), true, &mut out);
        assert!(out.starts_with("\x1b[1;38;5;"));
        assert!(out.ends_with("Alice\x1b[0m >> hi"));
        assert!(!term_has_colour("dumb"));
        assert!(term_has_colour("xterm-256color"));
    }
}
