import Foundation
import OnbrandXML

/// Colour tokens read from a W3C Design Tokens (DTCG) file or a Style Dictionary file.
///
/// Handles DTCG 2025.10 colour objects (`colorSpace`/`components`/`alpha`/`hex`), legacy hex
/// strings, `$type` inherited from groups, Style Dictionary's classic `value` leaves and
/// `{group.token}` aliases. Other token types (typography, dimensions) are read past.
public struct DesignTokens: Sendable, Hashable {
    /// A colour token: its dotted path and its colour as `#RRGGBB` or `#RRGGBBAA`.
    public struct ColorToken: Sendable, Hashable {
        public var path: String
        public var hex: String
    }

    /// Colour tokens in file order.
    public var colors: [ColorToken]
    /// How many tokens of any type the file holds.
    public var tokenCount: Int

    public func color(at path: String) -> ColorToken? { colors.first { $0.path == path } }

    /// Reads a tokens file.
    ///
    /// - Returns: The tokens and the problems found (an alias that does not resolve, a colour
    ///   space Onbrand cannot convert). Syntax errors throw.
    public static func load(contentsOf path: String, displayName: String? = nil) throws(DiagnosticError) -> (DesignTokens, [Diagnostic]) {
        let name = displayName ?? path
        let root = try JSONParser.parseFile(path, displayName: name)
        var collector = Collector(file: name)
        collector.walk(root, path: [], inheritedType: nil)
        var diagnostics = collector.diagnostics
        var colors: [ColorToken] = []
        for token in collector.tokens where token.isColor(resolving: collector.byPath) {
            switch collector.resolveColor(token, seen: []) {
            case .success(let hex): colors.append(ColorToken(path: token.path, hex: hex))
            case .failure(let problem):
                diagnostics.append(
                    .warning(
                        "colour token \(token.path): \(problem.message)",
                        at: SourceLocation(file: name, line: token.node.position.line, column: token.node.position.column),
                        hint: problem.hint))
            }
        }
        return (DesignTokens(colors: colors, tokenCount: collector.tokens.count), diagnostics)
    }
}

private struct Problem: Error {
    var message: String
    var hint: String?
}

private struct Token {
    var path: String
    var type: String?
    /// The value node (`$value` or `value`).
    var node: JSONNode

    func isColor(resolving tokens: [String: Token]) -> Bool {
        if let type { return type == "color" }
        switch node.value {
        case .string(let text):
            if let target = Collector.aliasTarget(text) { return tokens[target]?.isColor(resolving: [:]) ?? false }
            return HexColor.normalized(text) != nil
        case .object: return node["colorSpace"] != nil || node["hex"] != nil
        default: return false
        }
    }
}

private struct Collector {
    let file: String
    var tokens: [Token] = []
    var byPath: [String: Token] = [:]
    var diagnostics: [Diagnostic] = []

    mutating func walk(_ node: JSONNode, path: [String], inheritedType: String?) {
        guard let members = node.objectMembers else { return }
        let type = node["$type"]?.stringValue ?? node["type"]?.stringValue ?? inheritedType
        if let value = node["$value"] ?? (Self.isStyleDictionaryLeaf(node) ? node["value"] : nil) {
            let token = Token(path: path.joined(separator: "."), type: type, node: value)
            tokens.append(token)
            byPath[token.path] = token
            return
        }
        for (key, child) in members where !key.hasPrefix("$") {
            walk(child, path: path + [key], inheritedType: type)
        }
    }

    /// Style Dictionary leaves are `{ "value": … }` whose value is not itself a group of tokens.
    static func isStyleDictionaryLeaf(_ node: JSONNode) -> Bool {
        guard let value = node["value"] else { return false }
        switch value.value {
        case .string, .number, .bool: return true
        case .object: return value["colorSpace"] != nil || value["hex"] != nil
        default: return false
        }
    }

    /// `{color.brand.primary}` → `color.brand.primary`.
    static func aliasTarget(_ text: String) -> String? {
        guard text.hasPrefix("{"), text.hasSuffix("}"), text.count > 2 else { return nil }
        return String(text.dropFirst().dropLast())
    }

    func resolveColor(_ token: Token, seen: Set<String>) -> Result<String, Problem> {
        switch token.node.value {
        case .string(let text):
            if let target = Self.aliasTarget(text) {
                guard !seen.contains(target) else {
                    return .failure(Problem(message: "alias cycle through {\(target)}", hint: "make the aliases end at a value"))
                }
                guard let aliased = byPath[target] else {
                    return .failure(Problem(message: "alias {\(target)} does not resolve", hint: "check the token path"))
                }
                return resolveColor(aliased, seen: seen.union([token.path]))
            }
            guard let hex = HexColor.normalized(text) else {
                return .failure(Problem(message: "\"\(text)\" is not a hex colour", hint: "write #RRGGBB"))
            }
            return .success(hex)
        case .object:
            if let hexText = token.node["hex"]?.stringValue, let hex = HexColor.normalized(hexText) {
                return .success(withAlpha(hex, token.node["alpha"]?.doubleValue))
            }
            let space = token.node["colorSpace"]?.stringValue ?? "srgb"
            guard space == "srgb", let components = token.node["components"]?.arrayElements?.compactMap(\.doubleValue),
                components.count == 3
            else {
                return .failure(
                    Problem(
                        message: "colour space \"\(space)\" without a hex fallback is not supported",
                        hint: "add \"hex\" to the colour object, or use srgb components"))
            }
            let hex = "#" + components.map { String(format: "%02X", Int(($0 * 255).rounded()).clamped(0, 255)) }.joined()
            return .success(withAlpha(hex, token.node["alpha"]?.doubleValue))
        default:
            return .failure(Problem(message: "the value is \(token.node.kindDescription), not a colour", hint: nil))
        }
    }

    func withAlpha(_ hex: String, _ alpha: Double?) -> String {
        guard let alpha, alpha < 1, hex.count == 7 else { return hex }
        return hex + String(format: "%02X", Int((alpha * 255).rounded()).clamped(0, 255))
    }
}

extension Int {
    fileprivate func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(Swift.max(self, low), high) }
}
