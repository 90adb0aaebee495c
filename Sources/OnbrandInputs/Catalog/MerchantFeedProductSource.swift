import OnbrandXML

/// Streams `<item>` (RSS 2.0) and `<entry>` (Atom 1.0 and the legacy Atom 0.3 of Google Base)
/// elements from a Merchant Center feed. Fields are matched by namespace URI: Google's
/// `http://base.google.com/ns/1.0` for `g:` attributes, and no namespace (RSS) or Atom for the
/// plain `title`, `description`, `link` forms.
final class MerchantFeedProductSource: ProductSource, XMLRecordHandler {
    private let reader: XMLRecordReader
    private let displayName: String
    private var diagnostics = DiagnosticBudget()
    /// Diagnostics whose column waits for one scan of the file: (ordinal, index in `diagnostics`).
    private var pendingColumns: [(ordinal: Int, index: Int)] = []
    private var reportedForeignNamespaces: Set<String> = []
    private var records = 0
    /// The record being read. Behind a pointer because its methods run once per field: class
    /// properties would pay a dynamic exclusivity check on every access.
    private let builder: UnsafeMutablePointer<MerchantRecordBuilder>
    /// Products finished in the last chunk, handed out one at a time by ``next()``.
    private var ready: [Product] = []
    private var readyIndex = 0

    init(path: String, displayName: String) throws(DiagnosticError) {
        self.displayName = displayName
        do {
            reader = try XMLRecordReader(contentsOf: path, displayName: displayName)
        } catch {
            throw DiagnosticError(Diagnostic(error))
        }
        builder = .allocate(capacity: 1)
        builder.initialize(to: MerchantRecordBuilder())
    }

    deinit {
        builder.deinitialize(count: 1)
        builder.deallocate()
    }

    func isRecord(_ name: XMLName) -> Bool {
        switch name.localName {
        case "item": name.namespaceURI == nil
        case "entry": name.namespaceURI == XMLNamespace.atom || name.namespaceURI == XMLNamespace.atom03
        default: false
        }
    }

    func next() throws(DiagnosticError) -> Product? {
        while readyIndex >= ready.count {
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            let more: Bool
            do {
                more = try reader.readChunk(into: self)
            } catch {
                throw DiagnosticError(resolvedDiagnostics() + [Diagnostic(error)])
            }
            if !more, ready.isEmpty {
                if records == 0, let root = reader.root, !Self.isFeedRoot(root.name) {
                    report(
                        "<\(root.localName)> is not a Merchant Center feed: expected <rss> with <item>s or an Atom <feed> with <entry>s",
                        hint: "check that this is the catalog you meant", ordinal: 0, line: root.line)
                }
                return nil
            }
        }
        defer { readyIndex += 1 }
        var product = Product(id: "")
        swap(&product, &ready[readyIndex])
        return product
    }

    // MARK: - Record events

    func recordStarted(_ reader: XMLRecordReader, attributes: [XMLAttribute]) {
        builder.pointee.start()
    }

    func elementStarted(_ reader: XMLRecordReader, symbol: Int, depth: Int, attributes: [XMLAttribute]) {
        builder.pointee.elementStarted(reader, symbol: symbol, depth: depth, attributes: attributes)
    }

    func elementEnded(_ reader: XMLRecordReader, depth: Int, text: consuming String?) {
        if let foreign = builder.pointee.elementEnded(reader, depth: depth, text: consume text) {
            reportForeignNamespace(foreign.symbol, namespace: foreign.namespace)
        }
    }

    func recordEnded(_ reader: XMLRecordReader) {
        records += 1
        if let product = builder.pointee.finishRecord({ finish(&$0) }) { ready.append(product) }
    }

    private func finish(_ fields: inout ProductFields) -> Product? {
        let product = fields.build()
        for problem in fields.problems {
            report(problem.message, hint: problem.hint, ordinal: reader.ordinal, line: reader.line)
        }
        guard let product else {
            report(
                "<\(reader.root?.localName == "feed" ? "entry" : "item")> has no product ID", hint: "add <g:id> with a unique identifier",
                ordinal: reader.ordinal, line: reader.line)
            return nil
        }
        if let problem = FileNameSafety.problem(with: product.id) {
            report(
                "product ID \"\(product.id)\" is unsafe as a file name: \(problem)",
                hint: "it is kept as data; output files use a sanitised name", severity: .warning,
                ordinal: reader.ordinal, line: reader.line)
        }
        return product
    }

    private static func isFeedRoot(_ name: XMLName) -> Bool {
        (name.localName == "rss" && name.namespaceURI == nil) || name.localName == "feed"
    }

    private func reportForeignNamespace(_ symbol: Int, namespace: String) {
        guard reportedForeignNamespaces.insert(namespace).inserted else { return }
        let shown = reader.displayName(of: symbol)
        let name = reader.name(of: symbol)
        if Self.merchantNames.contains(name.localName) {
            report(
                "<\(shown)> is in namespace \"\(namespace)\", not Merchant Center's \(XMLNamespace.googleBase)",
                hint: "declare xmlns:g=\"\(XMLNamespace.googleBase)\" on the root element", severity: .error,
                ordinal: reader.ordinal, line: reader.line)
        } else {
            report(
                "elements in namespace \"\(namespace)\" are not Merchant Center attributes; they are kept as extra attributes",
                hint: "use the g: namespace \(XMLNamespace.googleBase) for product attributes", severity: .warning,
                ordinal: reader.ordinal, line: reader.line)
        }
    }

    /// Attribute names that, in a foreign namespace, almost surely mean a mistyped `xmlns:g`.
    private static let merchantNames: Set<String> = ProductFields.knownNames.union(["id", "title", "price"])

    private func report(
        _ message: String, hint: String, severity: Diagnostic.Severity = .error, ordinal: Int, line: Int
    ) {
        diagnostics.append(
            Diagnostic(severity, message, at: SourceLocation(file: displayName, line: line, column: nil), hint: hint))
        if diagnostics.kept.count <= DiagnosticBudget.limit {
            pendingColumns.append((ordinal, diagnostics.kept.count - 1))
        }
    }

    func resolvedDiagnostics() -> [Diagnostic] {
        var kept = diagnostics.all(file: displayName)
        if !pendingColumns.isEmpty {
            let positions = reader.positions(ofOrdinals: Set(pendingColumns.map(\.ordinal)))
            for pending in pendingColumns {
                guard let position = positions[pending.ordinal], pending.index < kept.count else { continue }
                kept[pending.index].location?.line = position.line
                kept[pending.index].location?.column = position.column
            }
        }
        return kept
    }
}

/// Builds one product from the events of one feed record.
struct MerchantRecordBuilder {
    /// How a child element of an item is read. Plain data, so that reading a field's kind
    /// retains nothing: names and namespaces are read from the reader when needed.
    enum FieldKind {
        /// A Merchant attribute (from `g:`, or a plain RSS element of the same name).
        case merchant(MerchantAttribute)
        /// A name Onbrand keeps as an extra attribute (or a nested one, such as `shipping_label`).
        case extra
        /// A plain RSS or Atom element whose Merchant meaning differs from its name.
        case atomID, guid, summary, atomLink
        /// An element in another namespace, kept as an extra attribute.
        case foreign
    }

    /// What each symbol means as a product field, worked out once per distinct name.
    private var fieldKinds: [FieldKind?] = []
    // The record so far, and its open child (depth 1) and grandchild (depth 2).
    private var fields = ProductFields()
    private var atomID: String?
    private var guid: String?
    private var field = -1
    private var fieldAttributes: [XMLAttribute] = []
    /// The open field's children so far, by symbol, with what `product_detail` and `shipping`
    /// read them as: names are looked up once per distinct symbol, not once per child.
    private var nested: [(symbol: Int, key: NestedKey?, text: String)] = []
    private var nestedSymbol = -1
    private var nestedKeys: [NestedKey??] = []

    /// The children of `product_detail` and `shipping` that Onbrand reads.
    enum NestedKey: String {
        case sectionName = "section_name", attributeName = "attribute_name", attributeValue = "attribute_value"
        case country, region, service, price
    }

    mutating func start() {
        atomID = nil
        guid = nil
        field = -1
    }

    mutating func elementStarted(_ reader: XMLRecordReader, symbol: Int, depth: Int, attributes: [XMLAttribute]) {
        if depth == 2 { nestedSymbol = symbol }
        guard depth == 1 else { return }
        field = symbol
        // Most fields have no attributes: no retain and release of the empty array for them.
        if !attributes.isEmpty || !fieldAttributes.isEmpty { fieldAttributes = attributes }
        // Most fields have no children: emptying an empty array still cost a generic call.
        if !nested.isEmpty { nested.removeAll(keepingCapacity: true) }
    }

    /// Returns the symbol and namespace of a field in a foreign namespace, for the caller to report.
    mutating func elementEnded(_ reader: XMLRecordReader, depth: Int, text: consuming String?) -> (symbol: Int, namespace: String)? {
        if depth == 2, let text, field >= 0 {
            nested.append((nestedSymbol, nestedKey(reader, of: nestedSymbol), text))
        } else if depth == 1, field >= 0 {
            defer { field = -1 }
            return finishField(reader, field, text: text ?? "")
        }
        return nil
    }

    /// Lends `body` the fields of the finished record, then clears them for the next one in
    /// place (made afresh and destroyed, they cost a thousand instructions a product).
    mutating func finishRecord(_ body: (inout ProductFields) -> Product?) -> Product? {
        if fields.id == nil, let fallback = atomID ?? guid { fields.set(.id, fallback) }
        defer { fields.clearForNextRecord() }
        return body(&fields)
    }

    private mutating func nestedKey(_ reader: XMLRecordReader, of symbol: Int) -> NestedKey? {
        if symbol < nestedKeys.count, let key = nestedKeys[symbol] { return key }
        let key = NestedKey(rawValue: reader.name(of: symbol).localName)
        if symbol >= nestedKeys.count { nestedKeys += Array(repeating: nil, count: symbol - nestedKeys.count + 1) }
        nestedKeys[symbol] = .some(key)
        return key
    }

    private mutating func kind(_ reader: XMLRecordReader, of symbol: Int) -> FieldKind {
        if symbol < fieldKinds.count, let kind = fieldKinds[symbol] { return kind }
        let name = reader.name(of: symbol)
        let isAtom = name.namespaceURI == XMLNamespace.atom || name.namespaceURI == XMLNamespace.atom03
        let kind: FieldKind
        switch name.namespaceURI {
        case XMLNamespace.googleBase?:
            kind = MerchantAttribute(rawValue: name.localName).map { .merchant($0) } ?? .extra
        case nil where name.localName == "guid":
            kind = .guid
        case _ where isAtom && name.localName == "id":
            kind = .atomID
        case _ where (isAtom || name.namespaceURI == nil) && (name.localName == "summary" || name.localName == "content"):
            kind = .summary
        case _ where isAtom && name.localName == "link":
            kind = .atomLink
        default:
            kind = name.namespaceURI == nil || isAtom ? MerchantAttribute(rawValue: name.localName).map { .merchant($0) } ?? .extra : .foreign
        }
        if symbol >= fieldKinds.count { fieldKinds += Array(repeating: nil, count: symbol - fieldKinds.count + 1) }
        fieldKinds[symbol] = kind
        return kind
    }

    private mutating func finishField(_ reader: XMLRecordReader, _ symbol: Int, text: consuming String) -> (symbol: Int, namespace: String)? {
        switch kind(reader, of: symbol) {
        case .atomID: atomID = text.isEmpty ? nil : text
        case .guid: guid = text.isEmpty ? nil : text
        case .summary: fields.set(.description, text)
        case .atomLink:
            let rel = fieldAttributes.first { $0.name.localName == "rel" }?.value ?? "alternate"
            if rel == "alternate", let href = fieldAttributes.first(where: { $0.name.localName == "href" })?.value {
                fields.set(.link, href)
            }
        case .foreign:
            fields.addExtra(reader.displayName(of: symbol), text)
            return (symbol, reader.name(of: symbol).namespaceURI ?? "")
        case .merchant(let attribute) where nested.isEmpty:
            if attribute == .link, text.isEmpty, let href = fieldAttributes.first(where: { $0.name.localName == "href" })?.value {
                fields.set(.link, href)
            } else {
                fields.set(attribute, text)
            }
        case .extra where nested.isEmpty:
            fields.addExtra(reader.name(of: symbol).localName, text)
        case .merchant, .extra:
            func value(_ key: NestedKey) -> String? { nested.first { $0.key == key }?.text }
            switch kind(reader, of: symbol) {
            case .merchant(.productDetail):
                fields.addDetail(section: value(.sectionName), name: value(.attributeName), value: value(.attributeValue))
            case .merchant(.shipping):
                fields.addShipping(country: value(.country), region: value(.region), service: value(.service), price: value(.price))
            default:
                let name = reader.name(of: symbol).localName
                for entry in nested { fields.addExtra("\(name).\(reader.name(of: entry.symbol).localName)", entry.text) }
            }
        }
        return nil
    }
}
