//! Which transcript files live participants write, so two people never share one: the
//! usual `<nickname>_chat_log.txt`, or `<nickname>~2_chat_log.txt` (a `~` no nickname
//! can contain) while someone else still writes the first.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The transcript names in use, shared by every room of the server.
#[derive(Clone, Default)]
pub struct TranscriptNames {
    /// Lower-cased, so `Alice` and `alice` never share a file where case is folded.
    in_use: Arc<Mutex<HashSet<String>>>,
}

impl TranscriptNames {
    /// A transcript name for a participant joining as `nickname`, free until released.
    pub fn claim(&self, nickname: &str) -> Arc<str> {
        let mut in_use = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        let mut name = nickname.to_string();
        let mut n = 1;
        while !in_use.insert(name.to_lowercase()) {
            n += 1;
            name = format!("{nickname}~{n}");
        }
        Arc::from(name)
    }

    /// `name` (from [`TranscriptNames::claim`]) is no longer written.
    pub fn release(&self, name: &str) {
        let mut in_use = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        in_use.remove(&name.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_in_use_gets_a_numbered_file_and_is_reused_once_free() {
        let names = TranscriptNames::default();
        let first = names.claim("Alice");
        assert_eq!(&*first, "Alice");
        assert_eq!(&*names.claim("alice"), "alice~2");
        assert_eq!(&*names.claim("Alice"), "Alice~3");
        names.release(&first);
        assert_eq!(&*names.claim("Alice"), "Alice");
    }
}
