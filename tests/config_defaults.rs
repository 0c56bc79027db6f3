//! `Config::default()` is the embedded defaults alone, whatever `SSH_CHATROOM_*`
//! variables the process has. Alone in its file: it sets variables of its own process.

use ssh_chatroom::config::{load, Config};

#[test]
fn defaults_ignore_the_environment_and_loading_honours_it() {
    // Set before anything else in this process runs; no other test shares the process.
    std::env::set_var("SSH_CHATROOM_CAPACITY", "not a number");
    std::env::set_var("SSH_CHATROOM_HISTORY", "3");
    let defaults = Config::default();
    assert_eq!((defaults.capacity, defaults.history), (10, 20));
    let err = load(["ssh-chatroom"]).unwrap_err().to_string();
    assert!(err.contains("not a number"), "{err}");
    std::env::set_var("SSH_CHATROOM_CAPACITY", "4");
    let loaded = load(["ssh-chatroom"]).unwrap().config;
    assert_eq!((loaded.capacity, loaded.history), (4, 3));
}
