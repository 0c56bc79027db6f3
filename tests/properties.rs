//! Property tests (the fuzz targets' stable-Rust form): the input decoder and line
//! editor, the command parser, the schedule time parser, the nickname rules and the log
//! encoder never panic, never let control characters through and stay within limits.
//! `scripts/fuzz.sh` runs them with many more cases for a bounded time.

use proptest::prelude::*;
use ssh_chatroom::chat::command::{parse_input, ClockTime};
use ssh_chatroom::chat::nickname::Nickname;
use ssh_chatroom::chat::text::{escape_for_log, is_forbidden, sanitize};
use ssh_chatroom::log::transcript_file_name;
use ssh_chatroom::term::editor::{EditorAction, LineEditor};
use unicode_width::UnicodeWidthStr;

/// Pieces a terminal (or an attacker) might send.
fn key_bytes() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        "[a-z ]{1,4}".prop_map(String::into_bytes),
        "[가-힣]{1,3}".prop_map(String::into_bytes),
        Just("e\u{301}".as_bytes().to_vec()),
        Just("😀".as_bytes().to_vec()),
        Just(b"\x1b[D".to_vec()),
        Just(b"\x1b[C".to_vec()),
        Just(b"\x1bOH".to_vec()),
        Just(b"\x1b[4~".to_vec()),
        Just(b"\x1b[3~".to_vec()),
        Just(b"\x1b[A".to_vec()),
        Just(b"\x1b[B".to_vec()),
        Just(b"\x7f".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\x01".to_vec()),
        Just(b"\x05".to_vec()),
        Just(b"\x0b".to_vec()),
        Just(b"\x15".to_vec()),
        Just(b"\x17".to_vec()),
        Just(b"\x03".to_vec()),
        Just(b"\x1b[200~pa\nste\x1b[201~".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..6),
    ];
    proptest::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

/// The visible text of a rendered row (between the leading `\r` and `ESC[K`) and the
/// cursor column.
fn row_and_cursor(render: &str) -> (String, usize) {
    let body = render.strip_prefix('\r').unwrap();
    let (visible, rest) = body.split_once("\x1b[K\r").unwrap();
    let col = rest
        .strip_prefix("\x1b[")
        .and_then(|r| r.strip_suffix('C'))
        .map_or(0, |n| n.parse().unwrap());
    (visible.to_string(), col)
}

proptest! {
    #[test]
    fn editor_state_does_not_depend_on_packet_splits(bytes in key_bytes(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let mut whole = LineEditor::new(64);
        let whole_actions = whole.feed(&bytes);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut split = LineEditor::new(64);
        let mut split_actions = Vec::new();
        let mut from = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            split_actions.extend(split.feed(&bytes[from..p]));
            from = p;
        }
        prop_assert_eq!(whole_actions, split_actions);
        prop_assert_eq!(whole.render("> ", 80), split.render("> ", 80));
    }

    #[test]
    fn rendered_row_fits_the_terminal(bytes in key_bytes(), width in 1usize..120) {
        let mut editor = LineEditor::new(200);
        let actions = editor.feed(&bytes);
        let (visible, col) = row_and_cursor(&editor.render("nick> ", width));
        prop_assert!(visible.width() < width.max(2), "{:?} in {}", visible, width);
        prop_assert!(col < width.max(2));
        prop_assert!(!visible.chars().any(is_forbidden));
        prop_assert!(editor.text().chars().count() <= 200);
        for action in actions {
            if let EditorAction::Submit(line) = action {
                prop_assert!(!line.chars().any(is_forbidden));
            }
        }
    }

    #[test]
    fn command_parser_never_panics_and_errors_are_one_clean_line(line in "\\PC{0,80}|/[a-z]{0,10} [ -~]{0,30}") {
        let clean = sanitize(&line);
        if let Err(e) = parse_input(&clean) {
            let text = e.to_string();
            prop_assert!(!text.contains('\n') && !text.chars().any(is_forbidden));
        }
    }

    #[test]
    fn schedule_times_are_valid_or_refused(s in "[0-9:a-z+-]{0,6}") {
        if let Some(t) = ClockTime::parse(&s) {
            prop_assert!(t.hour < 24 && t.minute < 60);
            prop_assert_eq!(t.to_string(), s);
        }
    }

    #[test]
    fn accepted_nicknames_are_short_clean_and_safe_file_names(raw in "\\PC{0,20}|[./\\\\a-z]{0,20}") {
        if let Ok(nick) = Nickname::parse(&raw) {
            let name = nick.as_str();
            prop_assert!((1..=16).contains(&name.chars().count()));
            prop_assert!(!name.chars().any(|c| is_forbidden(c) || c.is_whitespace() || c == '/'));
            prop_assert!(!name.starts_with('['));
        }
        let file = transcript_file_name(&raw);
        let path = std::path::Path::new(&file);
        prop_assert_eq!(path.components().count(), 1);
        prop_assert!(!file.starts_with('.') && !file.contains('/') && !file.contains('\0'));
    }

    #[test]
    fn log_encoding_is_one_line_without_controls(text in "\\PC{0,40}|[\\x00-\\x1f\\x7f\u{202e}]{0,10}") {
        let escaped = escape_for_log(&text);
        prop_assert!(!escaped.chars().any(is_forbidden));
        prop_assert!(!escaped.contains('\n'));
    }
}
