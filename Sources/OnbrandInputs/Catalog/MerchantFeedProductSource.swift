import OnbrandXML

/// Streams `<item>` (RSS 2.0) and `<entry>` (Atom 1.0 and the legacy Atom 0.3 of Google Base)
/// elements from a Merchant Center feed. Fields are matched by namespace URI: Google's
/// `http://base.google.com/ns/1.0` for `g:` attributes, and no namespace (RSS) or Atom for the
/// plain `title`, `description`, `link` forms.
final class MerchantFeedProductSource: ProductSource {
    private let reader: XMLStreamReader
    private let displayName: String
    private var diagnostics = DiagnosticBudget()
    /// Diagnostics whose column waits for one scan of the file: (ordinal, index in `diagnostics`).
    private var pendingColumns: [(ordinal: Int, index: Int)] = []
    private var reportedForeignNamespaces: Set<String> = []

    init(path: String, displayName: String) throws(DiagnosticError) {
        self.displayName = displayName
        do {
            reader = try XMLStreamReader(contentsOf: path, displayName: displayName)
        } catch {
            throw DiagnosticError(Diagnostic(error))
        }
    }

    private static func isProductElement(_ name: XMLName, depth: Int) -> Bool {
        switch name.localName {
        case "item": name.namespaceURI == nil
        case "entry": name.namespaceURI == XMLNamespace.atom || name.namespaceURI == XMLNamespace.atom03
        default: false
        }
    }

    func next() throws(DiagnosticError) -> Product? {
        while true {
            let element: XMLElement?
            do {
                element = try reader.nextElement(where: Self.isProductElement)
            } catch {
                throw DiagnosticError(resolvedDiagnostics() + [Diagnostic(error)])
            }
            guard let element else {
                if reader.root != nil, reader.ordinal == 0, let root = reader.root, !Self.isFeedRoot(root.name) {
                    report(
                        "<\(root.qualifiedName)> is not a Merchant Center feed: expected <rss> with <item>s or an Atom <feed> with <entry>s",
                        hint: "check that this is the catalog you meant", ordinal: 0, line: root.line)
                }
                return nil
            }
            if let product = product(from: element) { return product }
        }
    }

    private static func isFeedRoot(_ name: XMLName) -> Bool {
        (name.localName == "rss" && name.namespaceURI == nil) || name.localName == "feed"
    }

    private func product(from item: XMLElement) -> Product? {
        var fields = ProductFields()
        var atomID: String?
        var guid: String?
        for child in item.elements {
            let namespace = child.namespaceURI
            let isAtom = namespace == XMLNamespace.atom || namespace == XMLNamespace.atom03
            guard namespace == XMLNamespace.googleBase || namespace == nil || isAtom else {
                reportForeignNamespace(child, ordinal: reader.ordinal)
                fields.addExtra(child.qualifiedName, child.text)
                continue
            }
            let name = child.localName
            // Plain RSS and Atom elements whose Merchant meaning differs from their name.
            if namespace != XMLNamespace.googleBase {
                switch name {
                case "id" where isAtom:
                    atomID = child.trimmedText
                    continue
                case "guid":
                    guid = child.trimmedText
                    continue
                case "summary", "content":
                    fields.set("description", child.text)
                    continue
                case "link" where isAtom || child.attribute("href") != nil:
                    if child.attribute("rel") ?? "alternate" == "alternate", let href = child.attribute("href") {
                        fields.set("link", href)
                    }
                    continue
                case "title", "description", "link":
                    break
                default:
                    if !child.elements.isEmpty {
                        addFlattened(child, prefix: name, to: &fields)
                    } else {
                        fields.addExtra(name, child.text)
                    }
                    continue
                }
            }
            switch name {
            case "product_detail":
                fields.addDetail(
                    section: gText(child, "section_name"), name: gText(child, "attribute_name"),
                    value: gText(child, "attribute_value"))
            case "shipping":
                fields.addShipping(
                    country: gText(child, "country"), region: gText(child, "region"), service: gText(child, "service"),
                    price: gText(child, "price"))
            default:
                if child.elements.isEmpty {
                    fields.set(name, child.text)
                } else {
                    addFlattened(child, prefix: name, to: &fields)
                }
            }
        }
        if fields.id == nil, let fallback = atomID ?? guid { fields.set("id", fallback) }
        let product = fields.build()
        for problem in fields.problems {
            report(problem.message, hint: problem.hint, ordinal: reader.ordinal, line: item.line)
        }
        guard let product else {
            report(
                "<\(item.qualifiedName)> has no product ID", hint: "add <g:id> with a unique identifier",
                ordinal: reader.ordinal, line: item.line)
            return nil
        }
        if let problem = FileNameSafety.problem(with: product.id) {
            report(
                "product ID \"\(product.id)\" is unsafe as a file name: \(problem)",
                hint: "it is kept as data; output files use a sanitised name", severity: .warning,
                ordinal: reader.ordinal, line: item.line)
        }
        return product
    }

    private func gText(_ element: XMLElement, _ name: String) -> String? {
        (element.firstElement(name, namespace: XMLNamespace.googleBase) ?? element.firstElement(name))?.text
    }

    private func addFlattened(_ element: XMLElement, prefix: String, to fields: inout ProductFields) {
        for child in element.elements {
            let name = "\(prefix).\(child.localName)"
            if child.elements.isEmpty { fields.addExtra(name, child.text) } else { addFlattened(child, prefix: name, to: &fields) }
        }
    }

    private func reportForeignNamespace(_ element: XMLElement, ordinal: Int) {
        let namespace = element.namespaceURI ?? ""
        guard reportedForeignNamespaces.insert(namespace).inserted else { return }
        if element.qualifiedName.hasPrefix("g:") {
            report(
                "<\(element.qualifiedName)> is in namespace \"\(namespace)\", not Merchant Center's",
                hint: "declare xmlns:g=\"\(XMLNamespace.googleBase)\" on the root element", severity: .error,
                ordinal: ordinal, line: element.line)
        } else {
            report(
                "elements in namespace \"\(namespace)\" are not Merchant Center attributes; they are kept as extra attributes",
                hint: "use the g: namespace \(XMLNamespace.googleBase) for product attributes", severity: .warning,
                ordinal: ordinal, line: element.line)
        }
    }

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
