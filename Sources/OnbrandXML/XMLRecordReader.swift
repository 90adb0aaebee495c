public import Foundation
internal import CLibXML2

/// Receives the records of an ``XMLRecordReader``: the elements inside each record, with the
/// trimmed text of each element delivered when it ends.
public protocol XMLRecordHandler: AnyObject {
    /// Whether an element outside any record starts a record (asked once per distinct name).
    func isRecord(_ name: XMLName) -> Bool
    /// A record starts; ``XMLRecordReader/ordinal`` and ``XMLRecordReader/line`` describe it.
    func recordStarted(_ reader: XMLRecordReader, attributes: [XMLAttribute])
    /// An element inside the record starts. `depth` is 1 for the record's children.
    func elementStarted(_ reader: XMLRecordReader, symbol: Int, depth: Int, attributes: [XMLAttribute])
    /// An element inside the record ends, with its own text trimmed of ASCII white space (`nil` if none).
    func elementEnded(_ reader: XMLRecordReader, depth: Int, text: String?)
    /// The record's end tag has been read.
    func recordEnded(_ reader: XMLRecordReader)
}

/// Streams flat records, such as the `<item>`s of a product feed, with libxml2's SAX2 push parser:
/// the fastest way through a large file, in memory bounded by one chunk.
///
/// `xmlTextReader` (behind ``XMLStreamReader``) builds and frees a node per element; for the
/// catalog hot loop SAX2 builds nothing, which measured about twice as fast on libxml2's side.
/// Names arrive as small integer symbols, text is trimmed on the raw bytes, and white space between
/// elements costs nothing. Same secure options and located errors as the other readers.
///
/// ```swift
/// let reader = try XMLRecordReader(contentsOf: "feed.xml")
/// while try reader.readChunk(into: handler) {}
/// ```
public final class XMLRecordReader {
    /// Bytes handed to libxml2 per call; records completed in one chunk arrive together.
    public static let chunkSize = 256 << 10

    private let file: FileHandle?
    private var pendingData: Data?
    private let path: String?
    public let displayName: String
    private var context: UnsafeMutablePointer<xmlParserCtxt>!
    private let callbacks: UnsafeMutablePointer<onbrand_sax_callbacks>
    private var isFinished = false

    /// Parse state, touched only from the callbacks during `readChunk`. It lives behind a pointer
    /// because the callbacks run once per element and text run: class properties would pay a
    /// dynamic exclusivity check on every access (measured at a tenth of ingestion time).
    private struct State {
        var depth = 0
        var recordDepth = -1
        /// The current element's text bytes: a reused buffer, grown by doubling.
        var text = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4096)
        var textCount = 0
        var symbols: [SymbolKey: Int] = [:]
        /// Direct-mapped cache in front of `symbols`, indexed by the local name pointer's bits.
        var recentSymbols = [(local: UnsafeRawPointer?, uri: UnsafeRawPointer?, symbol: Int)](
            repeating: (nil, nil, 0), count: 1024)
        var symbolNames: [XMLName] = []
        var isRecordSymbol: [Bool?] = []
        var nextOrdinal = 0
        var firstError: XMLError?
        var openElements = 0
    }

    private unowned(unsafe) var handler: (any XMLRecordHandler)?
    private let state: UnsafeMutablePointer<State>

    /// Document-order index of the current record's start tag (see ``XMLSourceScanner``).
    public private(set) var ordinal = 0
    /// The line where the current record's start tag ends, as libxml2 counts.
    public private(set) var line = 0
    /// The root element, without children, once reading has reached it.
    public private(set) var root: XMLElement?

    public init(contentsOf path: String, displayName: String? = nil) throws(XMLError) {
        let name = displayName ?? path
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw XMLError(
                file: name, line: 0, column: 0, message: "cannot open the file for reading",
                hint: "check that the path exists and is readable")
        }
        self.file = file
        self.path = path
        self.displayName = name
        callbacks = .allocate(capacity: 1)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        try start()
    }

    /// Streams XML held in memory (tests, small inputs).
    public init(data: Data, displayName: String) throws(XMLError) {
        file = nil
        pendingData = data
        path = nil
        self.displayName = displayName
        callbacks = .allocate(capacity: 1)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        try start()
    }

    private func start() throws(XMLError) {
        _ = LibXMLReader.initialized
        callbacks.initialize(
            to: onbrand_sax_callbacks(
                start: { context, local, uri, count, attributes in
                    XMLRecordReader.reader(context).elementStarted(local, uri, count, attributes)
                },
                end: { context in XMLRecordReader.reader(context).elementEnded() },
                text: { context, bytes, length in XMLRecordReader.reader(context).characters(bytes, Int(length)) },
                doctype: { context in
                    let reader = XMLRecordReader.reader(context)
                    reader.fail(XMLError(
                        file: reader.displayName, line: reader.currentLine, column: 1,
                        message: "DOCTYPE declarations are not allowed", hint: LibXMLReader.doctypeHint))
                },
                reference: { context, _ in
                    let reader = XMLRecordReader.reader(context)
                    reader.fail(XMLError(
                        file: reader.displayName, line: reader.currentLine, column: 1,
                        message: "entity references other than the five predefined ones are not allowed",
                        hint: "write the character itself, or a numeric reference such as &#233;"))
                },
                error: { context, message, _, line, column, level, _, code in
                    guard level >= 2 else { return }
                    let reader = XMLRecordReader.reader(context)
                    let text = message.map { String(cString: $0) }?.trimmingXMLWhitespace() ?? "unknown XML error"
                    reader.fail(XMLError(
                        file: reader.displayName, line: max(Int(line), 1), column: max(Int(column), 1), message: text,
                        hint: XMLErrorHints.hint(forCode: Int(code), message: text)))
                },
                context: Unmanaged.passUnretained(self).toOpaque()))
        guard let context = onbrand_sax_create(callbacks, displayName) else {
            throw XMLError(file: displayName, line: 0, column: 0, message: "libxml2 could not create a parser")
        }
        self.context = context
    }

    deinit {
        if let context { xmlFreeParserCtxt(context) }
        callbacks.deallocate()
        state.pointee.text.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        try? file?.close()
    }

    private static func reader(_ context: UnsafeMutableRawPointer?) -> XMLRecordReader {
        Unmanaged<XMLRecordReader>.fromOpaque(context!).takeUnretainedValue()
    }

    private var currentLine: Int { Int(xmlSAX2GetLineNumber(context)) }

    private func fail(_ error: XMLError) {
        if state.pointee.firstError == nil { state.pointee.firstError = error }
        xmlStopParser(context)
    }

    // MARK: - Reading

    /// Feeds the next chunk of the file to the parser; `handler` hears about every record it
    /// completes. Returns `false` once the whole document has been read.
    ///
    /// - Throws: ``XMLError`` at the first malformed byte, located by line and column.
    public func readChunk(into handler: any XMLRecordHandler) throws(XMLError) -> Bool {
        guard !isFinished else { return false }
        let chunk: Data
        if let file {
            chunk = (try? file.read(upToCount: Self.chunkSize)) ?? Data()
        } else {
            chunk = pendingData ?? Data()
            pendingData = nil
        }
        self.handler = handler
        defer { self.handler = nil }
        let isLast = chunk.isEmpty
        chunk.withUnsafeBytes { bytes in
            _ = xmlParseChunk(
                context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), isLast ? 1 : 0)
        }
        if let error = state.pointee.firstError { throw explained(error) }
        if isLast {
            isFinished = true
            if root == nil {
                throw XMLError(
                    file: displayName, line: 1, column: 1, message: "the document has no root element",
                    hint: "the file is empty or holds no XML")
            }
        }
        return !isLast
    }

    /// The name behind a symbol.
    public func name(of symbol: Int) -> XMLName { state.pointee.symbolNames[symbol] }

    /// A readable name for messages: `g:price` for Merchant attributes.
    public func displayName(of symbol: Int) -> String {
        let name = state.pointee.symbolNames[symbol]
        return name.namespaceURI == XMLNamespace.googleBase ? "g:\(name.localName)" : name.localName
    }

    /// Exact positions for start tags by ordinal, found in one pass over the file.
    public func positions(ofOrdinals ordinals: Set<Int>) -> [Int: SourcePosition] {
        guard let path else { return [:] }
        return XMLSourceScanner.startTagPositions(ordinals: ordinals, inFile: path)
    }

    // MARK: - SAX events

    private func symbol(_ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?) -> Int {
        let localKey = UnsafeRawPointer(local)
        let uriKey = uri.map(UnsafeRawPointer.init)
        let bits = Int(bitPattern: localKey)
        let slot = ((bits >> 3) ^ (bits >> 13)) & 1023
        let recent = state.pointee.recentSymbols[slot]
        if recent.local == localKey, recent.uri == uriKey { return recent.symbol }
        let key = SymbolKey(local: localKey, uri: uriKey)
        let symbol: Int
        if let known = state.pointee.symbols[key] {
            symbol = known
        } else {
            symbol = state.pointee.symbolNames.count
            state.pointee.symbolNames.append(XMLName(String(cString: local), namespace: uri.map { String(cString: $0) }))
            state.pointee.symbols[key] = symbol
        }
        state.pointee.recentSymbols[slot] = (localKey, uriKey, symbol)
        return symbol
    }

    private func attributes(_ count: Int32, _ raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) -> [XMLAttribute] {
        guard count > 0, let raw else { return [] }
        return (0..<Int(count)).map { index in
            let base = index * 5
            let local = raw[base].map { String(cString: $0) } ?? ""
            let uri = raw[base + 2].map { String(cString: $0) }
            var value = ""
            if let start = raw[base + 3], let end = raw[base + 4] {
                value = String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
            }
            return XMLAttribute(name: XMLName(local, namespace: uri), value: value)
        }
    }

    private func elementStarted(
        _ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?, _ count: Int32,
        _ raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        let ordinal = state.pointee.nextOrdinal
        state.pointee.nextOrdinal += 1
        state.pointee.depth += 1
        state.pointee.openElements += 1
        state.pointee.textCount = 0
        let symbol = symbol(local, uri)
        guard let handler else { return }
        let depth = state.pointee.depth
        let recordDepth = state.pointee.recordDepth
        if recordDepth >= 0 {
            handler.elementStarted(self, symbol: symbol, depth: depth - recordDepth, attributes: attributes(count, raw))
            return
        }
        if root == nil {
            root = XMLElement(name: state.pointee.symbolNames[symbol], attributes: attributes(count, raw), line: currentLine)
        }
        if symbol >= state.pointee.isRecordSymbol.count {
            state.pointee.isRecordSymbol += Array(repeating: nil, count: symbol - state.pointee.isRecordSymbol.count + 1)
        }
        let matches = state.pointee.isRecordSymbol[symbol] ?? handler.isRecord(state.pointee.symbolNames[symbol])
        state.pointee.isRecordSymbol[symbol] = matches
        guard matches else { return }
        state.pointee.recordDepth = depth
        self.ordinal = ordinal
        line = currentLine
        handler.recordStarted(self, attributes: attributes(count, raw))
    }

    private func elementEnded() {
        defer {
            state.pointee.depth -= 1
            state.pointee.openElements -= 1
            state.pointee.textCount = 0
        }
        let recordDepth = state.pointee.recordDepth
        guard recordDepth >= 0, let handler else { return }
        let depth = state.pointee.depth
        if depth == recordDepth {
            state.pointee.recordDepth = -1
            handler.recordEnded(self)
            return
        }
        handler.elementEnded(self, depth: depth - recordDepth, text: trimmedText())
    }

    private func characters(_ bytes: UnsafePointer<xmlChar>, _ length: Int) {
        guard state.pointee.recordDepth >= 0, length > 0 else { return }
        let needed = state.pointee.textCount + length
        if needed > state.pointee.text.count {
            let grown = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(needed, state.pointee.text.count * 2))
            _ = grown.initialize(from: state.pointee.text[0..<state.pointee.textCount])
            state.pointee.text.deallocate()
            state.pointee.text = grown
        }
        (state.pointee.text.baseAddress! + state.pointee.textCount).update(from: bytes, count: length)
        state.pointee.textCount = needed
    }

    private func trimmedText() -> String? {
        let buffer = UnsafeBufferPointer(rebasing: state.pointee.text[0..<state.pointee.textCount])
        var start = 0
        var end = buffer.count
        @inline(__always) func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D }
        while start < end, isSpace(buffer[start]) { start += 1 }
        while end > start, isSpace(buffer[end - 1]) { end -= 1 }
        guard end > start else { return nil }
        // libxml2 hands out well-formed UTF-8 only.
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
    }

    /// libxml2 describes a file that stops inside an element in several ways, some misleading;
    /// say plainly that it is unfinished. A DOCTYPE or entity problem points at the DOCTYPE.
    private func explained(_ error: XMLError) -> XMLError {
        var explained = error
        let openElements = state.pointee.openElements
        if openElements > 0,
            error.message.hasPrefix("Extra content at the end") || error.message.hasPrefix("Premature end")
                || error.message.hasPrefix("EndTag: '</' not found")
        {
            explained.message = "the file ends while \(openElements) element\(openElements == 1 ? " is" : "s are") still open"
            explained.hint = "the file looks truncated: restore its end, or close the open elements"
        }
        guard explained.message.hasPrefix("DOCTYPE") || explained.message.lowercased().contains("entit"), let path,
            let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        else { return explained }
        return data.withUnsafeBytes { XMLDocument.relocateDoctypeError(explained, in: $0) }
    }
}

private struct SymbolKey: Hashable {
    var local: UnsafeRawPointer
    var uri: UnsafeRawPointer?
}
