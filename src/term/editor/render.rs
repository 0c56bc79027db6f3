//! Drawing the input row: the prompt and as much of the input as fits one terminal row,
//! scrolled sideways so the cursor is always visible.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::LineEditor;

/// Where the parts of the input row go on a terminal of a given width.
struct RowLayout<'a> {
    /// The prompt, or nothing if the row is too narrow for it.
    prompt: &'a str,
    /// The part of the input that is shown.
    visible: &'a str,
    /// The cursor's column (0-based).
    cursor_col: usize,
}

impl LineEditor {
    fn layout<'a>(&'a self, prompt: &'a str, width: usize) -> RowLayout<'a> {
        // The last column is never written, so the terminal never wraps the row.
        let usable = width.saturating_sub(1).max(1);
        let prompt = if prompt.width() + 2 <= usable {
            prompt
        } else {
            ""
        };
        let room = usable - prompt.width();
        let graphemes: Vec<(usize, &str)> = self.text.grapheme_indices(true).collect();
        let cursor_idx = graphemes.partition_point(|(i, _)| *i < self.cursor);
        // Scroll: start as far left as possible while the cursor still fits.
        let mut start = 0;
        let mut cols: usize = graphemes[..cursor_idx].iter().map(|(_, g)| g.width()).sum();
        while cols >= room && start < cursor_idx {
            cols -= graphemes[start].1.width();
            start += 1;
        }
        let mut used = 0;
        let shown = graphemes[start..]
            .iter()
            .take_while(|(_, g)| {
                used += g.width();
                used <= room
            })
            .count();
        let byte = |idx: usize| graphemes.get(idx).map_or(self.text.len(), |(i, _)| *i);
        RowLayout {
            prompt,
            visible: &self.text[byte(start)..byte(start + shown)],
            cursor_col: prompt.width() + cols,
        }
    }

    /// Renders `prompt` and the input on the current row for a terminal `width` columns
    /// wide: returns to column 0, draws, clears the rest of the row and puts the cursor
    /// in place.
    pub fn render(&self, prompt: &str, width: usize) -> String {
        let mut out = String::new();
        self.render_into(prompt, width, &mut out);
        out
    }

    /// [`LineEditor::render`], appended to `out`.
    pub fn render_into(&self, prompt: &str, width: usize, out: &mut String) {
        use std::fmt::Write;
        let row = self.layout(prompt, width);
        let _ = write!(out, "\r{}{}\x1b[K\r", row.prompt, row.visible);
        if row.cursor_col > 0 {
            let _ = write!(out, "\x1b[{}C", row.cursor_col);
        }
    }

    /// The cursor's column as [`LineEditor::render`] places it.
    pub fn cursor_column(&self, prompt: &str, width: usize) -> usize {
        self.layout(prompt, width).cursor_col
    }

    /// Like [`LineEditor::render`] for terminals without cursor escapes (`TERM=dumb`):
    /// overwrites the row with spaces and leaves the cursor after the visible text.
    pub fn render_plain(&self, prompt: &str, width: usize) -> String {
        let usable = width.saturating_sub(1).max(1);
        let prompt = if prompt.width() + 2 <= usable {
            prompt
        } else {
            ""
        };
        let room = usable - prompt.width();
        let mut visible: Vec<&str> = Vec::new();
        let mut used = 0;
        for g in self.text.graphemes(true).rev() {
            if used + g.width() > room {
                break;
            }
            used += g.width();
            visible.push(g);
        }
        let visible: String = visible.into_iter().rev().collect();
        let pad = usable.saturating_sub(prompt.width() + used);
        format!("\r{prompt}{visible}{}\r{prompt}{visible}", " ".repeat(pad))
    }
}
