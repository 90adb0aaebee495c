public import OnbrandXML

/// Where a problem is: a file, and inside it a line and column, a JSON coding path, or both.
public struct SourceLocation: Sendable, Hashable {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// For JSON: the path to the offending value, `products[3].price`.
    public var codingPath: String?

    public init(file: String, line: Int? = nil, column: Int? = nil, codingPath: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.codingPath = codingPath
    }
}

/// A problem with the user's input: what is wrong, where, and what to change.
///
/// Diagnostics are values, collected and reported together; loaders throw ``DiagnosticError``
/// only when an error leaves nothing usable.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case note, warning, error
    }

    public var severity: Severity
    /// What is wrong, one sentence.
    public var message: String
    public var location: SourceLocation?
    /// What to change.
    public var hint: String?

    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil, hint: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.hint = hint
    }

    public static func error(_ message: String, at location: SourceLocation?, hint: String? = nil) -> Diagnostic {
        Diagnostic(.error, message, at: location, hint: hint)
    }

    public static func warning(_ message: String, at location: SourceLocation?, hint: String? = nil) -> Diagnostic {
        Diagnostic(.warning, message, at: location, hint: hint)
    }

    /// Rendered as compilers do, so editors and CI can jump to the spot:
    /// `brands/acme/brand.xml:14:9: error: <palette> has no colours` and a `hint:` line.
    public var description: String {
        var text = ""
        if let location {
            text += location.file
            if let line = location.line {
                text += ":\(line)"
                if let column = location.column { text += ":\(column)" }
            }
            text += ": "
        }
        text += "\(severity.rawValue): "
        if let path = location?.codingPath, !path.isEmpty { text += "at `\(path)`: " }
        text += message
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}

extension Diagnostic {
    /// A located XML error from the parser, as a diagnostic.
    public init(_ error: XMLError) {
        self.init(
            .error, error.message,
            at: SourceLocation(
                file: error.file, line: error.line > 0 ? error.line : nil, column: error.column > 0 ? error.column : nil),
            hint: error.hint)
    }
}

/// Thrown when input cannot be used at all; carries every diagnostic found so far.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public init(_ diagnostic: Diagnostic) {
        self.diagnostics = [diagnostic]
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics while loading; ``hasErrors`` decides whether the result is usable.
public struct Diagnostics: Sendable {
    public private(set) var all: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    public mutating func append(_ diagnostic: Diagnostic) { all.append(diagnostic) }
    public mutating func append(contentsOf diagnostics: [Diagnostic]) { all.append(contentsOf: diagnostics) }

    public mutating func error(_ message: String, at location: SourceLocation?, hint: String? = nil) {
        all.append(.error(message, at: location, hint: hint))
    }

    public mutating func warning(_ message: String, at location: SourceLocation?, hint: String? = nil) {
        all.append(.warning(message, at: location, hint: hint))
    }

    /// Throws every diagnostic so far if any is an error.
    public func throwIfErrors() throws(DiagnosticError) {
        if hasErrors { throw DiagnosticError(all) }
    }
}
