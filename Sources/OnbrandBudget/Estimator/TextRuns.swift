/// Splits text into runs of one kind (a Latin word, a run of Han characters, digits, white
/// space …), the units the token estimator prices.
public enum TextRunKind: Int, Sendable, CaseIterable, Codable {
    case latinWord, cyrillicWord, greekWord, arabicWord, hebrewWord, devanagariWord, otherWord
    case han, kana, hangul, thai
    case digit, punctuation, symbol, emoji
    case space, newline, tab

    /// Word kinds are priced by length; the others per character.
    public var isWord: Bool { rawValue <= TextRunKind.otherWord.rawValue }
}

public struct TextRun: Sendable, Hashable {
    public var kind: TextRunKind
    /// UTF-8 byte range in the text.
    public var range: Range<Int>
    /// Unicode scalars in the run.
    public var length: Int
    /// Upper-case letters after the first (all-caps words cost more tokens).
    public var innerCapitals: Int
}

public enum TextRuns {
    /// The runs of `text`, in order, covering every byte.
    public static func split(_ text: String) -> [TextRun] {
        var runs: [TextRun] = []
        var offset = 0
        var current: TextRun?
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            defer { offset += width }
            let kind = classify(scalar, previous: current?.kind)
            if var run = current, run.kind == kind, kind != .digit, kind != .emoji || isJoiner(scalar) {
                run.range = run.range.lowerBound..<(offset + width)
                run.length += 1
                if kind.isWord, scalar.properties.isUppercase { run.innerCapitals += 1 }
                current = run
                continue
            }
            if let run = current { runs.append(run) }
            current = TextRun(kind: kind, range: offset..<(offset + width), length: 1, innerCapitals: 0)
        }
        if let run = current { runs.append(run) }
        return runs
    }

    private static func isJoiner(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0x200D || (0xFE00...0xFE0F).contains(scalar.value) || (0x1F3FB...0x1F3FF).contains(scalar.value)
    }

    static func classify(_ scalar: Unicode.Scalar, previous: TextRunKind?) -> TextRunKind {
        let value = scalar.value
        switch value {
        case 0x20: return .space
        case 0x0A, 0x0D: return .newline
        case 0x09: return .tab
        case 0x30...0x39: return .digit
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return .latinWord
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return .punctuation
        case 0x0300...0x036F:
            // Combining marks continue the word they follow.
            return previous.flatMap { $0.isWord ? $0 : nil } ?? .symbol
        case 0x0370...0x03FF: return .greekWord
        case 0x0400...0x052F: return .cyrillicWord
        case 0x0590...0x05FF: return .hebrewWord
        case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: return .arabicWord
        case 0x0900...0x097F: return .devanagariWord
        case 0x0E00...0x0E7F: return .thai
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return .kana
        case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: return .hangul
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FFFF: return .han
        case 0x3000...0x303F, 0xFF00...0xFF65: return .punctuation
        case 0x200D, 0xFE00...0xFE0F, 0x1F3FB...0x1F3FF:
            return previous == .emoji ? .emoji : .symbol
        default:
            if scalar.properties.isEmojiPresentation || (0x1F000...0x1FAFF).contains(value) || (0x2600...0x27BF).contains(value) {
                return .emoji
            }
            if scalar.properties.isAlphabetic { return .otherWord }
            if scalar.properties.isWhitespace { return .space }
            return .symbol
        }
    }
}
