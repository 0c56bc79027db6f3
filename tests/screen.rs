//! Screen tests: the real OpenSSH `ssh` running inside a real terminal emulator
//! (`tmux`), driven with `send-keys` and checked with `capture-pane` and the cursor
//! position — what a person actually sees, not the bytes the server sends.
//!
//! Needs `tmux` (Debian package `tmux`) and `ssh` (`openssh-client`).

mod common;
mod tmux;

use tmux::{alice_and_bob, input_row_fits, stray_input_rows, PROMPT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_typed_korean_input_stays_intact_while_three_messages_arrive() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    bob.type_text("안녕하세").await;
    // Four Hangul syllables are eight columns.
    bob.expect_input("bob> 안녕하세", PROMPT + 8).await;

    let messages = [
        "first of three",
        "둘째 메시지 — 한글도 있어요",
        "third, and the last one",
    ];
    for m in messages {
        alice.send_line(m).await;
    }
    let expected: Vec<String> = messages.iter().map(|m| format!("alice >> {m}")).collect();
    let snap = bob
        .wait_until("the three messages above the intact input row", |s| {
            expected.iter().all(|e| s.contains_row(e)) && s.input_is("bob> 안녕하세", PROMPT + 8)
        })
        .await;
    // The three lines are in order, right above the input row, which is the last thing
    // on the screen; nothing half-drawn is left anywhere.
    let shown = snap.non_blank();
    let n = shown.len();
    assert!(n >= 4, "{}", snap.show());
    assert_eq!(
        &shown[n - 4..],
        &[
            expected[0].as_str(),
            expected[1].as_str(),
            expected[2].as_str(),
            "bob> 안녕하세"
        ],
        "{}",
        snap.show()
    );
    assert_eq!(
        snap.rows.iter().filter(|r| r.contains("안녕")).count(),
        1,
        "the half-typed input appears once: {}",
        snap.show()
    );

    bob.press(&["Enter"]).await;
    alice.expect("bob >> 안녕하세\r\n").await;
    let snap = bob
        .wait_until("bob's own message and an empty input row", |s| {
            s.contains_row("bob >> 안녕하세") && s.input_is("bob>", PROMPT)
        })
        .await;
    assert!(
        !snap.rows.iter().any(|r| r.starts_with("bob> 안녕")),
        "the submitted input row is replaced by the room's echo: {}",
        snap.show()
    );
}

/// Bob keeps typing, one syllable at a time, while Alice's messages arrive at the same
/// moments: whatever the interleaving, every message ends up whole above the input row
/// and the input row holds everything typed, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_while_messages_arrive_never_breaks_a_line() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    let syllables = ["가", "나", "다", "라", "마", "바", "사", "아", "자", "차"];
    let mut typed = String::new();
    for (i, syllable) in syllables.iter().enumerate() {
        let message = format!("message {i} 메시지");
        tokio::join!(bob.type_text(syllable), alice.send_line(&message));
        typed.push_str(syllable);
    }
    let row = format!("bob> {typed}");
    let snap = bob
        .wait_until("ten messages and the whole input", |s| {
            (0..10).all(|i| s.contains_row(&format!("alice >> message {i} 메시지")))
                && s.input_is(&row, PROMPT + 20)
        })
        .await;
    let shown = snap.non_blank();
    let n = shown.len();
    let mut expected: Vec<String> = (0..10)
        .map(|i| format!("alice >> message {i} 메시지"))
        .collect();
    expected.push(row.clone());
    assert_eq!(&shown[n - 11..], &expected[..], "{}", snap.show());
    bob.press(&["Enter"]).await;
    alice.expect(&format!("bob >> {typed}\r\n")).await;
}

/// A message wider than the terminal wraps onto the next row, and the half-typed input
/// is still redrawn whole on its own row below it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_wider_than_the_terminal_leaves_the_input_row_intact() {
    let (_server, alice, bob) = alice_and_bob(80).await;
    bob.type_text("반쯤 쓴 글").await;
    bob.expect_input("bob> 반쯤 쓴 글", PROMPT + 10).await;
    // "alice >> " and 111 more columns: one full row of 80 and 40 on the next
    let text = format!("넓은 {}", "w".repeat(106));
    alice.send_line(&text).await;
    let line = format!("alice >> {text}");
    let snap = bob
        .wait_until("the wrapped message above the intact input row", |s| {
            s.input_is("bob> 반쯤 쓴 글", PROMPT + 10)
                && s.cursor.1 >= 2
                && format!("{}{}", s.rows[s.cursor.1 - 2], s.rows[s.cursor.1 - 1]) == line
        })
        .await;
    assert_eq!(
        snap.rows.iter().filter(|r| r.contains("반쯤")).count(),
        1,
        "{}",
        snap.show()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrows_home_end_and_control_keys_move_the_cursor_where_a_person_expects() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    bob.type_text("hello world").await;
    bob.expect_input("bob> hello world", 16).await;
    bob.press(&["Home"]).await;
    bob.expect_input("bob> hello world", PROMPT).await;
    bob.press(&["End"]).await;
    bob.expect_input("bob> hello world", 16).await;
    bob.press(&["Left", "Left", "Left", "Left", "Left"]).await;
    bob.expect_input("bob> hello world", 11).await;
    bob.type_text("X").await;
    bob.expect_input("bob> hello Xworld", 12).await;
    bob.press(&["Right"]).await;
    bob.expect_input("bob> hello Xworld", 13).await;

    // Emacs keys
    bob.press(&["C-a"]).await;
    bob.expect_input("bob> hello Xworld", PROMPT).await;
    bob.press(&["Right", "Right"]).await;
    bob.expect_input("bob> hello Xworld", 7).await;
    bob.press(&["C-e"]).await;
    bob.expect_input("bob> hello Xworld", 17).await;

    // Backspace deletes the character before the cursor, wherever the cursor is.
    bob.press(&["BSpace"]).await;
    bob.expect_input("bob> hello Xworl", 16).await;
    bob.press(&["Home"]).await;
    bob.press(&["Right"; 7]).await;
    bob.expect_input("bob> hello Xworl", 12).await;
    bob.press(&["BSpace"]).await;
    bob.expect_input("bob> hello worl", 11).await;
    // Delete removes the one under the cursor.
    bob.press(&["DC"]).await;
    bob.expect_input("bob> hello orl", 11).await;

    // Ctrl-W: the word before the cursor; Ctrl-K: to the end; Ctrl-U: to the start.
    bob.press(&["C-e", "C-w"]).await;
    bob.expect_input("bob> hello", 11).await;
    bob.type_text("one two three").await;
    bob.expect_input("bob> hello one two three", 24).await;
    bob.press(&["Left"; 6]).await;
    bob.expect_input("bob> hello one two three", 18).await;
    bob.press(&["C-k"]).await;
    bob.expect_input("bob> hello one two", 18).await;
    bob.press(&["Left"; 3]).await;
    bob.press(&["C-u"]).await;
    bob.expect_input("bob> two", PROMPT).await;

    // Cursor movement over Hangul goes one syllable (two columns) per key.
    bob.press(&["C-e"]).await;
    bob.type_text(" 한국어 ok").await;
    bob.expect_input("bob> two 한국어 ok", 18).await;
    bob.press(&["Left"; 4]).await;
    bob.expect_input("bob> two 한국어 ok", 13).await;
    bob.press(&["Left"]).await;
    bob.expect_input("bob> two 한국어 ok", 11).await;
    bob.type_text("!").await;
    bob.expect_input("bob> two 한!국어 ok", 12).await;

    // What is submitted is what was shown.
    bob.press(&["Enter"]).await;
    alice.expect("bob >> two 한!국어 ok\r\n").await;
    bob.wait_until("the echo and an empty input row", |s| {
        s.contains_row("bob >> two 한!국어 ok") && s.input_is("bob>", PROMPT)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resize_re_renders_the_input_row_to_the_new_width() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    // 100 characters that say where they are: "0000000001111111111222..."
    let input: String = (0..100)
        .map(|i| char::from(b'0' + (i / 10) as u8))
        .collect();
    bob.type_text(&input).await;
    let before = bob
        .wait_until("the end of the long input shown in 80 columns", |s| {
            input_row_fits(s, &input) && s.cursor_row().ends_with("9999999999")
        })
        .await;
    assert_eq!(before.width, 80);
    // The row scrolled horizontally: the prompt, then the tail of the input, and the
    // cursor right after the last character.
    assert_eq!(
        before.cursor.0,
        before.cursor_row().chars().count(),
        "{}",
        before.show()
    );

    bob.run(&["resize-window", "-t", "s", "-x", "40"]).await;
    let after = bob
        .wait_until("the input row redrawn for 40 columns", |s| {
            s.width == 40 && input_row_fits(s, &input) && s.cursor_row().ends_with("9999999999")
        })
        .await;
    assert_eq!(
        after.cursor.0,
        after.cursor_row().chars().count(),
        "{}",
        after.show()
    );
    // Back to wide: the row grows again and shows more of the input.
    bob.run(&["resize-window", "-t", "s", "-x", "100"]).await;
    let wide = bob
        .wait_until("the input row redrawn for 100 columns", |s| {
            s.width == 100 && input_row_fits(s, &input) && s.cursor_row().len() > 80
        })
        .await;
    assert_eq!(wide.cursor.0, wide.cursor_row().chars().count());

    // Editing still works after the resizes: Home scrolls back to the start.
    bob.press(&["Home"]).await;
    bob.wait_until("the start of the input after Home", |s| {
        s.cursor_row().starts_with("bob> 00000000001111111111")
            && s.cursor.0 == PROMPT
            && input_row_fits(s, &input)
    })
    .await;
    // The whole input is sent, not the part that was visible.
    bob.press(&["Enter"]).await;
    alice.expect(&format!("bob >> {input}\r\n")).await;
}

/// Most terminals today (tmux, VTE/GNOME Terminal, kitty, iTerm2, Windows Terminal)
/// reflow on a resize: an input row wider than the new width is wrapped onto two rows
/// before the server hears of the resize. The redraw must not leave the first of them
/// behind as a stray piece of old input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrinking_the_window_leaves_no_fragment_of_the_old_input_row() {
    let (_server, alice, bob) = alice_and_bob(80).await;
    let input: String = (0..100)
        .map(|i| char::from(b'0' + (i / 10) as u8))
        .collect();
    bob.type_text(&input).await;
    let before = bob
        .wait_until("the end of the long input shown in 80 columns", |s| {
            input_row_fits(s, &input) && s.cursor_row().ends_with("9999999999")
        })
        .await;
    assert!(stray_input_rows(&before).is_empty(), "{}", before.show());

    bob.run(&["resize-window", "-t", "s", "-x", "40"]).await;
    bob.wait_until("the input row redrawn for 40 columns", |s| {
        s.width == 40 && input_row_fits(s, &input) && s.cursor_row().ends_with("9999999999")
    })
    .await;
    // One more key and its echo: every redraw sent before it has landed by then.
    bob.type_text("Z").await;
    let input = format!("{input}Z");
    let after = bob
        .wait_until("the echo of one more key at 40 columns", |s| {
            s.width == 40 && input_row_fits(s, &input) && s.cursor_row().ends_with("9999Z")
        })
        .await;
    assert!(
        stray_input_rows(&after).is_empty(),
        "a piece of the old input row is left on the screen: {:?}\nbefore the resize {}\nafter it {}",
        stray_input_rows(&after),
        before.show(),
        after.show()
    );

    // A message arriving now is printed cleanly too.
    alice.send_line("after the resize").await;
    let snap = bob
        .wait_until("the message above the redrawn input row", |s| {
            s.contains_row("alice >> after the resize") && input_row_fits(s, &input)
        })
        .await;
    assert!(stray_input_rows(&snap).is_empty(), "{}", snap.show());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_and_down_walk_through_the_input_history() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    bob.type_text("first").await;
    bob.press(&["Enter"]).await;
    alice.expect("bob >> first\r\n").await;
    bob.type_text("second").await;
    bob.press(&["Enter"]).await;
    alice.expect("bob >> second\r\n").await;
    bob.wait_until("both messages echoed and an empty input row", |s| {
        s.contains_row("bob >> first")
            && s.contains_row("bob >> second")
            && s.input_is("bob>", PROMPT)
    })
    .await;

    bob.press(&["Up"]).await;
    bob.expect_input("bob> second", 11).await;
    bob.press(&["Up"]).await;
    bob.expect_input("bob> first", 10).await;
    bob.press(&["Down"]).await;
    bob.expect_input("bob> second", 11).await;
    bob.press(&["Down"]).await;
    bob.expect_input("bob>", PROMPT).await;

    // A recalled line can be edited and sent.
    bob.press(&["Up", "Up"]).await;
    bob.expect_input("bob> first", 10).await;
    bob.type_text(" again").await;
    bob.press(&["Enter"]).await;
    alice.expect("bob >> first again\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_completes_nicknames_and_command_names() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    bob.type_text("al").await;
    bob.expect_input("bob> al", 7).await;
    bob.press(&["Tab"]).await;
    bob.expect_input("bob> alice", 11).await;
    // (captured rows have trailing blanks trimmed: the cursor at 11 is the added space)
    bob.type_text("hi").await;
    bob.expect_input("bob> alice hi", 13).await;
    bob.press(&["C-u"]).await;
    bob.expect_input("bob>", PROMPT).await;

    bob.type_text("/wh").await;
    bob.press(&["Tab"]).await;
    bob.expect_input("bob> /whisper", 14).await;
    bob.type_text("al").await;
    bob.press(&["Tab"]).await;
    bob.expect_input("bob> /whisper alice", 20).await;
    bob.type_text("psst").await;
    bob.press(&["Enter"]).await;
    alice.expect("[Whisper from bob] psst").await;
    bob.wait_until("the whisper confirmation", |s| {
        s.contains_row("[Whisper to alice] psst") && s.input_is("bob>", PROMPT)
    })
    .await;
}

/// A multi-line paste (tmux sends it bracketed, since the server turned bracketed paste
/// on) becomes one message per line; the unfinished last line stays in the input row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bracketed_multi_line_paste_sends_one_message_per_line() {
    let (_server, mut alice, bob) = alice_and_bob(80).await;
    bob.run(&["set-buffer", "first line\nsecond line\nthird"])
        .await;
    bob.run(&["paste-buffer", "-p", "-t", "s"]).await;
    alice.expect("bob >> first line").await;
    alice.expect("bob >> second line").await;
    bob.wait_until("the unfinished last line in the input row", |s| {
        s.input_is("bob> third", 10)
    })
    .await;
}
