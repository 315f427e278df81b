//! Binary messages as a classic hex dump, 16 bytes a line.

use ratatui::text::{Line, Span};

use super::Theme;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Bytes shown on one hex line.
pub const BYTES_PER_LINE: usize = 16;

/// Number of lines [`hex_lines`] makes for `len` bytes (none for none).
pub fn hex_line_count(len: usize) -> usize {
    len.div_ceil(BYTES_PER_LINE)
}

/// The whole hex dump of `raw`, addresses counted from `start_addr`.
pub fn hex_lines(
    raw: &[u8],
    start_addr: u64,
    theme: &Theme,
) -> Vec<Line<'static>> {
    (0..hex_line_count(raw.len()))
        .map(|index| hex_line(raw, index, start_addr, theme))
        .collect()
}

/// Line `index` of the hex dump of `raw`, so a view can format only the
/// rows it shows: `00000010  89 50 … 0a  00 … 52  |.PNG........IHDR|`.
/// A short last line is padded so its ASCII column lines up.
pub fn hex_line(
    raw: &[u8],
    index: usize,
    start_addr: u64,
    theme: &Theme,
) -> Line<'static> {
    let from = (index * BYTES_PER_LINE).min(raw.len());
    let chunk = &raw[from..(from + BYTES_PER_LINE).min(raw.len())];
    let addr = start_addr + from as u64;

    let mut hex = String::with_capacity(3 * BYTES_PER_LINE + 3);
    let mut ascii = String::with_capacity(BYTES_PER_LINE + 2);
    hex.push_str("  ");
    ascii.push('|');
    for slot in 0..BYTES_PER_LINE {
        if slot == BYTES_PER_LINE / 2 {
            hex.push(' ');
        }
        match chunk.get(slot) {
            Some(&byte) => {
                // A table, not `write!`: the formatting machinery per byte
                // was most of the cost of a dump.
                hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
                hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
                hex.push(' ');
                // Only printable ASCII: everything else could be a control.
                ascii.push(if byte.is_ascii_graphic() || byte == b' ' {
                    char::from(byte)
                } else {
                    '.'
                });
            }
            None => hex.push_str("   "),
        }
    }
    hex.push(' ');
    ascii.push('|');
    Line::from(vec![
        Span::styled(format!("{addr:08x}"), theme.hex_addr),
        Span::raw(hex),
        Span::styled(ascii, theme.hex_ascii),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn full_and_partial_lines() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(b"\x1b[2J");
        let lines = hex_lines(&png, 0, &Theme::default());
        assert_eq!(lines.len(), 2);
        assert_eq!(
            text(&lines[0]),
            "00000000  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52  \
             |.PNG........IHDR|"
        );
        assert_eq!(
            text(&lines[1]),
            "00000010  1b 5b 32 4a                                       \
             |.[2J|"
        );
        assert_eq!(text(&lines[0]).len(), text(&lines[1]).len() + 12);
    }

    #[test]
    fn addresses_start_where_asked() {
        let lines = hex_lines(&[0x41; 20], 0x1_0000_0000, &Theme::default());
        assert!(text(&lines[1]).starts_with("100000010  41 41 41 41  "));
    }

    #[test]
    fn counts() {
        assert_eq!(hex_line_count(0), 0);
        assert_eq!(hex_line_count(1), 1);
        assert_eq!(hex_line_count(16), 1);
        assert_eq!(hex_line_count(17), 2);
        assert!(hex_lines(&[], 0, &Theme::default()).is_empty());
    }

    #[test]
    fn high_bytes_are_dots() {
        let raw: Vec<u8> = (0x78..=0x87).collect();
        let line = text(&hex_line(&raw, 0, 0, &Theme::default()));
        assert!(line.ends_with("|xyz{|}~.........|"), "{line}");
    }
}
