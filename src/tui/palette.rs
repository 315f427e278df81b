//! The explorer's colours as a value: the views draw with a base set of
//! ANSI colours, each standing for a role (`Cyan` is the accent, `Magenta`
//! an offset, ...), and the palette maps every role to the colour the
//! theme (`[theme] name`) and its overrides give, over the drawn frame,
//! as `NO_COLOR` removes them. So a theme reaches every pane without
//! each view knowing of themes.

use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::config::{Colour, THEME_ROLES, ThemeConfig, ThemeName};

/// The colour each role is drawn with before the palette applies, in the
/// order of [`THEME_ROLES`].
const BASE: [Color; 9] = [
    Color::Cyan,
    Color::DarkGray,
    Color::Red,
    Color::Yellow,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::LightRed,
    Color::White,
];

/// The light theme: darker colours from the 256-colour palette, readable
/// on a white background.
const LIGHT: [Color; 9] = [
    Color::Indexed(25),  // accent: a deep blue
    Color::Indexed(243), // dim: a mid grey
    Color::Indexed(124), // error: dark red
    Color::Indexed(130), // warning: brown-orange
    Color::Indexed(28),  // ok: dark green
    Color::Indexed(90),  // offset: dark magenta
    Color::Indexed(19),  // info: navy
    Color::Indexed(160), // alert: red
    Color::Black,        // text
];

/// What each role's colour becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Palette {
    colours: [Color; 9],
}

impl Default for Palette {
    /// The dark theme: the terminal's own colours, unchanged.
    fn default() -> Self {
        Palette { colours: BASE }
    }
}

fn colour(c: Colour) -> Color {
    match c {
        Colour::Ansi(i) => [
            Color::Black,
            Color::Red,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::Magenta,
            Color::Cyan,
            Color::Gray,
            Color::DarkGray,
            Color::LightRed,
            Color::LightGreen,
            Color::LightYellow,
            Color::LightBlue,
            Color::LightMagenta,
            Color::LightCyan,
            Color::White,
        ][usize::from(i % 16)],
        Colour::Indexed(i) => Color::Indexed(i),
        Colour::Rgb(r, g, b) => Color::Rgb(r, g, b),
        Colour::Default => Color::Reset,
    }
}

impl Palette {
    /// The palette of the config's `[theme]`.
    pub fn from_config(theme: &ThemeConfig) -> Palette {
        let mut colours = match theme.name {
            ThemeName::Dark => BASE,
            ThemeName::Light => LIGHT,
        };
        for (role, c) in theme.overrides() {
            if let Some(i) = THEME_ROLES.iter().position(|r| *r == role) {
                colours[i] = colour(c);
            }
        }
        Palette { colours }
    }

    /// What `role` (one of [`THEME_ROLES`]) is drawn with.
    pub fn of(&self, role: &str) -> Option<Color> {
        let i = THEME_ROLES.iter().position(|r| *r == role)?;
        Some(self.colours[i])
    }

    /// Recolours a drawn frame: each base colour becomes its role's.
    pub fn apply(&self, buffer: &mut Buffer) {
        if self.colours == BASE {
            return;
        }
        let map = |c: Color| {
            BASE.iter()
                .position(|b| *b == c)
                .map_or(c, |i| self.colours[i])
        };
        for cell in &mut buffer.content {
            cell.fg = map(cell.fg);
            cell.bg = map(cell.bg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn a_theme_and_its_overrides_recolour_every_cell() {
        let theme = ThemeConfig {
            name: ThemeName::Light,
            offset: Some("#aa00aa".into()),
            ..ThemeConfig::default()
        };
        let palette = Palette::from_config(&theme);
        let mut buffer = Buffer::empty(Rect::new(0, 0, 3, 1));
        buffer.set_string(0, 0, "a", Style::new().fg(Color::Cyan));
        buffer.set_string(1, 0, "b", Style::new().fg(Color::Magenta));
        buffer.set_string(2, 0, "c", Style::new().fg(Color::Indexed(7)));
        palette.apply(&mut buffer);
        assert_eq!(buffer.content[0].fg, Color::Indexed(25));
        assert_eq!(buffer.content[1].fg, Color::Rgb(0xaa, 0, 0xaa));
        // A colour that is no role's stays.
        assert_eq!(buffer.content[2].fg, Color::Indexed(7));
        // Dark is the terminal's colours, as drawn.
        let dark = Palette::default();
        assert_eq!(dark.of("accent"), Some(Color::Cyan));
        assert_eq!(Palette::from_config(&ThemeConfig::default()), dark);
    }
}
