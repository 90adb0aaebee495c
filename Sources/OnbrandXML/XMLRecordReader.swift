public import Foundation

/// Streams flat records, such as the `<item>`s of a product feed, as events: the fastest way
/// through a large file. No element tree is built; names arrive as small integer symbols and
/// text arrives trimmed, and white space between elements costs nothing.
///
/// ```swift
/// let reader = try XMLRecordReader(contentsOf: "feed.xml")
/// while try reader.nextRecord(where: { $0.localName == "item" }, { event in … }) { … }
/// ```
public final class XMLRecordReader {
    /// What happens inside a record. Depths are relative to the record element (its children are 1).
    public enum Event {
        case start(symbol: Int, depth: Int, attributes: [XMLAttribute])
        /// Trimmed, non-empty text or CDATA.
        case text(String)
        case end(depth: Int)
    }

    private let reader: LibXMLReader
    private let path: String?
    private var isRecordSymbol: [Bool?] = []
    private var nextOrdinal = 0
    /// The ordinal of the current record's start tag (see ``XMLSourceScanner``).
    public private(set) var ordinal = 0
    /// libxml2's line for the current record's start tag.
    public private(set) var line = 0
    /// The root element, without children, once reading has reached it.
    public private(set) var root: XMLElement?
    /// The record element's own name and attributes.
    public private(set) var recordElement: XMLElement?

    public var displayName: String { reader.displayName }

    public init(contentsOf path: String, displayName: String? = nil) throws(XMLError) {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw XMLError(
                file: displayName ?? path, line: 0, column: 0, message: "cannot open the file for reading",
                hint: "check that the path exists and is readable")
        }
        reader = try LibXMLReader(path: path, displayName: displayName ?? path)
    }

    public init(data: Data, displayName: String) throws(XMLError) {
        self.path = nil
        reader = try LibXMLReader(bytes: data, displayName: displayName)
    }

    /// The name behind a symbol.
    public func name(of symbol: Int) -> XMLName { reader.symbolNames[symbol] }

    /// The qualified name (prefix included) is not tracked per symbol; messages use this.
    public func displayName(of symbol: Int) -> String {
        let name = reader.symbolNames[symbol]
        return name.namespaceURI == XMLNamespace.googleBase ? "g:\(name.localName)" : name.localName
    }

    /// Reads to the next element for which `isRecord` is true and reports everything inside it to
    /// `visit`. Returns `false` at the end of the document.
    ///
    /// - Throws: ``XMLError`` at the first malformed byte, located by line and column.
    public func nextRecord(where isRecord: (XMLName) -> Bool, _ visit: (Event) -> Void) throws(XMLError) -> Bool {
        var recordDepth = -1
        do {
            while try reader.read() {
                switch reader.nodeType {
                case .element:
                    let ordinal = nextOrdinal
                    nextOrdinal += 1
                    let symbol = reader.symbol
                    if recordDepth >= 0 {
                        let depth = reader.depth - recordDepth
                        visit(.start(symbol: symbol, depth: depth, attributes: reader.hasAttributes ? reader.attributes() : []))
                        if reader.isEmptyElement { visit(.end(depth: depth)) }
                        continue
                    }
                    if root == nil {
                        root = XMLElement(
                            name: reader.name, qualifiedName: reader.qualifiedName, attributes: reader.attributes(),
                            line: reader.nodeLine)
                    }
                    if symbol >= isRecordSymbol.count {
                        isRecordSymbol += Array(repeating: nil, count: symbol - isRecordSymbol.count + 1)
                    }
                    let matches = isRecordSymbol[symbol] ?? isRecord(reader.symbolNames[symbol])
                    isRecordSymbol[symbol] = matches
                    guard matches else { continue }
                    self.ordinal = ordinal
                    line = reader.nodeLine
                    recordElement = XMLElement(
                        name: reader.name, qualifiedName: reader.qualifiedName,
                        attributes: reader.hasAttributes ? reader.attributes() : [], line: line)
                    if reader.isEmptyElement { return true }
                    recordDepth = reader.depth
                case .text, .cdata:
                    if recordDepth >= 0, let text = reader.trimmedValue { visit(.text(text)) }
                case .endElement:
                    guard recordDepth >= 0 else { continue }
                    let depth = reader.depth - recordDepth
                    if depth == 0 { return true }
                    visit(.end(depth: depth))
                default:
                    continue
                }
            }
            return false
        } catch {
            throw relocate(error)
        }
    }

    /// Exact positions for start tags by ordinal, found in one pass over the file.
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
