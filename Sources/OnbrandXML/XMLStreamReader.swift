public import Foundation

/// Streams a large XML file (a catalog of any size) and hands over, one at a time, the elements
/// the caller asks for, each fully built as an ``XMLElement``. Memory stays bounded by the
/// largest such element, whatever the file size: libxml2 frees each subtree once it is passed.
///
/// ```swift
/// let reader = try XMLStreamReader(contentsOf: "feed.xml")
/// while let item = try reader.nextElement(where: { name, _ in name.localName == "item" }) { … }
/// ```
///
/// Streamed elements carry libxml2's line and column 0; ``ordinal`` lets
/// ``XMLSourceScanner/startTagPositions(ordinals:inFile:)`` find exact columns later, for the few
/// elements that need a diagnostic.
public final class XMLStreamReader {
    private let reader: LibXMLReader
    private let path: String?
    private var builder = TreeBuilder()
    /// Document-order index of the next start tag.
    private var nextOrdinal = 0
    /// The ordinal of the element that the last ``nextElement(where:)`` returned.
    public private(set) var ordinal = 0
    /// The root element, without children, once reading has reached it.
    public private(set) var root: XMLElement?
    /// How errors name the file.
    public var displayName: String { reader.displayName }

    /// Opens a file; parsing starts with the first ``nextElement(where:)``.
    public init(contentsOf path: String, displayName: String? = nil) throws(XMLError) {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw XMLError(
                file: displayName ?? path, line: 0, column: 0, message: "cannot open the file for reading",
                hint: "check that the path exists and is readable")
        }
        self.reader = try LibXMLReader(path: path, displayName: displayName ?? path)
    }

    /// Streams XML held in memory (for tests and small inputs).
    public init(data: Data, displayName: String) throws(XMLError) {
        self.path = nil
        self.reader = try LibXMLReader(bytes: data, displayName: displayName)
    }

    /// Reads on to the next element for which `isMatch(name, depth)` is true and returns it with
    /// all its content; `nil` at the end of the document. Matching elements are never nested in
    /// each other's results: the search resumes after the returned element's end tag.
    ///
    /// - Throws: ``XMLError`` at the first malformed byte, located by line and column.
    public func nextElement(where isMatch: (XMLName, Int) -> Bool) throws(XMLError) -> XMLElement? {
        do {
            while try reader.read() {
                let type = reader.nodeType
                if type == .element {
                    let current = nextOrdinal
                    nextOrdinal += 1
                    if root == nil {
                        root = XMLElement(
                            name: reader.name, qualifiedName: reader.qualifiedName,
                            attributes: reader.attributes(), line: reader.nodeLine)
                    }
                    if !builder.isBuilding {
                        guard isMatch(reader.name, reader.depth) else { continue }
                        ordinal = current
                    }
                }
                guard builder.isBuilding || type == .element else { continue }
                try builder.consume(reader)
                if let element = builder.take() { return element }
            }
            return nil
        } catch {
            throw relocate(error)
        }
    }

    /// Exact positions for elements by ordinal, found in one pass over the file.
    public func positions(ofOrdinals ordinals: Set<Int>) -> [Int: SourcePosition] {
        guard let path else { return [:] }
        return XMLSourceScanner.startTagPositions(ordinals: ordinals, inFile: path)
    }

    private func relocate(_ error: XMLError) -> XMLError {
        guard error.message.hasPrefix("DOCTYPE") || error.message.lowercased().contains("entit"), let path,
            let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        else { return error }
        return data.withUnsafeBytes { XMLDocument.relocateDoctypeError(error, in: $0) }
    }
}
