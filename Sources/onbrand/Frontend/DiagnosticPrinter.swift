import Foundation
import OnbrandInputs

/// Prints diagnostics to standard error as compilers do (`file:line:col: error: …`), coloured on a
/// terminal, with paths shortened relative to the working directory.
struct DiagnosticPrinter {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let workingDirectory = FileManager.default.currentDirectoryPath + "/"

    func print(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { print(diagnostic) }
    }

    func print(_ diagnostic: Diagnostic) {
        var shown = diagnostic
        if let file = shown.location?.file, file.hasPrefix(workingDirectory) {
            shown.location?.file = String(file.dropFirst(workingDirectory.count))
        }
        var text = shown.description
        if isTerminal {
            let colour = switch diagnostic.severity {
            case .error: "\u{1B}[1;31m"
            case .warning: "\u{1B}[1;33m"
            case .note: "\u{1B}[1;36m"
            }
            let label = "\(diagnostic.severity.rawValue):"
            if let range = text.range(of: label) {
                text.replaceSubrange(range, with: "\(colour)\(label)\u{1B}[0m")
            }
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Writes a line to standard output (results) or standard error (everything else).
enum Output {
    /// `path` relative to the working directory when it lies inside it.
    static func shortPath(_ path: String) -> String {
        let directory = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(directory) ? String(path.dropFirst(directory.count)) : path
    }

    static func result(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
