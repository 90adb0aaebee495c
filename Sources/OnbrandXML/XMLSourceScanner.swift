internal import Foundation

/// A place in a source file: 1-based line and column (the column counts characters).
public struct SourcePosition: Sendable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Finds where start tags stand in the raw bytes of an XML file.
///
/// libxml2 keeps a line per node but no column, so columns come from a scan of the source: start
/// tags in document order are exactly the `<` that do not open an end tag, a comment, a CDATA
/// section, a processing instruction or a declaration (a raw `<` is illegal anywhere else).
/// The n-th element the reader reports is the n-th start tag found here.
public enum XMLSourceScanner {
    /// Calls `body(ordinal, position)` for every start tag, in document order (ordinal from 0).
    /// Stop early by returning `false`.
    public static func forEachStartTag(
        in bytes: UnsafeRawBufferPointer,
        _ body: (Int, SourcePosition) -> Bool
    ) {
        var line = 1
        var column = 0
        var ordinal = 0
        var index = 0
        let count = bytes.count

        @inline(__always) func advance(_ byte: UInt8) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        /// Skips to just past `terminator`, counting lines and columns on the way.
        func skip(past terminator: [UInt8]) {
            while index < count {
                if bytes[index] == terminator[0], index + terminator.count <= count {
                    var matches = true
                    for offset in 1..<terminator.count where bytes[index + offset] != terminator[offset] {
                        matches = false
                        break
                    }
                    if matches {
                        for _ in terminator { advance(bytes[index]); index += 1 }
                        return
                    }
                }
                advance(bytes[index])
                index += 1
            }
        }
        func hasPrefix(_ prefix: [UInt8]) -> Bool {
            guard index + prefix.count <= count else { return false }
            for offset in 0..<prefix.count where bytes[index + offset] != prefix[offset] { return false }
            return true
        }

        while index < count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "<"), index + 1 < count else {
                advance(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "!") {
                if hasPrefix(Array("<!--".utf8)) {
                    skip(past: Array("-->".utf8))
                } else if hasPrefix(Array("<![CDATA[".utf8)) {
                    skip(past: Array("]]>".utf8))
                } else {
                    skip(past: Array(">".utf8))
                }
            } else if next == UInt8(ascii: "?") {
                skip(past: Array("?>".utf8))
            } else if next == UInt8(ascii: "/") {
                advance(byte)
                index += 1
            } else {
                advance(byte)
                if !body(ordinal, SourcePosition(line: line, column: column)) { return }
                ordinal += 1
                index += 1
            }
        }
    }

    /// The positions of every start tag in `bytes`, in document order.
    public static func startTagPositions(in bytes: UnsafeRawBufferPointer) -> [SourcePosition] {
        var positions: [SourcePosition] = []
        forEachStartTag(in: bytes) { _, position in
            positions.append(position)
            return true
        }
        return positions
    }

    /// The positions of the start tags with these ordinals in a file, found in one pass that stops
    /// at the last one asked for. The file is memory-mapped, so a large feed costs no heap.
    public static func startTagPositions(ordinals: Set<Int>, inFile path: String) -> [Int: SourcePosition] {
        guard let last = ordinals.max(),
            let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        else { return [:] }
        var found: [Int: SourcePosition] = [:]
        data.withUnsafeBytes { bytes in
            forEachStartTag(in: bytes) { ordinal, position in
                if ordinals.contains(ordinal) { found[ordinal] = position }
                return ordinal < last
            }
        }
        return found
    }

    /// The position of the first occurrence of `needle` (ASCII) in `bytes`.
    public static func position(ofFirst needle: String, in bytes: UnsafeRawBufferPointer) -> SourcePosition? {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return nil }
        var line = 1
        var column = 1
        for start in 0...(bytes.count - pattern.count) {
            var matches = true
            for offset in 0..<pattern.count where bytes[start + offset] != pattern[offset] {
                matches = false
                break
            }
            if matches { return SourcePosition(line: line, column: column) }
            let byte = bytes[start]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return nil
    }
}
