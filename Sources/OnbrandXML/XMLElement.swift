/// An element's name, compared by namespace URI and local name, never by prefix.
public struct XMLName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace URI, or `nil` for an element in no namespace.
    public var namespaceURI: String?
    public var localName: String

    public init(_ localName: String, namespace namespaceURI: String? = nil) {
        self.localName = localName
        self.namespaceURI = namespaceURI
    }

    public var description: String {
        namespaceURI.map { "{\($0)}\(localName)" } ?? localName
    }
}

/// Namespace URIs that Onbrand's inputs use.
public enum XMLNamespace {
    /// Google Merchant Center (`g:`).
    public static let googleBase = "http://base.google.com/ns/1.0"
    /// Atom 1.0.
    public static let atom = "http://www.w3.org/2005/Atom"
    /// Atom 0.3, used by legacy Google Base feeds.
    public static let atom03 = "http://purl.org/atom/ns#"
}

/// An attribute of an ``XMLElement``.
public struct XMLAttribute: Sendable, Hashable {
    public var name: XMLName
    public var value: String

    public init(name: XMLName, value: String) {
        self.name = name
        self.value = value
    }
}

/// One element of a parsed document, as a plain value: no libxml2 pointer survives the parse.
public struct XMLElement: Sendable, Hashable {
    /// A child of an element: another element, or a run of text (CDATA included).
    public enum Child: Sendable, Hashable {
        case element(XMLElement)
        case text(String)
    }

    public var name: XMLName
    /// The name as written, prefix included, for messages (`g:price`).
    public var qualifiedName: String
    public var attributes: [XMLAttribute]
    public var children: [Child]
    /// Where the start tag is (1-based). `column` is 0 where it has not been resolved.
    public var line: Int
    public var column: Int

    public init(
        name: XMLName,
        qualifiedName: String? = nil,
        attributes: [XMLAttribute] = [],
        children: [Child] = [],
        line: Int = 0,
        column: Int = 0
    ) {
        self.name = name
        self.qualifiedName = qualifiedName ?? name.localName
        self.attributes = attributes
        self.children = children
        self.line = line
        self.column = column
    }

    public var localName: String { name.localName }
    public var namespaceURI: String? { name.namespaceURI }

    /// The child elements, in document order.
    public var elements: [XMLElement] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }

    /// All text directly inside this element, concatenated (child elements' text excluded).
    public var text: String {
        var result = ""
        for case .text(let text) in children { result += text }
        return result
    }

    /// ``text`` with leading and trailing white space removed; `nil` when nothing is left.
    public var trimmedText: String? {
        let trimmed = text.trimmingXMLWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The value of the attribute with this local name and namespace (no namespace by default).
    public func attribute(_ localName: String, namespace: String? = nil) -> String? {
        attributes.first { $0.name.localName == localName && $0.name.namespaceURI == namespace }?.value
    }

    /// The first child element with this local name in this namespace.
    public func firstElement(_ localName: String, namespace: String? = nil) -> XMLElement? {
        for case .element(let element) in children
        where element.name.localName == localName && element.name.namespaceURI == namespace {
            return element
        }
        return nil
    }

    /// Every child element with this local name in this namespace.
    public func elements(_ localName: String, namespace: String? = nil) -> [XMLElement] {
        elements.filter { $0.name.localName == localName && $0.name.namespaceURI == namespace }
    }
}

extension String {
    /// Trims the four XML white-space characters (space, tab, CR, LF) and, for text from
    /// real feeds, any other Unicode white space at the ends.
    public func trimmingXMLWhitespace() -> String {
        // Fast path: nothing to trim when both ends are visible ASCII.
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 {
            return self
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
