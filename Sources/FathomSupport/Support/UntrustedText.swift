import FathomStore

/// The one definition of the characters in log text that must never reach a reader as they are:
/// every sink (Markdown, terminal, JSON, CSV, SVG) escapes exactly these, each in its own syntax.
public enum UntrustedText {
    /// Control characters (C0, DEL, C1); the soft hyphen, combining grapheme joiner, Arabic letter
    /// mark, Hangul fillers, Khmer vowel inherents and Mongolian vowel separators and selectors;
    /// zero-width characters, bidirectional marks, embeddings, overrides and isolates, line and
    /// paragraph separators, invisible operators and deprecated format characters
    /// (U+200B–U+200F, U+2028–U+202E, U+2060–U+206F); variation selectors; the byte-order mark;
    /// interlinear annotation and object replacement controls (U+FFF0–U+FFFB); and tag characters
    /// (U+E0000–U+E0FFF). They can move the cursor, recolour a terminal, reorder what is shown or
    /// hide text.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0xAD, 0x34F, 0x61C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180E: true
        case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0: true
        case 0xFFF0...0xFFFB, 0xE0000...0xE0FFF: true
        default: false
        }
    }
}
