/// A problem found while reading an XML file, with the place it was found.
///
/// Lines and columns are 1-based; the column counts characters (Unicode scalars), as libxml2 does.
/// `hint` says what to change, when Onbrand knows.
public struct XMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as the caller named it (or the name given for in-memory data).
    public var file: String
    public var line: Int
    public var column: Int
    /// What is wrong, one sentence, without a trailing newline.
    public var message: String
    /// What to change, when known.
    public var hint: String?

    public init(file: String, line: Int, column: Int, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// `file:line:col: error: message`, as compilers print, then the hint on its own line.
    public var description: String {
        var text = "\(file):\(line):\(column): error: \(message)"
        if let hint { text += "\n  hint: \(hint)" }
        return text
    }
}
