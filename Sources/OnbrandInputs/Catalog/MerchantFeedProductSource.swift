import OnbrandXML

/// Streams `<item>` (RSS 2.0) and `<entry>` (Atom 1.0 and the legacy Atom 0.3 of Google Base)
/// elements from a Merchant Center feed. Fields are matched by namespace URI: Google's
/// `http://base.google.com/ns/1.0` for `g:` attributes, and no namespace (RSS) or Atom for the
/// plain `title`, `description`, `link` forms.
final class MerchantFeedProductSource: ProductSource {
    private let reader: XMLRecordReader
    private let displayName: String
    private var diagnostics = DiagnosticBudget()
    /// Diagnostics whose column waits for one scan of the file: (ordinal, index in `diagnostics`).
    private var pendingColumns: [(ordinal: Int, index: Int)] = []
    private var reportedForeignNamespaces: Set<String> = []
    /// What each symbol means as a product field, worked out once per distinct name.
    private var fieldKinds: [FieldKind?] = []
    private var records = 0

    /// How a child element of an item is read.
    private enum FieldKind {
        /// A Merchant attribute (from `g:`, or a plain RSS element of the same name); the
        /// attribute is `nil` for names Onbrand keeps as extra attributes.
        case merchant(MerchantAttribute?, String)
        /// A plain RSS or Atom element whose Merchant meaning differs from its name.
        case atomID, guid, summary, atomLink
        /// An element in another namespace, kept as an extra attribute.
        case foreign(String)
    }

    init(path: String, displayName: String) throws(DiagnosticError) {
        self.displayName = displayName
        do {
            reader = try XMLRecordReader(contentsOf: path, displayName: displayName)
        } catch {
            throw DiagnosticError(Diagnostic(error))
        }
    }

    private static func isProductElement(_ name: XMLName) -> Bool {
        switch name.localName {
        case "item": name.namespaceURI == nil
        case "entry": name.namespaceURI == XMLNamespace.atom || name.namespaceURI == XMLNamespace.atom03
        default: false
        }
    }

    private func kind(of symbol: Int) -> FieldKind {
        if symbol < fieldKinds.count, let kind = fieldKinds[symbol] { return kind }
        let name = reader.name(of: symbol)
        let isAtom = name.namespaceURI == XMLNamespace.atom || name.namespaceURI == XMLNamespace.atom03
        let kind: FieldKind
        switch name.namespaceURI {
        case XMLNamespace.googleBase?:
            kind = .merchant(MerchantAttribute(rawValue: name.localName), name.localName)
        case nil where name.localName == "guid":
            kind = .guid
        case _ where isAtom && name.localName == "id":
            kind = .atomID
        case _ where (isAtom || name.namespaceURI == nil) && (name.localName == "summary" || name.localName == "content"):
            kind = .summary
        case _ where isAtom && name.localName == "link":
            kind = .atomLink
        default:
            kind =
                name.namespaceURI == nil || isAtom
                ? .merchant(MerchantAttribute(rawValue: name.localName), name.localName) : .foreign(name.namespaceURI ?? "")
        }
        if symbol >= fieldKinds.count { fieldKinds += Array(repeating: nil, count: symbol - fieldKinds.count + 1) }
        fieldKinds[symbol] = kind
        return kind
    }

    func next() throws(DiagnosticError) -> Product? {
        while true {
            var fields = ProductFields()
            var atomID: String?
            var guid: String?
            // The open child of the item (depth 1) and, inside it, the open grandchild (depth 2).
            var field = -1
            var fieldText = ""
            var fieldAttributes: [XMLAttribute] = []
            var nested: [(name: String, text: String)] = []
            var nestedName: String?
            var nestedText = ""
            var depth = 0
            let found: Bool
            do {
                found = try reader.nextRecord(where: Self.isProductElement) { event in
                    switch event {
                    case .start(let symbol, let level, let attributes):
                        depth = level
                        if level == 1 {
                            field = symbol
                            fieldText = ""
                            fieldAttributes = attributes
                            nested.removeAll(keepingCapacity: true)
                        } else if level == 2 {
                            nestedName = reader.name(of: symbol).localName
                            nestedText = ""
                        }
                    case .text(let text):
                        if depth == 1 {
                            fieldText = fieldText.isEmpty ? text : fieldText + " " + text
                        } else if depth == 2 {
                            nestedText = nestedText.isEmpty ? text : nestedText + " " + text
                        }
                    case .end(let level):
                        depth = level - 1
                        if level == 2, let name = nestedName {
                            nested.append((name, nestedText))
                            nestedName = nil
                        } else if level == 1, field >= 0 {
                            finishField(
                                field, text: fieldText, attributes: fieldAttributes, nested: nested, into: &fields,
                                atomID: &atomID, guid: &guid)
                            field = -1
                        }
                    }
                }
            } catch {
                throw DiagnosticError(resolvedDiagnostics() + [Diagnostic(error)])
            }
            guard found else {
                if records == 0, let root = reader.root, !Self.isFeedRoot(root.name) {
                    report(
                        "<\(root.qualifiedName)> is not a Merchant Center feed: expected <rss> with <item>s or an Atom <feed> with <entry>s",
                        hint: "check that this is the catalog you meant", ordinal: 0, line: root.line)
                }
                return nil
            }
            records += 1
            if fields.id == nil, let fallback = atomID ?? guid { fields.set("id", fallback) }
            if let product = finish(&fields) { return product }
        }
    }

    private func finishField(
        _ symbol: Int, text: String, attributes: [XMLAttribute], nested: [(name: String, text: String)],
        into fields: inout ProductFields, atomID: inout String?, guid: inout String?
    ) {
        switch kind(of: symbol) {
        case .atomID: atomID = text.isEmpty ? nil : text
        case .guid: guid = text.isEmpty ? nil : text
        case .summary: fields.set("description", text)
        case .atomLink:
            let rel = attributes.first { $0.name.localName == "rel" }?.value ?? "alternate"
            if rel == "alternate", let href = attributes.first(where: { $0.name.localName == "href" })?.value {
                fields.set("link", href)
            }
        case .foreign(let namespace):
            reportForeignNamespace(symbol, namespace: namespace)
            fields.addExtra(reader.displayName(of: symbol), text)
        case .merchant(let attribute, let name):
            if nested.isEmpty {
                if attribute == .link, text.isEmpty, let href = attributes.first(where: { $0.name.localName == "href" })?.value {
                    fields.set(.link, href)
                } else if let attribute {
                    fields.set(attribute, text)
                } else {
                    fields.addExtra(name, text)
                }
                return
            }
            func value(_ key: String) -> String? { nested.first { $0.name == key }?.text }
            switch name {
            case "product_detail":
                fields.addDetail(section: value("section_name"), name: value("attribute_name"), value: value("attribute_value"))
            case "shipping":
                fields.addShipping(country: value("country"), region: value("region"), service: value("service"), price: value("price"))
            default:
                for entry in nested { fields.addExtra("\(name).\(entry.name)", entry.text) }
            }
        }
    }

    private func finish(_ fields: inout ProductFields) -> Product? {
        let product = fields.build()
        let item = reader.recordElement
        for problem in fields.problems {
            report(problem.message, hint: problem.hint, ordinal: reader.ordinal, line: reader.line)
        }
        guard let product else {
            report(
                "<\(item?.qualifiedName ?? "item")> has no product ID", hint: "add <g:id> with a unique identifier",
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
