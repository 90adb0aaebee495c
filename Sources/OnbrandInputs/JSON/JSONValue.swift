public import Foundation
public import OnbrandXML

/// A parsed JSON value that remembers where it stood in its file.
///
/// Foundation's parser says only "around character N" on a syntax error and nothing about where a
/// wrongly typed value is; brand, template and catalog diagnostics must name line and column, so
/// Onbrand parses JSON itself into this small tree. Objects keep their key order.
public struct JSONNode: Sendable, Hashable {
    public indirect enum Value: Sendable, Hashable {
        case null
        case bool(Bool)
        /// The number as written, so large integers (IDs, GTINs) survive untouched.
        case number(String)
        case string(String)
        case array([JSONNode])
        case object([(key: String, value: JSONNode)])

        public static func == (lhs: Value, rhs: Value) -> Bool {
            switch (lhs, rhs) {
            case (.null, .null): true
            case (.bool(let a), .bool(let b)): a == b
            case (.number(let a), .number(let b)): a == b
            case (.string(let a), .string(let b)): a == b
            case (.array(let a), .array(let b)): a == b
            case (.object(let a), .object(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
            default: false
            }
        }

        public func hash(into hasher: inout Hasher) {
            switch self {
            case .null: hasher.combine(0)
            case .bool(let value): hasher.combine(value)
            case .number(let value), .string(let value): hasher.combine(value)
            case .array(let values): hasher.combine(values)
            case .object(let members):
                for member in members {
                    hasher.combine(member.key)
                    hasher.combine(member.value)
                }
            }
        }
    }

    public var value: Value
    /// 1-based line and column of the value's first character.
    public var position: SourcePosition

    public init(_ value: Value, at position: SourcePosition) {
        self.value = value
        self.position = position
    }

    // MARK: - Reading values

    /// The member named `key` of an object.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.last { $0.key == key }?.value
    }

    public var objectMembers: [(key: String, value: JSONNode)]? {
        if case .object(let members) = value { members } else { nil }
    }

    public var arrayElements: [JSONNode]? {
        if case .array(let elements) = value { elements } else { nil }
    }

    public var stringValue: String? {
        if case .string(let string) = value { string } else { nil }
    }

    public var isNull: Bool { value == .null }

    /// A string, or a number or boolean written out as text (`"price": 19.99` → "19.99").
    public var scalarText: String? {
        switch value {
        case .string(let string): string
        case .number(let number): number
        case .bool(let bool): bool ? "true" : "false"
        default: nil
        }
    }

    public var doubleValue: Double? {
        if case .number(let number) = value { Double(number) } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let bool) = value { bool } else { nil }
    }

    /// What kind of value this is, for messages: "a string", "an array".
    public var kindDescription: String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A syntax error in JSON text, with its place.
public struct JSONSyntaxError: Error, Sendable, Hashable {
    public var message: String
    public var position: SourcePosition
    public var hint: String?
}

/// Parses JSON text (RFC 8259) into ``JSONNode`` values.
public enum JSONParser {
    /// Nesting deeper than this is refused rather than risking the stack on hostile input.
    public static let maximumDepth = 256

    /// Parses one JSON document; anything but white space after it is an error.
    ///
    /// - Parameter line: The line the text starts on in its file (JSON Lines), 1 by default.
    public static func parse(_ data: Data, startingAtLine line: Int = 1) throws(JSONSyntaxError) -> JSONNode {
        let result: Result<JSONNode, JSONSyntaxError> = data.withUnsafeBytes { bytes in
            var parser = Parser(bytes: bytes)
            parser.line = line
            do throws(JSONSyntaxError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ string: String) throws(JSONSyntaxError) -> JSONNode {
        try parse(Data(string.utf8))
    }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    var line = 1
    var lineStart = 0
    var depth = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        // A UTF-8 byte-order mark is tolerated.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
            lineStart = 3
        }
    }

    var position: SourcePosition { position(at: index) }

    func position(at offset: Int) -> SourcePosition {
        var column = 1
        var cursor = lineStart
        while cursor < offset && cursor < bytes.count {
            if bytes[cursor] & 0xC0 != 0x80 { column += 1 }
            cursor += 1
        }
        return SourcePosition(line: line, column: column)
    }

    func fail(_ message: String, hint: String? = nil) -> JSONSyntaxError {
        JSONSyntaxError(message: message, position: position, hint: hint)
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONNode {
        skipWhitespace()
        guard index < bytes.count else { throw fail("the JSON text is empty", hint: "put one JSON value in the file") }
        let node = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw fail(
                "unexpected text after the JSON value",
                hint: "remove it, or wrap several values in an array (or use .jsonl, one value a line)")
        }
        return node
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSONNode {
        let start = position
        guard index < bytes.count else {
            throw fail("the JSON text ends where a value was expected", hint: "the file may be truncated")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return JSONNode(try parseObject(), at: start)
        case UInt8(ascii: "["): return JSONNode(try parseArray(), at: start)
        case UInt8(ascii: "\""): return JSONNode(.string(try parseString()), at: start)
        case UInt8(ascii: "t"): try expectLiteral("true"); return JSONNode(.bool(true), at: start)
        case UInt8(ascii: "f"): try expectLiteral("false"); return JSONNode(.bool(false), at: start)
        case UInt8(ascii: "n"): try expectLiteral("null"); return JSONNode(.null, at: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return JSONNode(.number(try parseNumber()), at: start)
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","):
            throw fail(
                "expected a value, found '\(Character(UnicodeScalar(bytes[index])))'",
                hint: "remove the extra comma, or put a value here")
        default:
            throw fail(
                "expected a value (object, array, string, number, true, false or null)",
                hint: "strings need double quotes")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard index + expected.count <= bytes.count,
            expected.indices.allSatisfy({ bytes[index + $0] == expected[$0] })
        else { throw fail("expected `\(literal)`", hint: "strings need double quotes") }
        index += expected.count
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw fail("the JSON nests deeper than \(JSONParser.maximumDepth) levels", hint: "flatten the structure")
        }
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONNode.Value {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [(key: String, value: JSONNode)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail("the JSON text ends inside an object", hint: "close it with }") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw fail(
                    bytes[index] == UInt8(ascii: "}") ? "trailing comma before }" : "expected a member name in double quotes",
                    hint: bytes[index] == UInt8(ascii: "}") ? "remove the comma" : "write \"name\": value")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fail("expected ':' after the member name \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw fail("the JSON text ends inside an object", hint: "close it with }") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                throw fail("expected ',' or '}' after the value of \"\(key)\"", hint: "separate members with commas")
            }
        }
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONNode.Value {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                throw fail("trailing comma before ]", hint: "remove the comma")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("the JSON text ends inside an array", hint: "close it with ]") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw fail("expected ',' or ']' in the array", hint: "separate elements with commas")
            }
        }
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ parser: inout Parser) -> Int {
            var count = 0
            while parser.index < parser.bytes.count, (0x30...0x39).contains(parser.bytes[parser.index]) {
                parser.index += 1
                count += 1
            }
            return count
        }
        let integerStart = index
        guard digits(&self) > 0 else { throw fail("a number needs digits") }
        if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 {
            throw JSONSyntaxError(
                message: "numbers cannot have leading zeros", position: position(at: integerStart),
                hint: "write IDs and codes with leading zeros as strings")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw fail("a decimal point needs digits after it") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw fail("an exponent needs digits") }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ parser: Parser, upTo end: Int, into scalars: inout String.UnicodeScalarView) {
            if end > runStart {
                scalars.append(
                    contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: parser.bytes[runStart..<end]), as: UTF8.self)
                        .unicodeScalars)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                flush(self, upTo: index, into: &scalars)
                index += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush(self, upTo: index, into: &scalars)
                scalars.append(try parseEscape())
                runStart = index
            case 0x00..<0x20:
                throw fail(
                    byte == 0x0A ? "the string is not closed before the end of the line" : "control character inside a string",
                    hint: byte == 0x0A ? "close it with \", or write a line break as \\n" : "escape it, e.g. \\t or \\u0001")
            case 0x80...:
                let length = try validateUTF8Sequence()
                index += length
            default:
                index += 1
            }
        }
        throw fail("the JSON text ends inside a string", hint: "close the string with \"")
    }

    /// Checks one multi-byte UTF-8 sequence at `index` and returns its length.
    func validateUTF8Sequence() throws(JSONSyntaxError) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: throw fail("invalid UTF-8 byte 0x\(String(lead, radix: 16, uppercase: true))", hint: "save the file as UTF-8")
        }
        guard index + length <= bytes.count else { throw fail("truncated UTF-8 sequence", hint: "save the file as UTF-8") }
        for offset in 1..<length where bytes[index + offset] & 0xC0 != 0x80 {
            throw fail("invalid UTF-8 sequence", hint: "save the file as UTF-8")
        }
        // Overlong forms and surrogates.
        let second = bytes[index + 1]
        if (lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) || (lead == 0xF0 && second < 0x90)
            || (lead == 0xF4 && second > 0x8F)
        {
            throw fail("invalid UTF-8 sequence", hint: "save the file as UTF-8")
        }
        return length
    }

    mutating func parseEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        index += 1
        guard index < bytes.count else { throw fail("the JSON text ends inside an escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try parseHex4()
            if (0xD800...0xDBFF).contains(high) {
                guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired UTF-16 surrogate in \\u escape")
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired UTF-16 surrogate in \\u escape") }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
            }
            guard let scalar = Unicode.Scalar(high) else { throw fail("unpaired UTF-16 surrogate in \\u escape") }
            return scalar
        default:
            index -= 1
            throw fail("invalid escape \\\(Character(UnicodeScalar(byte)))", hint: "write a backslash as \\\\")
        }
    }

    mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("\\u needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("\\u needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
