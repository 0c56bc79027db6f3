//! Whether a line names someone (SPEC §12): their nickname as a whole word, in any case,
//! `@` optional. Pure and allocation-free: it runs for every recipient of every line.
//!
//! A word is a run of letters, digits, `_` and `-`; the name must start at the start of
//! one, and end at its end or where a Korean particle (or two) ends it. Korean puts
//! particles straight after a name with no space (`개똥이야`, `개똥이한테는`), so a name
//! followed by [`PARTICLES`] and then the end of the word is still the name. Any other
//! letters after it make another word (`bobby` does not name `bob`, nor `개똥이네집`
//! `개똥이`).

use std::ops::Range;

/// Korean particles and endings that may follow a name inside one word: case markers,
/// topic and subject, vocatives, "and", "to", "from", "too", "only", titles, copulas.
pub const PARTICLES: &[&str] = &[
    "이",
    "가",
    "은",
    "는",
    "을",
    "를",
    "의",
    "에",
    "에게",
    "에게서",
    "한테",
    "한테서",
    "께",
    "께서",
    "와",
    "과",
    "랑",
    "이랑",
    "하고",
    "도",
    "만",
    "야",
    "아",
    "이야",
    "여",
    "이여",
    "님",
    "씨",
    "나",
    "이나",
    "로",
    "으로",
    "이로",
    "에서",
    "까지",
    "부터",
    "보다",
    "처럼",
    "요",
    "이요",
    "예요",
    "이에요",
    "네",
    "이네",
    "다",
    "이다",
    "지",
    "이지",
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Whether `text` from byte `at` is a word's end: nothing, a non-word character, or at
/// most two particles and then that.
fn ends_word(text: &str, at: usize, particles_left: u8) -> bool {
    let rest = &text[at..];
    match rest.chars().next() {
        None => return true,
        Some(c) if !is_word_char(c) => return true,
        Some(_) => {}
    }
    particles_left > 0
        && PARTICLES
            .iter()
            .any(|p| rest.starts_with(p) && ends_word(text, at + p.len(), particles_left - 1))
}

/// The byte length of `name` found at `text[at..]`, ignoring case, if it is there.
fn matches_at(text: &str, at: usize, name: &str) -> Option<usize> {
    let mut len = 0;
    let mut rest = text[at..].chars();
    for n in name.chars() {
        let t = rest.next()?;
        if t != n && !t.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
        len += t.len_utf8();
    }
    Some(len)
}

/// The places `text` names `name` as a word: the byte range of each (no `@`, no
/// particle). An empty name is never found.
pub fn mentions<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
    let mut previous: Option<char> = None;
    text.char_indices().filter_map(move |(at, c)| {
        let starts_word = previous.is_none_or(|p| !is_word_char(p));
        previous = Some(c);
        if !starts_word || name.is_empty() {
            return None;
        }
        let len = matches_at(text, at, name)?;
        ends_word(text, at + len, 2).then_some(at..at + len)
    })
}

/// Whether `text` names `name` as a word (no allocation: this runs per delivery).
pub fn is_mentioned(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let mut previous: Option<char> = None;
    text.char_indices().any(|(at, c)| {
        let starts_word = previous.is_none_or(|p| !is_word_char(p));
        previous = Some(c);
        starts_word && matches_at(text, at, name).is_some_and(|len| ends_word(text, at + len, 2))
    })
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one place named, as a list
mod tests {
    use super::*;

    fn named(text: &str, name: &str) -> bool {
        let found = is_mentioned(text, name);
        assert_eq!(found, mentions(text, name).next().is_some(), "{text:?}");
        found
    }

    #[test]
    fn a_name_is_a_whole_word_in_any_case_with_or_without_at() {
        assert!(named("hi bob", "Bob"));
        assert!(named("BOB: look", "bob"));
        assert!(named("@bob, look", "Bob"));
        assert!(named("bob's turn.", "bob"));
        assert!(named("bob", "bob"));
        assert!(!named("bobby is here", "bob"));
        assert!(!named("jimbob", "bob"));
        assert!(!named("bob_2 here", "bob"));
        assert!(!named("bob-2 here", "bob"));
        assert!(!named("anything", ""));
        assert!(named("Ärger mit ärger", "ÄRGER"));
    }

    #[test]
    fn a_korean_name_followed_by_particles_is_named() {
        assert!(named("개똥이야 밥 먹자", "개똥이"));
        assert!(named("개똥이한테는 비밀", "개똥이"));
        assert!(named("개똥이, 안녕", "개똥이"));
        assert!(named("@개똥이 안녕", "개똥이"));
        assert!(named("어제 개똥이를 봤어", "개똥이"));
        assert!(named("alice야 뭐해", "Alice"));
        // Other letters after it make another word.
        assert!(!named("개똥이네집에 가자", "개똥이"));
        assert!(!named("말똥이야", "똥이"));
        assert!(!named("개똥이요리", "개똥이"));
    }

    #[test]
    fn every_place_is_found_as_its_byte_range() {
        let text = "bob and @BOB and bobby";
        let found: Vec<_> = mentions(text, "bob").collect();
        assert_eq!(found, [0..3, 9..12]);
        let korean = "개똥이야";
        assert_eq!(mentions(korean, "개똥이").collect::<Vec<_>>(), [0..9]);
    }
}
