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
    /// The text is handed over, so that keeping it costs no retain.
    func elementEnded(_ reader: XMLRecordReader, depth: Int, text: consuming String?)
    /// The record's end tag has been read.
    func recordEnded(_ reader: XMLRecordReader)
}

/// Streams flat records, such as the `<item>`s of a product feed: the fastest way through a large
/// file, in memory bounded by a few chunks.
///
/// Two choices make it fast, both measured on a 204 MB feed (BENCHMARKS.md):
/// - libxml2's SAX2 push parser instead of `xmlTextReader` (which ``XMLStreamReader`` uses): it
///   builds no nodes, about half the parser's cost;
/// - a pipeline: a background thread runs libxml2 and captures each chunk's events as compact
///   records (name symbols, depths, text byte ranges), while the caller's thread turns them into
///   strings and products. At most ``pipelineDepth`` chunks are in flight, so memory stays bounded.
///
/// Same secure options and located errors as the other readers.
///
/// ```swift
/// let reader = try XMLRecordReader(contentsOf: "feed.xml")
/// while try reader.readChunk(into: handler) {}
/// ```
public final class XMLRecordReader {
    /// Bytes handed to libxml2 per call.
    public static let chunkSize = 256 << 10
    /// Chunks parsed ahead of the consumer.
    public static let pipelineDepth = 3

    private let queue = BatchQueue(capacity: XMLRecordReader.pipelineDepth)
    private let path: String?
    public let displayName: String
    private var isFinished = false

    // Consumer-side state.
    private var symbolNames: [XMLName] = []
    private var isRecordSymbol: [Bool?] = []
    private var depth = 0
    private var recordDepth = -1
    private var nextOrdinal = 0

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
        self.path = path
        self.displayName = name
        try SAXProducer.start(source: .file(file), displayName: name, queue: queue)
    }

    /// Streams XML held in memory (tests, small inputs).
    public init(data: Data, displayName: String) throws(XMLError) {
        path = nil
        self.displayName = displayName
        try SAXProducer.start(source: .data(data), displayName: displayName, queue: queue)
    }

    deinit {
        queue.cancel()
    }

    /// Takes the next parsed chunk; `handler` hears about every record event in it. Returns
    /// `false` once the whole document has been read.
    ///
    /// - Throws: ``XMLError`` at the first malformed byte, located by line and column.
    public func readChunk(into handler: any XMLRecordHandler) throws(XMLError) -> Bool {
        guard !isFinished else { return false }
        let batch = queue.take()
        symbolNames += batch.newSymbols
        replay(batch, to: handler)
        if let error = batch.error {
            isFinished = true
            throw explained(error)
        }
        if batch.isLast {
            isFinished = true
            if root == nil {
                throw XMLError(
                    file: displayName, line: 1, column: 1, message: "the document has no root element",
                    hint: "the file is empty or holds no XML")
            }
            return false
        }
        return true
    }

    /// The name behind a symbol.
    public func name(of symbol: Int) -> XMLName { symbolNames[symbol] }

    /// A readable name for messages: `g:price` for Merchant attributes.
    public func displayName(of symbol: Int) -> String {
        let name = symbolNames[symbol]
        return name.namespaceURI == XMLNamespace.googleBase ? "g:\(name.localName)" : name.localName
    }

    /// Exact positions for start tags by ordinal, found in one pass over the file.
    public func positions(ofOrdinals ordinals: Set<Int>) -> [Int: SourcePosition] {
        guard let path else { return [:] }
        return XMLSourceScanner.startTagPositions(ordinals: ordinals, inFile: path)
    }

    // MARK: - Replaying a batch

    private func replay(_ batch: EventBatch, to handler: any XMLRecordHandler) {
        batch.text.withUnsafeBufferPointer { text in
            for event in batch.events {
                if event.isStart {
                    let ordinal = nextOrdinal
                    nextOrdinal += 1
                    depth += 1
                    let symbol = Int(event.symbol)
                    let attributes = event.attributes >= 0 ? batch.attributes[Int(event.attributes)] : []
                    if recordDepth >= 0 {
                        handler.elementStarted(self, symbol: symbol, depth: depth - recordDepth, attributes: attributes)
                        continue
                    }
                    if root == nil {
                        root = XMLElement(name: symbolNames[symbol], attributes: attributes, line: Int(event.line))
                    }
                    if symbol >= isRecordSymbol.count {
                        isRecordSymbol += Array(repeating: nil, count: symbol - isRecordSymbol.count + 1)
                    }
                    let matches = isRecordSymbol[symbol] ?? handler.isRecord(symbolNames[symbol])
                    isRecordSymbol[symbol] = matches
                    guard matches else { continue }
                    recordDepth = depth
                    self.ordinal = ordinal
                    line = Int(event.line)
                    handler.recordStarted(self, attributes: attributes)
                } else {
                    defer { depth -= 1 }
                    guard recordDepth >= 0 else { continue }
                    if depth == recordDepth {
                        recordDepth = -1
                        handler.recordEnded(self)
                        continue
                    }
                    var string: String?
                    if event.textEnd > event.textStart {
                        // Well-formed UTF-8: libxml2 checks text, the producer checks CDATA
                        // (``SAXProducer/cdata(_:)``), and trimming took ASCII blanks only.
                        string = String(knownValidUTF8: UnsafeBufferPointer(rebasing: text[Int(event.textStart)..<Int(event.textEnd)]))
                    }
                    handler.elementEnded(self, depth: depth - recordDepth, text: consume string)
                }
            }
        }
    }

    /// libxml2 describes a file that stops inside an element in several ways, some misleading;
    /// say plainly that it is unfinished. A DOCTYPE or entity problem points at the DOCTYPE.
    private func explained(_ error: XMLError) -> XMLError {
        var explained = error
        if depth > 0,
            error.message.hasPrefix("Extra content at the end") || error.message.hasPrefix("Premature end")
                || error.message.hasPrefix("EndTag: '</' not found")
        {
            explained.message = "the file ends while \(depth) element\(depth == 1 ? " is" : "s are") still open"
            explained.hint = "the file looks truncated: restore its end, or close the open elements"
        }
        guard explained.message.hasPrefix("DOCTYPE") || explained.message.lowercased().contains("entit"), let path,
            let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        else { return explained }
        return data.withUnsafeBytes { XMLDocument.relocateDoctypeError(explained, in: $0) }
    }
}

// MARK: - The producer side

/// One element event, packed small: a start (symbol, line, attributes index) or an end (the byte
/// range of its trimmed text in the batch's text arena).
private struct RawEvent {
    var isStart: Bool
    var symbol: Int32 = 0
    var attributes: Int32 = -1
    var line: Int32 = 0
    var textStart: Int32 = 0
    var textEnd: Int32 = 0
}

/// The events of one parsed chunk.
private struct EventBatch {
    var events: [RawEvent] = []
    var text: [UInt8] = []
    var attributes: [[XMLAttribute]] = []
    /// Names first seen in this chunk, in symbol order.
    var newSymbols: [XMLName] = []
    var error: XMLError?
    var isLast = false
}

/// A bounded hand-over between the parsing thread and the reading thread.
private final class BatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [EventBatch] = []
    private let capacity: Int
    private var isCancelled = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Blocks while the queue is full; returns `false` once the reader has gone away.
    func put(_ batch: EventBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !isCancelled { condition.wait() }
        guard !isCancelled else { return false }
        items.append(batch)
        condition.broadcast()
        return true
    }

    func take() -> EventBatch {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let batch = items.removeFirst()
        condition.broadcast()
        return batch
    }

    func cancel() {
        condition.lock()
        isCancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    var cancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return isCancelled
    }
}

/// Runs libxml2's SAX2 push parser on its own thread and fills ``EventBatch``es. Owns every
/// libxml2 pointer of the record reader; nothing here is touched from another thread.
private final class SAXProducer: @unchecked Sendable {
    enum Source {
        case file(FileHandle)
        case data(Data)
    }

    private var source: Source
    private let displayName: String
    private let queue: BatchQueue
    private var context: UnsafeMutablePointer<xmlParserCtxt>!
    private let callbacks: UnsafeMutablePointer<onbrand_sax_callbacks>
    private let state: UnsafeMutablePointer<State>

    /// Mutated once per SAX event; behind a pointer so that no access pays a dynamic exclusivity check.
    private struct State {
        var batch = EventBatch()
        var textStart = 0
        var symbols: [SymbolKey: Int32] = [:]
        /// Direct-mapped cache in front of `symbols`, indexed by the local name pointer's bits.
        var recent = [(local: UnsafeRawPointer?, uri: UnsafeRawPointer?, symbol: Int32)](repeating: (nil, nil, 0), count: 1024)
        var error: XMLError?
    }

    /// Creates the parser (so setup errors throw here) and starts the parsing thread.
    static func start(source: Source, displayName: String, queue: BatchQueue) throws(XMLError) {
        let producer = SAXProducer(source: source, displayName: displayName, queue: queue)
        guard producer.createParser() else {
            throw XMLError(file: displayName, line: 0, column: 0, message: "libxml2 could not create a parser")
        }
        let thread = Thread { producer.run() }
        thread.name = "onbrand.xml.sax"
        thread.start()
    }

    private init(source: Source, displayName: String, queue: BatchQueue) {
        self.source = source
        self.displayName = displayName
        self.queue = queue
        callbacks = .allocate(capacity: 1)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        if let context { xmlFreeParserCtxt(context) }
        callbacks.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        if case .file(let file) = source { try? file.close() }
    }

    private func createParser() -> Bool {
        _ = LibXMLReader.initialized
        callbacks.initialize(
            to: onbrand_sax_callbacks(
                start: { context, local, uri, count, attributes in
                    SAXProducer.producer(context).started(local, uri, count, attributes)
                },
                end: { context in SAXProducer.producer(context).ended() },
                text: { context, bytes, length in
                    SAXProducer.producer(context).state.pointee.batch.text.append(
                        contentsOf: UnsafeBufferPointer(start: bytes, count: Int(length)))
                },
                cdata: { context, bytes, length in
                    SAXProducer.producer(context).cdata(UnsafeBufferPointer(start: bytes, count: Int(length)))
                },
                doctype: { context in
                    let producer = SAXProducer.producer(context)
                    producer.fail(
                        XMLError(
                            file: producer.displayName, line: producer.currentLine, column: 1,
                            message: "DOCTYPE declarations are not allowed", hint: LibXMLReader.doctypeHint))
                },
                reference: { context, _ in
                    let producer = SAXProducer.producer(context)
                    producer.fail(
                        XMLError(
                            file: producer.displayName, line: producer.currentLine, column: 1,
                            message: "entity references other than the five predefined ones are not allowed",
                            hint: "write the character itself, or a numeric reference such as &#233;"))
                },
                error: { context, message, _, line, column, level, _, code in
                    guard level >= 2 else { return }
                    let producer = SAXProducer.producer(context)
                    let text = message.map { String(cString: $0) }?.trimmingXMLWhitespace() ?? "unknown XML error"
                    producer.fail(
                        XMLError(
                            file: producer.displayName, line: max(Int(line), 1), column: max(Int(column), 1), message: text,
                            hint: XMLErrorHints.hint(forCode: Int(code), message: text)))
                },
                context: Unmanaged.passUnretained(self).toOpaque()))
        context = onbrand_sax_create(callbacks, displayName)
        return context != nil
    }

    private static func producer(_ context: UnsafeMutableRawPointer?) -> SAXProducer {
        Unmanaged<SAXProducer>.fromOpaque(context!).takeUnretainedValue()
    }

    private var currentLine: Int { Int(xmlSAX2GetLineNumber(context)) }

    private func fail(_ error: XMLError) {
        if state.pointee.error == nil { state.pointee.error = error }
        xmlStopParser(context)
    }

    /// The thread's body: parse chunk by chunk until the end, an error, or the reader going away.
    private func run() {
        while !queue.cancelled {
            let chunk: Data
            switch source {
            case .file(let file):
                chunk = (try? file.read(upToCount: XMLRecordReader.chunkSize)) ?? Data()
            case .data(let data):
                chunk = data
                source = .data(Data())
            }
            let isLast = chunk.isEmpty
            state.pointee.batch.events.reserveCapacity(4096)
            chunk.withUnsafeBytes { bytes in
                _ = xmlParseChunk(
                    context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), isLast ? 1 : 0)
            }
            var batch = EventBatch()
            swap(&batch, &state.pointee.batch)
            // Text after the last event of the chunk carries over to the next batch.
            let carried = Array(batch.text[state.pointee.textStart...])
            batch.text.removeSubrange(state.pointee.textStart...)
            state.pointee.batch.text = carried
            state.pointee.textStart = 0
            batch.error = state.pointee.error
            batch.isLast = isLast
            let isDone = isLast || batch.error != nil
            guard queue.put(batch), !isDone else { return }
        }
    }

    // MARK: - SAX events

    private func symbol(_ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?) -> Int32 {
        let localKey = UnsafeRawPointer(local)
        let uriKey = uri.map(UnsafeRawPointer.init)
        let bits = Int(bitPattern: localKey)
        let slot = ((bits >> 3) ^ (bits >> 13)) & 1023
        let recent = state.pointee.recent[slot]
        if recent.local == localKey, recent.uri == uriKey { return recent.symbol }
        let key = SymbolKey(local: localKey, uri: uriKey)
        let symbol: Int32
        if let known = state.pointee.symbols[key] {
            symbol = known
        } else {
            symbol = Int32(state.pointee.symbols.count)
            state.pointee.symbols[key] = symbol
            state.pointee.batch.newSymbols.append(XMLName(String(cString: local), namespace: uri.map { String(cString: $0) }))
        }
        state.pointee.recent[slot] = (localKey, uriKey, symbol)
        return symbol
    }

    private func started(
        _ local: UnsafePointer<xmlChar>, _ uri: UnsafePointer<xmlChar>?, _ count: Int32,
        _ raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        var event = RawEvent(isStart: true, symbol: symbol(local, uri), line: Int32(clamping: currentLine))
        if count > 0, let raw {
            event.attributes = Int32(state.pointee.batch.attributes.count)
            state.pointee.batch.attributes.append(Self.attributes(count, raw))
        }
        state.pointee.batch.events.append(event)
        state.pointee.textStart = state.pointee.batch.text.count
    }

    private func ended() {
        let text = state.pointee.batch.text
        var start = state.pointee.textStart
        var end = text.count
        @inline(__always) func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D }
        while start < end, isSpace(text[start]) { start += 1 }
        while end > start, isSpace(text[end - 1]) { end -= 1 }
        state.pointee.batch.events.append(RawEvent(isStart: false, textStart: Int32(start), textEnd: Int32(end)))
        state.pointee.textStart = text.count
    }

    /// A CDATA section's text, checked as UTF-8 first: in push mode libxml2 lets overlong forms
    /// (`C0 AF`, `E0 80 AF`, `F0 80 80 AF`) through in CDATA, where it rejects them in text, and
    /// element text becomes a `String` without another check (``XMLRecordReader``).
    private func cdata(_ bytes: UnsafeBufferPointer<UInt8>) {
        do {
            _ = try UTF8Span(validating: bytes.span)
        } catch {
            // The parser has read to the end of this block: count back the lines after the bad byte.
            let offset = min(error.byteOffsets.lowerBound, bytes.count)
            let linesAfter = bytes[offset...].reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
            fail(
                XMLError(
                    file: displayName, line: max(currentLine - linesAfter, 1), column: 1,
                    message: "Input is not proper UTF-8: a CDATA section holds a malformed or overlong sequence",
                    hint: XMLErrorHints.hint(forCode: 9, message: "")))
            return
        }
        state.pointee.batch.text.append(contentsOf: bytes)
    }

    private static func attributes(_ count: Int32, _ raw: UnsafeMutablePointer<UnsafePointer<xmlChar>?>) -> [XMLAttribute] {
        (0..<Int(count)).map { index in
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
}

private struct SymbolKey: Hashable {
    var local: UnsafeRawPointer
    var uri: UnsafeRawPointer?
}
