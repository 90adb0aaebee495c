internal import CLibXML2

/// Owns one `xmlTextReaderPtr` and the error sink libxml2 reports into.
///
/// This file and its siblings in `LibXML2/` are the only code that touches libxml2 pointers.
/// Everything leaves as Swift values; the reader is freed in `deinit`, even on a throw.
final class LibXMLReader {
    private let reader: OpaquePointer
    private let sink: UnsafeMutablePointer<onbrand_xml_error_sink>
    private let collector: ErrorCollector
    /// In-memory input: libxml2 reads it in place, so it lives as long as the reader.
    private let buffer: UnsafeMutableRawBufferPointer?
    let displayName: String
    private var names: [NameKey: XMLName] = [:]
    private var qualifiedNames: [UnsafeRawPointer: String] = [:]
    /// Interned names as small integers, for the record reader's hot loop.
    private var symbols: [NameKey: Int] = [:]
    private(set) var symbolNames: [XMLName] = []

    static let initialized: Bool = {
        onbrand_xml_initialize()
        return true
    }()

    /// Opens a file for reading. Nothing is parsed until ``read()``.
    init(path: String, displayName: String) throws(XMLError) {
        _ = Self.initialized
        self.displayName = displayName
        self.buffer = nil
        guard let reader = xmlReaderForFile(path, nil, onbrand_xml_secure_options()) else {
            throw XMLError(
                file: displayName, line: 0, column: 0, message: "cannot open the file for reading",
                hint: "check that the path exists and is readable")
        }
        self.reader = reader
        (self.collector, self.sink) = Self.installSink(on: reader)
    }

    /// Reads from a copy of `bytes`; `displayName` names it in errors.
    init(bytes: some Collection<UInt8>, displayName: String) throws(XMLError) {
        _ = Self.initialized
        self.displayName = displayName
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        copy.copyBytes(from: bytes)
        self.buffer = copy
        let base = copy.baseAddress!.assumingMemoryBound(to: CChar.self)
        guard let reader = xmlReaderForMemory(base, Int32(bytes.count), displayName, "UTF-8", onbrand_xml_secure_options())
        else {
            copy.deallocate()
            throw XMLError(file: displayName, line: 0, column: 0, message: "libxml2 could not create a reader")
        }
        self.reader = reader
        (self.collector, self.sink) = Self.installSink(on: reader)
    }

    deinit {
        xmlFreeTextReader(reader)
        Unmanaged<ErrorCollector>.fromOpaque(sink.pointee.context!).release()
        sink.deallocate()
        buffer?.deallocate()
    }

    private static func installSink(
        on reader: OpaquePointer
    ) -> (ErrorCollector, UnsafeMutablePointer<onbrand_xml_error_sink>) {
        let collector = ErrorCollector()
        let sink = UnsafeMutablePointer<onbrand_xml_error_sink>.allocate(capacity: 1)
        sink.initialize(
            to: onbrand_xml_error_sink(
                callback: { context, message, _, line, column, level, _, code in
                    guard let context else { return }
                    let collector = Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue()
                    collector.record(
                        message: message.map { String(cString: $0) } ?? "unknown XML error",
                        line: Int(line), column: Int(column), level: Int(level), code: Int(code))
                },
                context: Unmanaged.passRetained(collector).toOpaque()))
        onbrand_xml_reader_on_error(reader, sink)
        return (collector, sink)
    }

    // MARK: - Reading

    static let doctypeHint =
        "remove the <!DOCTYPE …> declaration: Onbrand never loads DTDs or entities, "
        + "because they can read local files or expand without bound"

    /// Moves to the next node. Returns `false` at the end of the document.
    ///
    /// - Throws: ``XMLError`` for the first error libxml2 reported, recoverable or not, and for
    ///   any DOCTYPE or entity reference: Onbrand's inputs never need them, and they are how
    ///   XXE and billion-laughs attacks start.
    func read() throws(XMLError) -> Bool {
        let status = xmlTextReaderRead(reader)
        if let first = collector.firstError { throw explained(located(first)) }
        if status < 0 {
            throw XMLError(
                file: displayName, line: parserLine, column: parserColumn,
                message: "the XML could not be parsed", hint: "check that the file is complete, well-formed XML")
        }
        guard status == 1 else { return false }
        let type = nodeType
        switch type {
        case .element:
            if !isEmptyElement { openElements += 1 }
            return true
        case .endElement:
            openElements -= 1
            return true
        case .documentType:
            throw XMLError(
                file: displayName, line: max(parserLine, 1), column: 1,
                message: "DOCTYPE declarations are not allowed", hint: Self.doctypeHint)
        case .entityReference:
            throw XMLError(
                file: displayName, line: max(parserLine, 1), column: parserColumn,
                message: "entity references other than the five predefined ones are not allowed",
                hint: "write the character itself, or a numeric reference such as &#233;")
        default:
            return true
        }
    }

    enum NodeType: Int32 {
        case element = 1, attribute, text, cdata, entityReference, entity, processingInstruction, comment
        case document, documentType, documentFragment, notation, whitespace, significantWhitespace
        case endElement, endEntity, xmlDeclaration
        case none = 0
    }

    var nodeType: NodeType { NodeType(rawValue: xmlTextReaderNodeType(reader)) ?? .none }
    var depth: Int { Int(xmlTextReaderDepth(reader)) }
    var isEmptyElement: Bool { xmlTextReaderIsEmptyElement(reader) == 1 }

    /// The current node's value (text, CDATA), or "".
    var value: String {
        guard let value = xmlTextReaderConstValue(reader) else { return "" }
        return String(cString: value)
    }

    /// The current node's name by namespace URI; libxml2 interns names, so each distinct one
    /// becomes a Swift string once per reader.
    var name: XMLName {
        let local = xmlTextReaderConstLocalName(reader)
        let namespace = xmlTextReaderConstNamespaceUri(reader)
        let key = NameKey(local: UnsafeRawPointer(local), namespace: namespace.map(UnsafeRawPointer.init))
        if let cached = names[key] { return cached }
        let name = XMLName(
            local.map { String(cString: $0) } ?? "",
            namespace: namespace.map { String(cString: $0) })
        names[key] = name
        return name
    }

    /// The current node's name as a small integer, the same for every node with that name and
    /// namespace. Cheaper than ``name`` in hot loops: two pointer loads and one hash lookup.
    var symbol: Int {
        let key = NameKey(
            local: UnsafeRawPointer(xmlTextReaderConstLocalName(reader)),
            namespace: xmlTextReaderConstNamespaceUri(reader).map(UnsafeRawPointer.init))
        if let symbol = symbols[key] { return symbol }
        let symbol = symbolNames.count
        symbolNames.append(name)
        symbols[key] = symbol
        return symbol
    }

    /// The current node's value with ASCII white space trimmed from both ends; `nil` when
    /// nothing is left. Trims on the raw bytes, so no string is built for white space alone.
    var trimmedValue: String? {
        guard let value = xmlTextReaderConstValue(reader) else { return nil }
        var start = 0
        var end = 0
        while value[end] != 0 { end += 1 }
        @inline(__always) func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D }
        while start < end, isSpace(value[start]) { start += 1 }
        while end > start, isSpace(value[end - 1]) { end -= 1 }
        guard end > start else { return nil }
        // libxml2 hands out well-formed UTF-8 only.
        return String(decoding: UnsafeBufferPointer(start: value + start, count: end - start), as: UTF8.self)
    }

    var hasAttributes: Bool { xmlTextReaderHasAttributes(reader) == 1 }

    /// The name as written, prefix included.
    var qualifiedName: String {
        guard let pointer = xmlTextReaderConstName(reader) else { return "" }
        let key = UnsafeRawPointer(pointer)
        if let cached = qualifiedNames[key] { return cached }
        let name = String(cString: pointer)
        qualifiedNames[key] = name
        return name
    }

    /// The line of the current node's start tag, as libxml2 recorded it.
    var nodeLine: Int {
        guard let node = xmlTextReaderCurrentNode(reader) else { return parserLine }
        return Int(xmlGetLineNo(node))
    }

    private var parserLine: Int { Int(xmlTextReaderGetParserLineNumber(reader)) }
    private var parserColumn: Int { Int(xmlTextReaderGetParserColumnNumber(reader)) }

    /// The current element's attributes, namespace declarations left out.
    func attributes() -> [XMLAttribute] {
        guard xmlTextReaderHasAttributes(reader) == 1 else { return [] }
        var attributes: [XMLAttribute] = []
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            if xmlTextReaderIsNamespaceDecl(reader) == 1 { continue }
            attributes.append(XMLAttribute(name: name, value: value))
        }
        xmlTextReaderMoveToElement(reader)
        return attributes
    }

    /// How many elements are open at the current node: the document is unfinished while any is.
    private(set) var openElements = 0

    /// libxml2 describes a file that stops inside an element in several ways, some misleading
    /// ("Extra content at the end of the document"); say plainly that it is unfinished.
    private func explained(_ error: XMLError) -> XMLError {
        guard openElements > 0,
            error.message.hasPrefix("Extra content at the end") || error.message.hasPrefix("Premature end")
        else { return error }
        var explained = error
        explained.message = "the file ends while \(openElements) element\(openElements == 1 ? " is" : "s are") still open"
        explained.hint = "the file looks truncated: restore its end, or close the open elements"
        return explained
    }

    private func located(_ error: ErrorCollector.Entry) -> XMLError {
        XMLError(
            file: displayName, line: max(error.line, 1), column: max(error.column, 1),
            message: error.message, hint: XMLErrorHints.hint(forCode: error.code, message: error.message))
    }
}

private struct NameKey: Hashable {
    var local: UnsafeRawPointer?
    var namespace: UnsafeRawPointer?
}

/// What libxml2 reported during one parse. Used synchronously, on the parsing thread only.
final class ErrorCollector {
    struct Entry {
        var message: String
        var line: Int
        var column: Int
        var code: Int
    }

    private(set) var firstError: Entry?
    private(set) var warnings: [Entry] = []

    func record(message: String, line: Int, column: Int, level: Int, code: Int) {
        let entry = Entry(
            message: message.trimmingXMLWhitespace(), line: line, column: column, code: code)
        // XML_ERR_WARNING is 1; 2 (error) and 3 (fatal) both fail the parse: no silent recovery.
        if level >= 2 {
            if firstError == nil { firstError = entry }
        } else {
            warnings.append(entry)
        }
    }
}
