import Foundation
import OnbrandXML

/// Reads typed fields out of ``JSONNode`` objects, reporting wrong types, missing keys and unknown
/// keys with line, column and coding path. Shared by the brand and template JSON readers.
struct JSONFieldReader {
    let file: String
    var diagnostics = Diagnostics()

    init(file: String) {
        self.file = file
    }

    func location(_ node: JSONNode, _ path: String) -> SourceLocation {
        SourceLocation(file: file, line: node.position.line, column: node.position.column, codingPath: path)
    }

    mutating func typeError(_ node: JSONNode, _ path: String, expected: String) {
        diagnostics.error(
            "expected \(expected), found \(node.kindDescription)", at: location(node, path),
            hint: expected == "a string" ? "put the value in double quotes" : nil)
    }

    /// The members of an object, warning about keys not in `known`.
    mutating func object(_ node: JSONNode, _ path: String, known: [String]) -> [(key: String, value: JSONNode)]? {
        guard let members = node.objectMembers else {
            typeError(node, path, expected: "an object")
            return nil
        }
        for (key, value) in members where !known.contains(key) {
            let suggestion = known.min { Self.distance($0, key) < Self.distance($1, key) }
            diagnostics.warning(
                "unknown key \"\(key)\" is ignored", at: location(value, Self.join(path, key)),
                hint: suggestion.map { "did you mean \"\($0)\"? Known keys: " + known.joined(separator: ", ") })
        }
        return members
    }

    mutating func string(_ node: JSONNode?, _ path: String) -> String? {
        guard let node, !node.isNull else { return nil }
        guard let string = node.stringValue else {
            typeError(node, path, expected: "a string")
            return nil
        }
        let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    mutating func int(_ node: JSONNode?, _ path: String) -> Int? {
        guard let node, !node.isNull else { return nil }
        guard case .number(let text) = node.value, let value = Int(text) else {
            typeError(node, path, expected: "a whole number")
            return nil
        }
        return value
    }

    mutating func double(_ node: JSONNode?, _ path: String) -> Double? {
        guard let node, !node.isNull else { return nil }
        guard let value = node.doubleValue else {
            typeError(node, path, expected: "a number")
            return nil
        }
        return value
    }

    mutating func bool(_ node: JSONNode?, _ path: String) -> Bool? {
        guard let node, !node.isNull else { return nil }
        guard let value = node.boolValue else {
            typeError(node, path, expected: "true or false")
            return nil
        }
        return value
    }

    /// A list of strings; a single string is accepted as a list of one.
    mutating func strings(_ node: JSONNode?, _ path: String) -> [String]? {
        guard let node, !node.isNull else { return nil }
        if node.stringValue != nil { return [string(node, path)].compactMap { $0 } }
        guard let elements = node.arrayElements else {
            typeError(node, path, expected: "an array of strings")
            return nil
        }
        return elements.enumerated().compactMap { string($0.element, "\(path)[\($0.offset)]") }
    }

    /// A list of objects, each read by `body`.
    mutating func objects<T>(_ node: JSONNode?, _ path: String, _ body: (inout Self, JSONNode, String) -> T?) -> [T]? {
        guard let node, !node.isNull else { return nil }
        guard let elements = node.arrayElements else {
            typeError(node, path, expected: "an array")
            return nil
        }
        return elements.enumerated().compactMap { body(&self, $0.element, "\(path)[\($0.offset)]") }
    }

    mutating func missing(_ key: String, in node: JSONNode, _ path: String) {
        diagnostics.error(
            "missing key \"\(key)\"", at: location(node, path), hint: "add \"\(key)\": … to this object")
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Edit distance, for "did you mean" on unknown keys.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
