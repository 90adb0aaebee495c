public import Foundation

/// Parses small XML documents (brand guides, templates) into a tree of ``XMLElement`` values.
///
/// Parsing is secure by default: no network, no DTD, no entities, no recovery (see `CLibXML2.h`).
/// Every element carries the exact line and column of its start tag.
public enum XMLDocument {
    /// The largest document parsed whole; larger inputs belong to ``XMLStreamReader``.
    public static let maximumSize = 64 << 20

    /// Parses the file at `path` and returns its root element.
    ///
    /// - Parameter displayName: How errors name the file; the path by default.
    /// - Throws: ``XMLError`` naming file, line and column.
    public static func parse(contentsOf path: String, displayName: String? = nil) throws(XMLError) -> XMLElement {
        let name = displayName ?? path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw XMLError(
                file: name, line: 0, column: 0, message: "cannot read the file (\(error.localizedDescription))",
                hint: "check that the path exists and is readable")
        }
        return try parse(data: data, displayName: name)
    }

    /// Parses XML held in memory.
    public static func parse(data: Data, displayName: String) throws(XMLError) -> XMLElement {
        guard data.count <= maximumSize else {
            throw XMLError(
                file: displayName, line: 1, column: 1,
                message: "the document is \(data.count) bytes, more than the \(maximumSize) allowed for a brand guide or template",
                hint: "split it, or check that this is the file you meant")
        }
        let reader = try LibXMLReader(bytes: data, displayName: displayName)
        var builder = TreeBuilder()
        do {
            while try reader.read() {
                try builder.consume(reader)
            }
        } catch {
            throw data.withUnsafeBytes { relocateDoctypeError(error, in: $0) }
        }
        guard var root = builder.root else {
            throw XMLError(file: displayName, line: 1, column: 1, message: "the document has no root element")
        }
        let positions = data.withUnsafeBytes { XMLSourceScanner.startTagPositions(in: $0) }
        var ordinal = 0
        root.assignPositions(positions, ordinal: &ordinal)
        return root
    }

    /// Parses XML from a string, for tests and small inline documents.
    public static func parse(string: String, displayName: String = "<string>") throws(XMLError) -> XMLElement {
        try parse(data: Data(string.utf8), displayName: displayName)
    }

    /// A DOCTYPE is refused when the reader reaches it; the scan says exactly where it stands.
    ///
    /// libxml2 may stop earlier, inside the DOCTYPE's internal subset (an entity loop, as in a
    /// billion-laughs file); that is reported as the same refused DOCTYPE.
    static func relocateDoctypeError(_ error: XMLError, in bytes: UnsafeRawBufferPointer) -> XMLError {
        let isEntityProblem = error.message.lowercased().contains("entit")
        guard error.message.hasPrefix("DOCTYPE") || isEntityProblem,
            let position = XMLSourceScanner.position(ofFirst: "<!DOCTYPE", in: bytes)
        else { return error }
        var relocated = error
        relocated.line = position.line
        relocated.column = position.column
        if isEntityProblem {
            relocated.message = "DOCTYPE declarations are not allowed (libxml2 stopped at: \(error.message))"
            relocated.hint = LibXMLReader.doctypeHint
        }
        return relocated
    }
}

extension XMLElement {
    /// Gives each element in document order the position of the matching start tag.
    fileprivate mutating func assignPositions(_ positions: [SourcePosition], ordinal: inout Int) {
        if ordinal < positions.count {
            line = positions[ordinal].line
            column = positions[ordinal].column
        }
        ordinal += 1
        for index in children.indices {
            if case .element(var element) = children[index] {
                element.assignPositions(positions, ordinal: &ordinal)
                children[index] = .element(element)
            }
        }
    }
}

/// Builds element values from reader events. Shared by whole documents and streamed subtrees.
struct TreeBuilder {
    private var stack: [XMLElement] = []
    /// The finished outermost element, once its end tag has been read.
    private(set) var root: XMLElement?

    var isBuilding: Bool { !stack.isEmpty }

    /// Feeds the reader's current node into the tree.
    mutating func consume(_ reader: LibXMLReader) throws(XMLError) {
        switch reader.nodeType {
        case .element:
            let element = XMLElement(
                name: reader.name, qualifiedName: reader.qualifiedName,
                attributes: reader.attributes(), line: reader.nodeLine)
            if reader.isEmptyElement {
                finish(element)
            } else {
                stack.append(element)
            }
        case .endElement:
            if let element = stack.popLast() { finish(element) }
        case .text, .cdata, .significantWhitespace:
            guard !stack.isEmpty else { return }
            let text = reader.value
            // Adjacent text and CDATA runs join into one child.
            if case .text(let previous)? = stack[stack.count - 1].children.last {
                stack[stack.count - 1].children[stack[stack.count - 1].children.count - 1] = .text(previous + text)
            } else {
                stack[stack.count - 1].children.append(.text(text))
            }
        default:
            break
        }
    }

    private mutating func finish(_ element: XMLElement) {
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(.element(element))
        }
    }

    /// Takes the finished element and makes the builder ready for the next one.
    mutating func take() -> XMLElement? {
        defer { root = nil }
        return root
    }
}
