import Foundation
import OnbrandXML

extension JSONSyntaxError {
    /// The error as a located diagnostic in `file`.
    func diagnostic(in file: String) -> Diagnostic {
        .error(message, at: SourceLocation(file: file, line: position.line, column: position.column), hint: hint)
    }
}

extension JSONParser {
    /// Reads and parses a whole JSON file, refusing files over `maximumSize` bytes.
    ///
    /// - Parameter displayName: How diagnostics name the file; the path by default.
    /// - Throws: ``DiagnosticError`` for an unreadable or oversized file, or a syntax error with its place.
    static func parseFile(
        _ path: String, displayName: String? = nil, maximumSize: Int = 64 << 20, sizeHint: String? = nil
    ) throws(DiagnosticError) -> JSONNode {
        let name = displayName ?? path
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumSize else {
            throw DiagnosticError(
                .error("the file is \(size) bytes, more than the \(maximumSize) read whole", at: SourceLocation(file: name), hint: sizeHint))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DiagnosticError(.error("cannot read the file", at: SourceLocation(file: name), hint: "check that the path exists and is readable"))
        }
        do {
            return try parse(data)
        } catch {
            throw DiagnosticError(error.diagnostic(in: name))
        }
    }
}
